//go:build unix

package localstore

import (
	"errors"
	"syscall"
)

// openNoFollow makes open fail on a symbolic link (ELOOP) and not block on a
// FIFO (an open for reading waits for a writer otherwise).
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// isLinkError reports the error of an O_NOFOLLOW open of a symbolic link.
func isLinkError(err error) bool { return errors.Is(err, syscall.ELOOP) }
