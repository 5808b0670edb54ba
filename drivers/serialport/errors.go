package serialport

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"

	"go.bug.st/serial"

	"github.com/bedgate/bedgate/drivers"
)

// Errors returned by Open, OpenWithRetry, Read and Write. Each is wrapped
// with the path and operation; test for them with errors.Is.
var (
	// ErrNoDevice is returned by Open when the device node (or the target of
	// a /dev/serial symlink) does not exist: the adapter is not plugged in.
	ErrNoDevice = errors.New("serialport: no such device")
	// ErrPermission is returned by Open when the user may not open the node.
	// The error also matches fs.ErrPermission.
	ErrPermission = errors.New("serialport: permission denied")
	// ErrBusy is returned by Open when another process, or another Port in
	// this process, holds the port.
	ErrBusy = errors.New("serialport: port busy")
	// ErrNotSerial is returned by Open when the path is not a serial port
	// or terminal.
	ErrNotSerial = errors.New("serialport: not a serial port")
	// ErrInvalidSettings is returned by Open when the line settings are not
	// valid, or the port does not support them.
	ErrInvalidSettings = errors.New("serialport: invalid line settings")
	// ErrClosed is returned by Read and Write after Close.
	ErrClosed = errors.New("serialport: port closed")
	// ErrGone is matched by a *GoneError: the device failed or went away
	// while the port was open. Reopen the port (see OpenWithRetry).
	ErrGone = errors.New("serialport: device gone")
)

// errHangup is the cause of a GoneError when the line hung up without an
// error number (a zero-length read, or a pseudo-terminal whose master closed).
var errHangup = errors.New("line hung up")

// GoneError reports that the device under an open Port failed or went away.
// It matches ErrGone, drivers.ErrLinkLost and its cause with errors.Is.
type GoneError struct {
	Op   string // "read" or "write"
	Path string // the path given to Open
	Node string // the device node Path resolved to
	Err  error  // the cause, for example syscall.EIO
}

func (e *GoneError) Error() string {
	return "serialport: " + e.Op + " " + describe(e.Path, e.Node) + ": device gone: " + e.Err.Error()
}

// Unwrap returns ErrGone, drivers.ErrLinkLost and the cause.
func (e *GoneError) Unwrap() []error { return []error{ErrGone, drivers.ErrLinkLost, e.Err} }

// describe names a port in messages: the path as given, and the node it
// resolves to when that differs.
func describe(path, node string) string {
	if node == "" || node == path {
		return path
	}
	return path + " (" + node + ")"
}

// OpenError reports why Open failed. It matches Kind (one of the sentinel
// errors above, when the failure is one of theirs) and Err with errors.Is.
type OpenError struct {
	Path string // the path given to Open
	Node string // the device node Path resolved to, when known
	Kind error  // ErrNoDevice, ErrPermission, ErrBusy, ErrNotSerial, ErrInvalidSettings, ErrAmbiguous or nil
	Err  error  // the cause, for example syscall.EACCES; may be nil
	Hint string // what to do about it, for people; may be empty
}

func (e *OpenError) Error() string {
	var b strings.Builder
	b.WriteString("serialport: open ")
	b.WriteString(describe(e.Path, e.Node))
	var kind string
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "serialport: ")
		b.WriteString(": ")
		b.WriteString(kind)
	}
	if e.Err != nil && !strings.EqualFold(e.Err.Error(), kind) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns Kind and Err.
func (e *OpenError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// classify turns an error from opening or configuring a port into an
// OpenError naming what went wrong and what to do about it.
func classify(path, node string, err error) *OpenError {
	oe := &OpenError{Path: path, Node: node, Err: err}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		oe.Err = pathErr.Err // the message names the path already
	}
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			oe.Err = syscall.EBUSY
		case serial.PortNotFound:
			oe.Err = syscall.ENOENT
		case serial.PermissionDenied:
			oe.Err = syscall.EACCES
		case serial.InvalidSerialPort:
			oe.Kind = ErrNotSerial
			return oe
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity, serial.InvalidStopBits:
			oe.Kind = ErrInvalidSettings
			oe.Hint = "the port does not support these settings"
			return oe
		}
	}
	switch {
	case errors.Is(oe.Err, syscall.ENOENT), errors.Is(oe.Err, syscall.ENODEV), errors.Is(oe.Err, syscall.ENXIO):
		oe.Kind = ErrNoDevice
		oe.Hint = "is the device plugged in?"
	case errors.Is(oe.Err, syscall.EACCES), errors.Is(oe.Err, syscall.EPERM):
		oe.Kind = ErrPermission
		oe.Hint = "add the user to the dialout group, or run the gateway as a user in it"
	case errors.Is(oe.Err, syscall.EBUSY), errors.Is(oe.Err, syscall.EWOULDBLOCK):
		oe.Kind = ErrBusy
		oe.Hint = "another process has the port open"
	case errors.Is(oe.Err, syscall.ENOTTY):
		oe.Kind = ErrNotSerial
	}
	return oe
}
