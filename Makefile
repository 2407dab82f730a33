# Contributor commands. Each target is one command you can also run by hand.
.PHONY: test race api-check api api-baseline

GO ?= go

test:
	$(GO) test ./...

race:
	$(GO) test -race ./...

# The API check: golang.org/x/exp/apidiff against api/baseline (tools/apicheck
# is a module of its own, so x/exp never enters the library's go.mod).
api-check:
	cd tools/apicheck && $(GO) run . -root ../..

# Rewrite the readable listings api/*.txt after changing the exported API.
api:
	cd tools/apicheck && $(GO) run . -root ../.. -listing

# Record the current API as the baseline that api-check compares with (after
# a release, or when the lead accepts the current API).
api-baseline:
	cd tools/apicheck && $(GO) run . -root ../.. -baseline
