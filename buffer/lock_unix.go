//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package buffer

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// checkNotLocked reports an error when another process (or another Buffer
// in this one) holds the storage engine's directory lock, so that Open never
// mistakes a store in use for a corrupt one.
func checkNotLocked(dir string) error {
	// The engine flocks the directory itself.
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("buffer: store directory: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("buffer: store %s is in use by another process or Buffer", dir)
		}
		return fmt.Errorf("buffer: store directory lock: %w", err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
