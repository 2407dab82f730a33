package testserver

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fakeTB records what need does instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }
func (f *fakeTB) Setenv(k, v string)    {}

func TestNeed(t *testing.T) {
	tests := []struct {
		name, value, require string
		want                 string
		skipped, failed      bool
	}{
		{name: "set", value: "http://127.0.0.1:5000/", want: "http://127.0.0.1:5000"},
		{name: "set, required", value: "http://h", require: "1", want: "http://h"},
		{name: "unset skips", skipped: true},
		{name: "blank skips", value: "  ", skipped: true},
		{name: "unset fails when required", require: "1", failed: true},
		{name: "require other than 1 skips", require: "yes", skipped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvMLflowURI, tt.value)
			t.Setenv(EnvRequire, tt.require)
			f := &fakeTB{}
			got := MLflowURI(f)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.skipped, f.skipped, "skipped")
			assert.Equal(t, tt.failed, f.failed, "failed")
		})
	}
}

func TestIsolate(t *testing.T) {
	for _, v := range userVars {
		t.Setenv(v, "http://users-own-server")
	}
	t.Setenv(EnvMLflowURI, "http://ci-server")
	Isolate()
	for _, v := range userVars {
		_, set := os.LookupEnv(v)
		assert.False(t, set, v)
	}
	assert.Equal(t, "http://ci-server", os.Getenv(EnvMLflowURI), "the project's own variables stay")
}
