package mlerr_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/stretchr/testify/assert"
)

// TestLoggedEvents: KeepTraining and CompleteDataOrStop log a recovered
// connection as good news (Info, its message, no code), every other event
// with its error.
func TestLoggedEvents(t *testing.T) {
	tests := []struct {
		name    string
		cb      func(mlerr.Callbacks) mlerr.Callback
		err     error
		want    []string
		wantNot []string
	}{
		{name: "recovered", cb: func(c mlerr.Callbacks) mlerr.Callback { return c.OnWarning },
			err:     mlerr.ErrRecovered.Errorf("the backend answers again after 2s down"),
			want:    []string{"level=INFO", `msg="mlerr: the backend answers again after 2s down"`, "kind=ConnectionRecovered"},
			wantNot: []string{"TEMPORARILY_UNAVAILABLE", "err="}},
		{name: "another warning", cb: func(c mlerr.Callbacks) mlerr.Callback { return c.OnWarning },
			err:  mlerr.ErrRunConflicting.Errorf("run r is named a"),
			want: []string{"level=WARN", "msg=\"mlerr: OnWarning\"", "RESOURCE_CONFLICT: run r is named a", "kind=RunConflicting"}},
		{name: "an outage", cb: func(c mlerr.Callbacks) mlerr.Callback { return c.OnNetworkError },
			err:  mlerr.ErrNetwork.Errorf("unreachable"),
			want: []string{"level=WARN", "msg=\"mlerr: OnNetworkError\"", "unreachable"}},
	}
	for _, tt := range tests {
		for strategy, newCallbacks := range map[string]func(*slog.Logger) mlerr.Callbacks{
			"KeepTraining":       mlerr.KeepTraining,
			"CompleteDataOrStop": func(l *slog.Logger) mlerr.Callbacks { return mlerr.CompleteDataOrStop(l, nil) },
		} {
			t.Run(strategy+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				tt.cb(newCallbacks(slog.New(slog.NewTextHandler(&buf, nil))))(tt.err, time.Unix(0, 0))
				for _, w := range tt.want {
					assert.Contains(t, buf.String(), w)
				}
				for _, w := range tt.wantNot {
					assert.NotContains(t, buf.String(), w)
				}
			})
		}
	}
}
