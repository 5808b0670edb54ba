//go:build !unix

package serialport

import (
	"errors"
	"io"
)

// control does nothing where there is no termios: the operating system's
// own open already refuses a second opener.
type control struct{}

func openControl(string) (*control, error) { return &control{}, nil }

func (*control) exclusive() error { return nil }

func (*control) setRTSCTS(on bool) error {
	if on {
		return errors.ErrUnsupported
	}
	return nil
}

// stream is nil: Port reads and writes through go.bug.st/serial.
func (*control) stream() io.ReadWriter { return nil }

func (*control) close() error { return nil }
