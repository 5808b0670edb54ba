//go:build unix

package serialport

import (
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// control is a second handle on the device, kept open beside
// go.bug.st/serial's own, for what that package cannot do: an advisory
// lock and exclusive mode that keep other openers out, termios flags it
// does not set, and reads and writes through the runtime's network poller.
// Line settings belong to the terminal, not to a handle, so setting them
// here applies to the port.
//
// The handle is non-blocking and held as an *os.File, which registers it
// with the poller: a Read waiting for a silent device parks its goroutine
// instead of a thread in select(2), as go.bug.st/serial's Read does. A
// thread blocked in a system call keeps the runtime's monitor thread
// polling (runtime.sysmon, every 20 µs to 10 ms until it hands the
// thread's processor on), which at 64 ports each sending a line a second
// was the largest single cost of reading them.
type control struct {
	f      *os.File
	polled bool // the poller took the handle: reads and writes go through it
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
	// A non-blocking descriptor given to os.NewFile is added to the poller.
	// Where the poller refuses it (kqueue refuses some terminals on macOS),
	// the File is left non-blocking and unpolled, and a read of a silent
	// port would fail with EAGAIN: the port is then read through
	// go.bug.st/serial's handle instead. A File without the poller has no
	// deadlines, which is how that is told.
	f := os.NewFile(uintptr(fd), node)
	polled := !errors.Is(f.SetReadDeadline(time.Time{}), os.ErrNoDeadline)
	return &control{f: f, polled: polled}, nil
}

// ioctl runs fn on the descriptor, through SyscallConn: the File keeps it.
func (c *control) ioctl(fn func(fd int) error) error {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// exclusive puts the terminal in exclusive mode (TIOCEXCL): further opens
// by unprivileged processes fail with EBUSY until it is closed.
func (c *control) exclusive() error {
	return c.ioctl(func(fd int) error { return unix.IoctlSetInt(fd, unix.TIOCEXCL, 0) })
}

// stream is what Port reads and writes: this handle when the poller took
// it, else nil (go.bug.st/serial's).
func (c *control) stream() io.ReadWriter {
	if !c.polled {
		return nil
	}
	return c.f
}

func (c *control) close() error {
	return c.f.Close()
}
