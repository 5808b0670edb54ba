//go:build !unix

package serialport

import "errors"

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

func (*control) close() error { return nil }
