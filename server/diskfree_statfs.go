//go:build linux || darwin || freebsd

package server

import (
	"fmt"
	"syscall"
)

// diskFree is the space in dir's file system that the server may still
// write (what is available to unprivileged users, not what is free).
func diskFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("server: free disk space of %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
