package pty

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// terminal is the slave's file descriptor, for the ioctls the PTY makes on
// the line.
type terminal struct{ fd int }

func open() (*PTY, error) {
	ptmx, slave, err := pty.Open()
	if err != nil {
		return nil, err
	}
	// creack/pty leaves the master in blocking mode. A non-blocking copy
	// goes to Go's poller, so that write deadlines work and Close unblocks
	// a waiting Read.
	fd, err := unix.FcntlInt(ptmx.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err == nil {
		err = unix.SetNonblock(fd, true)
		if err != nil {
			unix.Close(fd)
		}
	}
	ptmx.Close()
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("master: %w", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	p := &PTY{master: master, slave: slave, path: slave.Name(), line: terminal{fd: int(slave.Fd())}}
	for _, side := range []struct {
		name string
		fd   int
	}{{"master", fd}, {"slave", p.line.fd}} {
		if err := makeRaw(side.fd); err != nil {
			p.Close()
			return nil, fmt.Errorf("raw mode on %s: %w", side.name, err)
		}
	}
	return p, nil
}

// makeRaw sets the terminal like cfmakeraw(3): bytes pass unchanged in both
// directions, with no echo, no line editing and no signal characters.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// flushInput discards what is queued for the gateway to read.
func (t terminal) flushInput() error {
	return unix.IoctlSetInt(t.fd, unix.TCFLSH, unix.TCIFLUSH)
}

// queued returns how many bytes wait for the gateway to read them.
func (t terminal) queued() (int, error) {
	return unix.IoctlGetInt(t.fd, unix.TIOCINQ)
}
