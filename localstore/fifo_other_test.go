//go:build !unix

package localstore

func mkfifo(string) error { return nil } // no FIFOs: the entry is skipped
