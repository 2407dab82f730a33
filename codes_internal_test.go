package mlerr

import "testing"

func TestRetryClasses(t *testing.T) {
	for c, want := range map[Code]retryClass{
		CodeInternalError:         retryTransient,
		CodeResourceExhausted:     retryThrottled,
		CodeRequestLimitExceeded:  retryThrottled,
		CodeInvalidParameterValue: retryNever,
		Code(4242):                retryNever,
	} {
		if got := c.retry(); got != want {
			t.Errorf("%s: retry class %s, want %s", c, got, want)
		}
	}
	for class, name := range map[retryClass]string{retryNever: "never", retryTransient: "transient", retryThrottled: "throttled"} {
		if class.String() != name {
			t.Errorf("%d: %q, want %q", class, class.String(), name)
		}
	}
}
