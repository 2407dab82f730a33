package mlerr

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{now.Add(-time.Second).Format(http.TimeFormat), 0, true},
		{now.Add(time.Second).Format(http.TimeFormat), time.Second, true},
		{"-1", 0, false},
		{"3s", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.value, now)
		assert.Equal(t, tt.want, got, tt.value)
		assert.Equal(t, tt.ok, ok, tt.value)
	}
}
