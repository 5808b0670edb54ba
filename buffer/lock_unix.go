//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package buffer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// checkNotLocked reports an error when another process (or another Buffer
// in this one) holds the storage engine's directory lock, so that Open never
// mistakes a store in use for a corrupt one.
func checkNotLocked(dir string) error {
	f, err := os.Open(filepath.Join(dir, "LOCK"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("buffer: store lock file: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("buffer: store %s is in use by another process or Buffer", dir)
		}
		return fmt.Errorf("buffer: store lock file: %w", err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
