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

// posixErrno maps Winsock errors onto their POSIX equivalents.
var posixErrno = map[syscall.Errno]syscall.Errno{
	wsaENETDOWN:     syscall.ENETDOWN,
	wsaENETUNREACH:  syscall.ENETUNREACH,
	wsaECONNABORTED: syscall.ECONNABORTED,
	wsaECONNRESET:   syscall.ECONNRESET,
	wsaETIMEDOUT:    syscall.ETIMEDOUT,
	wsaECONNREFUSED: syscall.ECONNREFUSED,
	wsaEHOSTUNREACH: syscall.EHOSTUNREACH,
}

// platformErrno maps Winsock errors onto their POSIX equivalents.
func platformErrno(e syscall.Errno) syscall.Errno {
	if p, ok := posixErrno[e]; ok {
		return p
	}
	return e
}
