# Contributor commands. Each target is one command (or a few) that can also
# be run by hand; .ci/run runs them all, and more, as CI.
#
#   make test          go test ./... (the integration tests skip without a server)
#   make race          the same under the race detector
#   make fuzz          every fuzz target for FUZZTIME (default 20000 inputs) each
#   make bench         the benchmarks, COUNT runs each, into bench.txt (compare two
#                      runs with benchstat: go run golang.org/x/perf/cmd/benchstat@latest)
#   make integration   start a throw-away MLflow server (scripts/mlflow-server.sh),
#                      run the suite against it (MLERR_TEST_MLFLOW_URI), stop it
#   make nouserserver  prove that go test ./... never connects to MLFLOW_TRACKING_URI
#   make api-check     the API compatibility check (golang.org/x/exp/apidiff)
#   make api           rewrite the listings api/*.txt after changing the exported API
#   make api-baseline  record the current API as the baseline (after a release)
#   make lint          gofmt, go vet, staticcheck
.PHONY: test race fuzz bench integration nouserserver api-check api api-baseline lint

GO ?= go
FUZZTIME ?= 20000x
COUNT ?= 6
BENCH ?= .
PKGS ?= ./...
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Where make integration keeps its server (removed afterwards).
MLFLOW_STATE ?= $(CURDIR)/.mlflow-integration

test:
	$(GO) test ./...

race:
	$(GO) test -race ./...

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do \
	    echo "--- $$target ($$pkg)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) ./... | tee bench.txt

integration:
	@set -e; \
	trap 'MLFLOW_STATE_DIR="$(MLFLOW_STATE)" scripts/mlflow-server.sh clean >/dev/null 2>&1 || true' EXIT; \
	uri=$$(MLFLOW_STATE_DIR="$(MLFLOW_STATE)" scripts/mlflow-server.sh start | sed -n 's/^MLFLOW_TRACKING_URI=//p'); \
	echo "MLERR_TEST_MLFLOW_URI=$$uri"; \
	MLERR_TEST_MLFLOW_URI=$$uri $(GO) test -count=1 $(PKGS)

nouserserver:
	$(GO) run ./internal/conncount -- $(GO) test -count=1 ./...

api-check:
	cd tools/apicheck && $(GO) run . -root ../..

api:
	cd tools/apicheck && $(GO) run . -root ../.. -listing

api-baseline:
	cd tools/apicheck && $(GO) run . -root ../.. -baseline

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
