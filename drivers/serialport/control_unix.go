//go:build unix

package serialport

import (
	"golang.org/x/sys/unix"
)

// control is a second handle on the device, kept open beside
// go.bug.st/serial's own, for what that package cannot do: an advisory
// lock and exclusive mode that keep other openers out, and termios flags it
// does not set. Line settings belong to the terminal, not to a handle, so
// setting them here applies to the port.
type control struct {
	fd int
}

// openControl opens node without waiting for carrier and locks it. A lock
// held elsewhere fails with EWOULDBLOCK.
func openControl(node string) (*control, error) {
	fd, err := unix.Open(node, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// flock keeps out every other opener that also locks, including root,
	// which TIOCEXCL alone does not.
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &control{fd: fd}, nil
}

// exclusive puts the terminal in exclusive mode (TIOCEXCL): further opens
// by unprivileged processes fail with EBUSY until it is closed.
func (c *control) exclusive() error {
	return unix.IoctlSetInt(c.fd, unix.TIOCEXCL, 0)
}

func (c *control) close() error {
	return unix.Close(c.fd)
}
