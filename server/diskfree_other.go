//go:build !(linux || darwin || freebsd)

package server

import (
	"errors"
	"fmt"
)

// diskFree is not implemented here: the free-disk floor is not enforced.
func diskFree(dir string) (uint64, error) {
	return 0, fmt.Errorf("server: free disk space of %s: %w", dir, errors.ErrUnsupported)
}
