package masimo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// DefaultSilence is how long a session waits for bytes before it reports
// the link lost. The device sends a line every second.
const DefaultSilence = 10 * time.Second

// readSize is the most a session reads at once: a few lines at 9600 baud.
const readSize = 256

// Line returns the serial setting of ASCII 1 output: 9600 8N1, no
// handshake [Rad-8 manual, serial interface specifications].
func Line() drivers.LineSettings {
	return drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
}

// Options configure a session. The zero value is valid.
type Options struct {
	drivers.Options
	// Silence is how long the device may send nothing before Run returns
	// an error matching drivers.ErrLinkLost. The default is DefaultSilence.
	Silence time.Duration
}

// Driver returns the registry record of this driver.
func Driver() drivers.Driver {
	return drivers.Driver{
		Name:        DriverName,
		Description: "Masimo SET Radical-7 / Rad-8 / Rad-97 serial output, ASCII 1 mode",
		Line:        Line(),
		Period:      time.Second,
		NewSession: func(rw io.ReadWriter, opts drivers.Options) (drivers.Session, error) {
			return NewSession(rw, Options{Options: opts})
		},
		Decode: Decode,
	}
}

// reject counts one bad line and logs it at warn under its kind
// ("reason"); its contents (which may hold patient values) only at debug.
// A gateway's logger rate-limits such lines per bed and reason
// (drivers/ratelog), so a flood of noise writes a few lines a minute.
func reject(c *drivers.Counter, opts drivers.Options, err error, line []byte) {
	n := c.Bad(err)
	reason := "bad line"
	if errors.Is(err, ErrTruncated) {
		reason = "truncated"
	}
	opts.Logger.Warn("masimo: rejected line", "reason", reason, "err", err, "rejected", n)
	opts.Logger.Debug("masimo: rejected line contents", "reason", reason, "line", string(line))
}

// lines turns split results into readings: it parses, counts and emits.
type lines struct {
	opts  drivers.Options
	sink  drivers.Sink
	count *drivers.Counter
	// splitter cuts lines; use split, which counts what it skips.
	splitter Splitter
	// overlong and skipped already added to count.
	overlong, skipped int64
}

// split is the splitter's Split, counting the lines and bytes it skips.
func (l *lines) split(data []byte, atEOF bool) (int, []byte, error) {
	adv, token, err := l.splitter.Split(data, atEOF)
	l.syncSplitter()
	return adv, token, err
}

// handle deals with one line from the splitter.
func (l *lines) handle(ctx context.Context, token []byte) error {
	r, err := ParseLine(token, l.opts.DeviceLocation)
	if err != nil {
		reject(l.count, l.opts, err, token)
		return nil
	}
	l.count.Frame()
	r.ReceivedAt = l.opts.Now()
	if err := l.sink.Emit(ctx, r); err != nil {
		return fmt.Errorf("masimo: emit: %w", err)
	}
	l.count.Reading()
	return nil
}

// syncSplitter moves the splitter's counts of skipped lines into count.
func (l *lines) syncSplitter() {
	if n := l.splitter.Overlong() - l.overlong; n > 0 {
		l.overlong += n
		err := fmt.Errorf("masimo: line longer than %d bytes skipped", MaxLineLength)
		for range n {
			l.count.Bad(err)
		}
		l.opts.Logger.Warn("masimo: rejected line", "reason", "over-long line", "err", err, "rejected", l.count.Stats().Bad)
	}
	if n := l.splitter.Skipped() - l.skipped; n > 0 {
		l.skipped += n
		l.count.Skipped(n)
	}
}

// Decode reads a capture of ASCII 1 output from r and emits one reading per
// good line. Bad lines are counted in the returned Stats and skipped. A
// capture that ends inside a line counts that line as bad. Decode returns
// nil at the end of r, ctx.Err() if ctx ends, and otherwise the read or
// sink error.
func Decode(ctx context.Context, r io.Reader, sink drivers.Sink, opts drivers.Options) (drivers.Stats, error) {
	l := &lines{opts: opts.WithDefaults(), sink: sink, count: &drivers.Counter{}}
	err := drivers.DecodeCapture(ctx, "masimo", r, l.split, 8*MaxLineLength, l.handle, ErrTruncated,
		func(err error) { reject(l.count, l.opts, err, nil) })
	return l.count.Stats(), err
}

// Session is the host side of one ASCII 1 link. The protocol has no dialog:
// the session only reads. Stats is safe for concurrent use; Run must not be
// called more than once at a time.
type Session struct {
	rw    io.ReadWriter
	opts  Options
	count drivers.Counter
}

// NewSession returns a session reading from rw. The caller owns rw: the
// session never closes it, and after Run returns the caller should close
// it (a Read may still be pending in the session's reader goroutine until
// then; that goroutine ends as soon as the Read returns).
func NewSession(rw io.ReadWriter, opts Options) (*Session, error) {
	if rw == nil {
		return nil, errors.New("masimo: new session: nil port")
	}
	if opts.Silence < 0 {
		return nil, fmt.Errorf("masimo: new session: silence %v: must not be negative (zero means %v)", opts.Silence, DefaultSilence)
	}
	if opts.Silence == 0 {
		opts.Silence = DefaultSilence
	}
	opts.Options = opts.Options.WithDefaults()
	return &Session{rw: rw, opts: opts}, nil
}

// Stats reports what the session has seen so far.
func (s *Session) Stats() drivers.Stats { return s.count.Stats() }

// Run reads lines and emits one reading per good line until ctx ends (it
// then returns ctx.Err() at once, even while a Read is blocked), the link
// fails, or sink fails. A read error, end of input, or no bytes for
// Options.Silence give an error matching drivers.ErrLinkLost. A Read that
// returns no bytes and no error (a serial port's read timeout) is not an
// error: the session waits and reads again.
func (s *Session) Run(ctx context.Context, sink drivers.Sink) error {
	l := &lines{opts: s.opts.Options, sink: sink, count: &s.count}
	frames := drivers.FrameLoop{Name: "masimo", Split: l.split, MaxFrame: MaxLineLength,
		Silence: s.opts.Silence, ReadSize: readSize}.Start(s.rw)
	defer frames.Close()
	return frames.Run(ctx, drivers.Handler{Frame: l.handle})
}
