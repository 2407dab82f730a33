package mlerr

import "syscall"

// Winsock's own numbers for the failures errnoDecision knows by their POSIX
// names (on Windows, syscall.ECONNREFUSED and friends are invented values
// that the network stack never returns).
const (
	wsaENETDOWN     syscall.Errno = 10050
	wsaENETUNREACH  syscall.Errno = 10051
	wsaECONNABORTED syscall.Errno = 10053
	wsaECONNRESET   syscall.Errno = 10054
	wsaETIMEDOUT    syscall.Errno = 10060
	wsaECONNREFUSED syscall.Errno = 10061
	wsaEHOSTUNREACH syscall.Errno = 10065
)

// platformErrno maps Winsock errors onto their POSIX equivalents.
func platformErrno(e syscall.Errno) syscall.Errno {
	switch e {
	case wsaENETDOWN:
		return syscall.ENETDOWN
	case wsaENETUNREACH:
		return syscall.ENETUNREACH
	case wsaECONNABORTED:
		return syscall.ECONNABORTED
	case wsaECONNRESET:
		return syscall.ECONNRESET
	case wsaETIMEDOUT:
		return syscall.ETIMEDOUT
	case wsaECONNREFUSED:
		return syscall.ECONNREFUSED
	case wsaEHOSTUNREACH:
		return syscall.EHOSTUNREACH
	}
	return e
}
