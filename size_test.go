package mlerr

import (
	"testing"
	"unsafe"
)

// TestErrorSize: New allocates the Error alone, so its size is what New
// costs; 32 bytes is the size class that keeps New within 1.5x errors.New
// (see BenchmarkNew). Moving a field back inline would fail here.
func TestErrorSize(t *testing.T) {
	if got := unsafe.Sizeof(Error{}); got != 32 {
		t.Errorf("unsafe.Sizeof(Error{}) = %d, want 32", got)
	}
	if got := unsafe.Sizeof(causedError{}); got != 64 {
		t.Errorf("an Error with a cause takes %d bytes, want 64", got)
	}
}
