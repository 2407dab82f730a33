//go:build !windows

package mlerr

import "syscall"

// platformErrno returns e: on POSIX systems the network stack returns the
// errno values errnoDecision knows.
func platformErrno(e syscall.Errno) syscall.Errno { return e }
