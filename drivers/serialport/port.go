package serialport

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.bug.st/serial"

	"github.com/bedgate/bedgate/drivers"
)

// Options tune Open and OpenWithRetry. The zero value is valid.
type Options struct {
	// Logger receives OpenWithRetry's warnings about failed attempts. The
	// default is slog.Default().
	Logger *slog.Logger
	// Backoff paces OpenWithRetry. The zero value doubles from 100 ms to
	// 5 s with jitter (see Backoff).
	Backoff Backoff
	// OnRetry, when set, is called by OpenWithRetry after each failed
	// attempt with its error and the delay before the next, so that a
	// supervisor can report why a port is not open (for example ErrNoDevice:
	// the adapter is not plugged in).
	OnRetry func(err error, retryIn time.Duration)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Port is an open serial port. Read and Write may be called concurrently
// with each other and with Close; Read must not be called from two
// goroutines at once, nor Write.
type Port struct {
	path string // as given to Open
	node string // the device node path resolved to
	sp   serial.Port
	ctl  *control
	rw   io.ReadWriter // ctl's stream where it has one, else sp

	closed atomic.Bool
}

var _ io.ReadWriteCloser = (*Port)(nil)

// Open opens the serial port at path with the given line settings. path may
// be a symlink such as /dev/serial/by-path/..., or an adapter identity
// usb:VID:PID[:SERIAL[:INTERFACE]] that is looked up among the ports present
// (see Resolve), so that each Open finds the adapter under whatever ttyUSB
// number it has now; errors name the node it resolves to. The port is held exclusively: a second Open of the same
// device fails with ErrBusy until this Port is closed.
//
// Errors are *OpenError values matching ErrInvalidSettings, ErrNoDevice,
// ErrPermission, ErrBusy, ErrNotSerial or ErrAmbiguous where one applies.
func Open(path string, line drivers.LineSettings, opts Options) (*Port, error) {
	opts = opts.withDefaults()
	if err := line.Validate(); err != nil {
		return nil, &OpenError{Path: path, Kind: ErrInvalidSettings, Err: err}
	}
	target, oe := resolveBinding(path)
	if oe != nil {
		return nil, oe
	}
	node, err := filepath.EvalSymlinks(target)
	if err != nil {
		oe := classify(path, "", err)
		if target, lerr := os.Readlink(target); lerr == nil {
			oe.Node = target // a dangling by-path or by-id link: name what it points at
		}
		return nil, oe
	}
	info, err := os.Stat(node)
	if err != nil {
		return nil, classify(path, node, err)
	}
	if info.Mode()&os.ModeCharDevice == 0 {
		return nil, &OpenError{Path: path, Node: node, Kind: ErrNotSerial, Hint: "not a character device"}
	}

	// The control handle is opened first and locked, so that a second
	// opener fails here before it touches the line settings.
	ctl, err := openControl(node)
	if err != nil {
		return nil, classify(path, node, err)
	}
	sp, err := serial.Open(node, mode(line))
	if err != nil {
		ctl.close()
		return nil, classify(path, node, err)
	}
	p := &Port{path: path, node: node, sp: sp, ctl: ctl, rw: sp}
	if rw := ctl.stream(); rw != nil {
		p.rw = rw
	}
	if err := p.configure(line); err != nil {
		p.Close()
		return nil, classify(path, node, err)
	}
	return p, nil
}

// resolveBinding turns an adapter identity (usb:VID:PID:SERIAL) into the
// node that carries it now; a path is returned as it is.
func resolveBinding(path string) (string, *OpenError) {
	if !IsUSBBinding(path) {
		return path, nil
	}
	node, err := Resolve(path)
	switch {
	case err == nil:
		return node, nil
	case errors.Is(err, ErrAmbiguous):
		return "", &OpenError{Path: path, Kind: ErrAmbiguous, Err: errors.New(strings.TrimPrefix(err.Error(), ErrAmbiguous.Error()+": ")),
			Hint: "several adapters have this identity: bind by /dev/serial/by-path"}
	case errors.Is(err, ErrNoDevice):
		return "", &OpenError{Path: path, Kind: ErrNoDevice, Hint: "no adapter with this identity is plugged in"}
	default:
		return "", &OpenError{Path: path, Err: err}
	}
}

// configure does what go.bug.st/serial does not: it keeps other openers out
// and sets hardware flow control. Reads block without a timeout: a port
// costs nothing while its device is silent. (Where the runtime's poller
// took the control handle, reads go through it and go.bug.st/serial's
// timeout is set for a handle that is not read.)
func (p *Port) configure(line drivers.LineSettings) error {
	if err := p.ctl.exclusive(); err != nil {
		return fmt.Errorf("take exclusive access: %w", err)
	}
	if err := p.ctl.setRTSCTS(line.RTSCTS); err != nil {
		return fmt.Errorf("set RTS/CTS flow control: %w", err)
	}
	if err := p.sp.SetReadTimeout(serial.NoTimeout); err != nil {
		return fmt.Errorf("set read timeout: %w", err)
	}
	return nil
}

// mode converts validated line settings to go.bug.st/serial's Mode.
func mode(line drivers.LineSettings) *serial.Mode {
	m := &serial.Mode{BaudRate: line.Baud, DataBits: line.DataBits, StopBits: serial.OneStopBit}
	if line.StopBits == 2 {
		m.StopBits = serial.TwoStopBits
	}
	switch line.Parity {
	case drivers.EvenParity:
		m.Parity = serial.EvenParity
	case drivers.OddParity:
		m.Parity = serial.OddParity
	default:
		m.Parity = serial.NoParity
	}
	return m
}

// Path returns the path given to Open.
func (p *Port) Path() string { return p.path }

// Node returns the device node the path resolved to, for example
// /dev/ttyUSB0 for a /dev/serial/by-path link.
func (p *Port) Node() string { return p.node }

// Read reads up to len(b) bytes. It blocks until at least one byte arrives
// and never returns (0, nil) for a non-empty b. After Close, or when Close is
// called while it waits, it returns an error matching ErrClosed. When the
// device fails or goes away it returns a *GoneError, which matches ErrGone
// and drivers.ErrLinkLost.
func (p *Port) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if p.closed.Load() {
			return 0, p.closedError("read")
		}
		n, err := p.rw.Read(b)
		if n > 0 {
			return n, nil
		}
		if p.closed.Load() {
			return 0, p.closedError("read")
		}
		if err != nil {
			return 0, p.gone("read", err)
		}
		// (0, nil) is a timeout in go.bug.st/serial; with none set it does
		// not happen, but it is never passed on. (A zero-length read from
		// the control handle is io.EOF, a hang-up.)
	}
}

// Write writes b to the port. After Close it returns an error matching
// ErrClosed; when the device fails it returns a *GoneError.
func (p *Port) Write(b []byte) (int, error) {
	if p.closed.Load() {
		return 0, p.closedError("write")
	}
	n, err := p.rw.Write(b)
	if err != nil {
		if p.closed.Load() {
			return n, p.closedError("write")
		}
		return n, p.gone("write", err)
	}
	return n, nil
}

// Close releases the port. It unblocks a Read waiting in another goroutine.
// Closing a closed Port does nothing and returns nil.
func (p *Port) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := p.sp.Close()
	if cerr := p.ctl.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("serialport: close %s: %w", describe(p.path, p.node), err)
	}
	return nil
}

func (p *Port) closedError(op string) error {
	return fmt.Errorf("serialport: %s %s: %w", op, describe(p.path, p.node), ErrClosed)
}

func (p *Port) gone(op string, err error) *GoneError {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortClosed || errors.Is(err, io.EOF) {
		// go.bug.st/serial reports a zero-length read (a hung-up line) as
		// "port closed" although nobody closed it; os.File as io.EOF.
		err = errHangup
	}
	var path *fs.PathError
	if errors.As(err, &path) {
		err = path.Err // the control handle's errors name the node, as GoneError does
	}
	return &GoneError{Op: op, Path: p.path, Node: p.node, Err: err}
}
