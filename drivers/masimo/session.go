package masimo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// DefaultSilence is how long a session waits for bytes before it reports
// the link lost. The device sends a line every second.
const DefaultSilence = 10 * time.Second

// idleReadPause is the pause after a Read that returned no bytes and no
// error (a serial port's read timeout) before reading again.
const idleReadPause = 10 * time.Millisecond

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
		NewSession: func(rw io.ReadWriter, opts drivers.Options) (drivers.Session, error) {
			return NewSession(rw, Options{Options: opts})
		},
		Decode: Decode,
	}
}

// counter keeps the statistics of a session or decode. Safe for concurrent
// use.
type counter struct {
	readings, frames, bad, skipped atomic.Int64

	mu      sync.Mutex
	lastErr string
}

func (c *counter) stats() drivers.Stats {
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	return drivers.Stats{
		Readings:  c.readings.Load(),
		Frames:    c.frames.Load(),
		Bad:       c.bad.Load(),
		Skipped:   c.skipped.Load(),
		LastError: last,
	}
}

// reject counts one bad line. Its contents are logged at debug level only.
func (c *counter) reject(opts drivers.Options, err error, line []byte) {
	n := c.bad.Add(1)
	c.mu.Lock()
	c.lastErr = err.Error()
	c.mu.Unlock()
	opts.Logger.Debug("masimo: rejected line", "err", err, "line", string(line))
	if n == 1 || n%100 == 0 {
		opts.Logger.Warn("masimo: rejected line", "err", err, "rejected", n)
	}
}

// lines turns split results into readings: it parses, counts and emits.
type lines struct {
	opts  drivers.Options
	sink  drivers.Sink
	count *counter
	split Splitter
	// overlong and skipped already added to count.
	overlong, skipped int64
}

// handle deals with one token from the splitter.
func (l *lines) handle(ctx context.Context, token []byte) error {
	l.syncSplitter()
	if token == nil {
		return nil
	}
	r, err := ParseLine(token, l.opts.DeviceLocation)
	if err != nil {
		l.count.reject(l.opts, err, token)
		return nil
	}
	l.count.frames.Add(1)
	r.ReceivedAt = l.opts.Now()
	if err := l.sink.Emit(ctx, r); err != nil {
		return fmt.Errorf("masimo: emit: %w", err)
	}
	l.count.readings.Add(1)
	return nil
}

// syncSplitter moves the splitter's counts of skipped lines into count.
func (l *lines) syncSplitter() {
	if n := l.split.Overlong() - l.overlong; n > 0 {
		l.overlong += n
		l.count.bad.Add(n)
		l.count.mu.Lock()
		l.count.lastErr = fmt.Sprintf("masimo: line longer than %d bytes skipped", MaxLineLength)
		l.count.mu.Unlock()
		l.opts.Logger.Debug("masimo: skipped over-long line")
	}
	if n := l.split.Skipped() - l.skipped; n > 0 {
		l.skipped += n
		l.count.skipped.Add(n)
	}
}

// Decode reads a capture of ASCII 1 output from r and emits one reading per
// good line. Bad lines are counted in the returned Stats and skipped. A
// capture that ends inside a line counts that line as bad. Decode returns
// nil at the end of r, ctx.Err() if ctx ends, and otherwise the read or
// sink error.
func Decode(ctx context.Context, r io.Reader, sink drivers.Sink, opts drivers.Options) (drivers.Stats, error) {
	l := &lines{opts: opts.WithDefaults(), sink: sink, count: &counter{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 8*MaxLineLength)
	sc.Split(l.split.Split)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return l.count.stats(), err
		}
		if err := l.handle(ctx, sc.Bytes()); err != nil {
			return l.count.stats(), err
		}
	}
	l.syncSplitter()
	switch err := sc.Err(); {
	case errors.Is(err, ErrTruncated):
		l.count.reject(l.opts, err, nil)
	case err != nil:
		return l.count.stats(), fmt.Errorf("masimo: decode: %w", err)
	}
	return l.count.stats(), nil
}

// Session is the host side of one ASCII 1 link. The protocol has no dialog:
// the session only reads. Stats is safe for concurrent use; Run must not be
// called more than once at a time.
type Session struct {
	rw    io.ReadWriter
	opts  Options
	count counter
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
func (s *Session) Stats() drivers.Stats { return s.count.stats() }

// chunk is one Read's result.
type chunk struct {
	data []byte
	err  error
}

// Run reads lines and emits one reading per good line until ctx ends (it
// then returns ctx.Err() at once, even while a Read is blocked), the link
// fails, or sink fails. A read error, end of input, or no bytes for
// Options.Silence give an error matching drivers.ErrLinkLost. A Read that
// returns no bytes and no error (a serial port's read timeout) is not an
// error: the session waits and reads again.
func (s *Session) Run(ctx context.Context, sink drivers.Sink) error {
	done := make(chan struct{})
	defer close(done)
	chunks := make(chan chunk)
	go s.read(chunks, done)

	l := &lines{opts: s.opts.Options, sink: sink, count: &s.count}
	buf := make([]byte, 0, 2*MaxLineLength)
	silence := time.NewTimer(s.opts.Silence)
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-silence.C:
			return fmt.Errorf("masimo: no data for %v: %w", s.opts.Silence, drivers.ErrLinkLost)
		case c := <-chunks:
			if c.err != nil {
				return fmt.Errorf("masimo: read: %w: %w", drivers.ErrLinkLost, c.err)
			}
			silence.Reset(s.opts.Silence)
			buf = append(buf, c.data...)
			rest := buf
			for {
				adv, token, _ := l.split.Split(rest, false)
				if adv == 0 {
					break
				}
				if err := l.handle(ctx, token); err != nil {
					return err
				}
				rest = rest[adv:]
			}
			// What is left is at most one unfinished line of MaxLineLength.
			buf = append(buf[:0], rest...)
		}
	}
}

// read runs Reads and hands their results to Run until a Read fails or
// Run has returned.
func (s *Session) read(out chan<- chunk, done <-chan struct{}) {
	buf := make([]byte, 256)
	for {
		n, err := s.rw.Read(buf)
		if n > 0 {
			select {
			case out <- chunk{data: append([]byte(nil), buf[:n]...)}:
			case <-done:
				return
			}
		}
		if err != nil {
			select {
			case out <- chunk{err: err}:
			case <-done:
			}
			return
		}
		if n == 0 {
			select {
			case <-time.After(idleReadPause):
			case <-done:
				return
			}
		}
	}
}
