package grpcerr_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// loopback servers and client connections are all stopped by the tests'
// cleanups.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
