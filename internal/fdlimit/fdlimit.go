// Package fdlimit raises and reads the process's open-file limit
// (RLIMIT_NOFILE), which bounds sockets as well as files.
package fdlimit

import "syscall"

// Raise lifts the soft open-file limit to the hard one (Go's runtime does
// so at start on Linux already; Raise makes sure, wherever hallwatch
// runs) and returns the soft limit in force.
func Raise() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		raised := syscall.Rlimit{Cur: l.Max, Max: l.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return l.Cur, err
		}
		l = raised
	}
	return l.Cur, nil
}

// Soft returns the soft open-file limit, or 0 when it cannot be read.
func Soft() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return l.Cur
}
