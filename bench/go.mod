module github.com/mlerr/mlerr/bench

go 1.24

replace github.com/mlerr/mlerr => ../

require (
	github.com/avast/retry-go/v5 v5.1.1
	github.com/cenkalti/backoff/v5 v5.0.3
	github.com/failsafe-go/failsafe-go v0.9.8
	github.com/mlerr/mlerr v0.0.0-00010101000000-000000000000
)

require github.com/bits-and-blooms/bitset v1.24.4 // indirect
