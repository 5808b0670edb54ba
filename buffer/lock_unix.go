//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package buffer

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes the store directory's lock (the flock the storage engine
// itself takes, which the engine is then told to skip) and holds it until
// it is closed: for the Buffer's life, while the engine is closed when idle
// too, so that no other process or Buffer opens the store in between. A
// store in use is an error, never mistaken for a corrupt one.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("buffer: store directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("buffer: store %s is in use by another process or Buffer", dir)
		}
		return nil, fmt.Errorf("buffer: store directory lock: %w", err)
	}
	return f, nil
}
