package drivers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/bedgate/bedgate/drivers/registry"
)

// Sink receives the readings a session or decoder produces. Emit is called
// from the goroutine that runs the session. A non-nil error stops the
// session and is returned from Run: a reading the gateway cannot keep must
// never be lost silently.
type Sink interface {
	Emit(ctx context.Context, r Reading) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, r Reading) error

// Emit calls f.
func (f SinkFunc) Emit(ctx context.Context, r Reading) error { return f(ctx, r) }

// Session is the host side of one device link. Run blocks, reading from the
// link (and writing to it where the protocol has a dialog), until the
// context ends or the link fails. After cancellation it returns an error
// that matches context.Canceled or context.DeadlineExceeded. An error
// matching ErrLinkLost means the transport failed and may be reopened.
type Session interface {
	Run(ctx context.Context, sink Sink) error
	// Stats reports what the session has seen so far. Safe for concurrent use.
	Stats() Stats
}

// Stats counts what a session or decoder has seen.
type Stats struct {
	Readings int64 `json:"readings"` // readings emitted
	Frames   int64 `json:"frames"`   // frames or lines accepted
	Bad      int64 `json:"bad"`      // frames or lines rejected (garbled, truncated, out of spec)
	Skipped  int64 `json:"skipped"`  // bytes skipped while resynchronising
	// LastError describes the most recent rejected frame, or is empty.
	LastError string `json:"last_error,omitempty"`
}

// ErrLinkLost reports that the transport under a session failed (the port
// went away, a read returned an I/O error, or the device fell silent past
// the protocol's limit: then the error matches ErrSilent too). The
// supervisor reopens the port and starts again, or, for a silent device,
// starts again on the open port.
var ErrLinkLost = errors.New("drivers: link lost")

// ErrSilent reports that the device sent nothing for longer than its
// protocol allows; it matches ErrLinkLost too. The port may well be sound (a
// monitor switched off, a cable pulled at the monitor's end): the
// supervisor keeps it open and runs a new session on it ([Link]), so that
// the first bytes the device sends again are read.
var ErrSilent error = silentError{}

type silentError struct{}

func (silentError) Error() string        { return "drivers: device silent" }
func (silentError) Is(target error) bool { return target == ErrLinkLost }

// Options are common to every driver's sessions and decoders. The zero
// value is valid.
type Options struct {
	// Logger receives diagnostics. Values and patient data are logged only
	// at debug level. The default is slog.Default().
	Logger *slog.Logger
	// Now is the gateway clock used for ReceivedAt. The default is time.Now.
	Now func() time.Time
	// DeviceLocation is the time zone of the device's clock, for protocols
	// that send local times without an offset. The default is time.UTC.
	DeviceLocation *time.Location
}

// WithDefaults returns a copy of o with defaults filled in.
func (o Options) WithDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeviceLocation == nil {
		o.DeviceLocation = time.UTC
	}
	return o
}

// Parity of a serial line.
type Parity string

// Parities.
const (
	NoParity   Parity = "none"
	EvenParity Parity = "even"
	OddParity  Parity = "odd"
)

// LineSettings are the serial line parameters a device needs.
type LineSettings struct {
	Baud     int    `json:"baud"`
	DataBits int    `json:"data_bits"`
	Parity   Parity `json:"parity"`
	StopBits int    `json:"stop_bits"` // 1 or 2
	// RTSCTS enables hardware flow control.
	RTSCTS bool `json:"rtscts,omitempty"`
}

// String gives the usual short form, for example "9600 8N1".
func (l LineSettings) String() string {
	p := "N"
	switch l.Parity {
	case EvenParity:
		p = "E"
	case OddParity:
		p = "O"
	}
	s := fmt.Sprintf("%d %d%s%d", l.Baud, l.DataBits, p, l.StopBits)
	if l.RTSCTS {
		s += " RTS/CTS"
	}
	return s
}

// Override returns l with every non-zero field of o put in its place: a
// driver's defaults with a bed's or a command line's overrides.
func (l LineSettings) Override(o LineSettings) LineSettings {
	if o.Baud != 0 {
		l.Baud = o.Baud
	}
	if o.DataBits != 0 {
		l.DataBits = o.DataBits
	}
	if o.Parity != "" {
		l.Parity = o.Parity
	}
	if o.StopBits != 0 {
		l.StopBits = o.StopBits
	}
	if o.RTSCTS {
		l.RTSCTS = true
	}
	return l
}

// Validate reports a clear error for settings no serial port accepts.
func (l LineSettings) Validate() error {
	var errs []error
	if l.Baud <= 0 {
		errs = append(errs, fmt.Errorf("baud rate %d: must be positive (for example 9600 or 115200)", l.Baud))
	}
	if l.DataBits < 5 || l.DataBits > 8 {
		errs = append(errs, fmt.Errorf("data bits %d: must be 5, 6, 7 or 8", l.DataBits))
	}
	switch l.Parity {
	case NoParity, EvenParity, OddParity:
	default:
		errs = append(errs, fmt.Errorf("parity %q: must be none, even or odd", l.Parity))
	}
	if l.StopBits != 1 && l.StopBits != 2 {
		errs = append(errs, fmt.Errorf("stop bits %d: must be 1 or 2", l.StopBits))
	}
	return errors.Join(errs...)
}

// DefaultPeriod is the reading period of a driver that states none.
const DefaultPeriod = time.Second

// minProbeWait is the shortest time probe listens with a driver.
const minProbeWait = 3 * time.Second

// Driver describes one protocol to the registry: how to talk to it and what
// to expect of it.
type Driver struct {
	// Name is the registry key, lower case, for example "masimo".
	Name string
	// Description is one line for people, naming the devices and the mode.
	Description string
	// Line is the serial setting the device uses by default.
	Line LineSettings
	// Period is how often the device sends a reading when it works: the
	// gateway judges stale and re-sent readings against it. Zero means
	// DefaultPeriod (1 s).
	Period time.Duration
	// Episodic lists the MDC codes the device measures on a cycle of its
	// own or on demand (a non-invasive blood pressure) rather than every
	// Period: a reading without them is not a reading that lost them.
	Episodic []uint32
	// ProbeWait is how long "bedgate probe" listens for a first reading
	// with this driver. Zero means three periods, and at least 3 s.
	ProbeWait time.Duration
	// NewSession starts the host side of the protocol over rw. The session
	// never opens or closes the port itself. rw may be a [*Link] that
	// sessions share one after another: the session passes it as it is to
	// [FrameLoop.Start].
	NewSession func(rw io.ReadWriter, opts Options) (Session, error)
	// Decode reads a capture of the bytes the device sent and emits every
	// reading in it; it returns the statistics of the decode. It returns
	// nil at a clean end of input.
	Decode func(ctx context.Context, r io.Reader, sink Sink, opts Options) (Stats, error)
}

// ReadingPeriod returns d.Period, or DefaultPeriod when it is zero.
func (d Driver) ReadingPeriod() time.Duration {
	if d.Period > 0 {
		return d.Period
	}
	return DefaultPeriod
}

// ProbeTimeout returns how long probe listens for this driver: ProbeWait,
// or three reading periods and at least 3 s.
func (d Driver) ProbeTimeout() time.Duration {
	if d.ProbeWait > 0 {
		return d.ProbeWait
	}
	return max(3*d.ReadingPeriod(), minProbeWait)
}

// IsEpisodic reports whether the device measures code episodically.
func (d Driver) IsEpisodic(code uint32) bool { return slices.Contains(d.Episodic, code) }

// RegistryName returns d.Name, the registry key.
func (d Driver) RegistryName() string { return d.Name }

// RegistryKind names drivers in registry errors.
func (Driver) RegistryKind() (pkg, noun string) { return "drivers", "driver" }

// Check reports why d cannot be registered: no session constructor or
// decoder, line settings no port accepts, or a negative period.
func (d Driver) Check() error {
	var errs []error
	if d.NewSession == nil || d.Decode == nil {
		errs = append(errs, errors.New("NewSession and Decode are required"))
	}
	if err := d.Line.Validate(); err != nil {
		errs = append(errs, err)
	}
	if d.Period < 0 || d.ProbeWait < 0 {
		errs = append(errs, fmt.Errorf("period %v and probe wait %v must not be negative", d.Period, d.ProbeWait))
	}
	return errors.Join(errs...)
}

// Registry maps driver names to drivers. The zero value is empty and
// ready; drivers/all builds the one the programs use.
type Registry = registry.Registry[Driver]
