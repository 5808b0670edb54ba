package dri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// DriverName is the registry name of the driver and the DeviceID.Driver
// of its readings.
const DriverName = "dri"

// Defaults of [Options].
const (
	// DefaultInterval is how often the monitor is asked to send its
	// displayed values.
	DefaultInterval = 10 * time.Second
	// DefaultSilence is how long a session waits for bytes before it
	// reports the link lost: three stalls, each followed by the requests
	// again.
	DefaultSilence = 6 * DefaultInterval
	// WriteTimeout bounds a request's write: with RTS/CTS a monitor that
	// holds CTS low blocks it, and the link is then reported lost.
	WriteTimeout = 2 * time.Second
)

// Line returns the serial setting of the interface: 19200 baud, 8 data
// bits, even parity, 1 stop bit, RTS/CTS hardware handshake; "the line
// parameters cannot be changed" [M1017617, line parameters]. CARESCAPE
// monitors with software 3 or later also run at 115200 (a bed's line
// override).
func Line() drivers.LineSettings {
	return drivers.LineSettings{Baud: 19200, DataBits: 8, Parity: drivers.EvenParity, StopBits: 1, RTSCTS: true}
}

// Driver returns the registry record of the driver.
func Driver() drivers.Driver {
	return drivers.Driver{
		Name:        DriverName,
		Description: "GE Datex-Ohmeda S/5, CARESCAPE B450/B650/B850, B20-B125 Computer Interface (DRI), displayed values",
		Line:        Line(),
		Period:      DefaultInterval,
		Episodic:    []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean, mdc.PulseRateNonInv},
		ProbeWait:   DefaultInterval + 5*time.Second,
		NewSession: func(rw io.ReadWriter, opts drivers.Options) (drivers.Session, error) {
			return NewSession(rw, Options{Options: opts})
		},
		Decode: Decode,
	}
}

// Options configure a session. The zero value is valid.
type Options struct {
	drivers.Options
	// Interval is how often the monitor sends its displayed values, in
	// whole seconds, at least 5 s. The default is DefaultInterval (10 s).
	Interval time.Duration
	// Trend60 also asks for the 60 s trended values (after the displayed
	// values, as the monitor requires). The default is false.
	Trend60 bool
	// Stall is how long the session waits for a record before it sends
	// its requests again (a monitor stops sending when RTS/CTS held it
	// for over 2 s, and after a restart). The default is twice Interval.
	Stall time.Duration
	// Silence is how long the monitor may send nothing before Run returns
	// an error matching drivers.ErrLinkLost. The default is six times
	// Interval (DefaultSilence at the default interval).
	Silence time.Duration
}

// Requests returns the frames a session sends to start, in order: the
// displayed values every interval, the auxiliary information (the NIBP
// measurement time) at the same interval, and the 60 s trends when asked.
func (o Options) Requests() [][]byte {
	ival := int16(o.Interval / time.Second)
	out := [][]byte{
		PhdbRequest{Type: PhDispl, Interval: ival}.Frame(),
		PhdbRequest{Type: PhAuxInfo, Interval: ival}.Frame(),
	}
	if o.Trend60 {
		out = append(out, PhdbRequest{Type: Ph60sTrend, Interval: 60}.Frame())
	}
	return out
}

// reject counts one bad frame or record; a warning is logged for the
// first and every hundredth.
func reject(c *drivers.Counter, opts drivers.Options, err error) {
	n := c.Bad(err)
	opts.Logger.Debug("dri: rejected", "err", err)
	if n == 1 || n%100 == 0 {
		opts.Logger.Warn("dri: rejected frame or record", "err", err, "rejected", n)
	}
}

// stream turns frames into readings; Decode and Session share it.
type stream struct {
	opts    drivers.Options
	sink    drivers.Sink
	count   *drivers.Counter
	decoder Decoder
	records int64 // records accepted, for the stall check
}

// split is Split, counting the bytes it skips.
func (s *stream) split(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := Split(data, atEOF)
	if err == nil {
		s.count.Skipped(skippedBy(data, adv, tok))
	}
	return adv, tok, err
}

// frame handles one frame's content.
func (s *stream) frame(ctx context.Context, content []byte) error {
	b, err := Unframe(content)
	if err != nil {
		reject(s.count, s.opts, err)
		return nil
	}
	rec, err := ParseRecord(b)
	if err != nil {
		reject(s.count, s.opts, err)
		return nil
	}
	s.count.Frame()
	s.records++
	readings, err := s.decoder.Record(rec)
	if err != nil {
		reject(s.count, s.opts, err)
	}
	for _, r := range readings {
		r.ReceivedAt = s.opts.Now()
		if err := s.sink.Emit(ctx, r); err != nil {
			return fmt.Errorf("dri: emit: %w", err)
		}
		s.count.Reading()
	}
	return nil
}

// Decode reads a capture of the bytes a monitor sent and emits its
// readings. Bad frames and records are counted in the returned Stats and
// skipped; a capture that ends inside a frame counts it as bad. Decode
// returns nil at the end of r, ctx.Err() if ctx ends, and otherwise the
// read or sink error.
func Decode(ctx context.Context, r io.Reader, sink drivers.Sink, opts drivers.Options) (drivers.Stats, error) {
	opts = opts.WithDefaults()
	count := &drivers.Counter{}
	s := &stream{opts: opts, sink: sink, count: count}
	err := drivers.DecodeCapture(ctx, "dri", r, s.split, MaxFrame+1, s.frame, ErrTruncated,
		func(err error) { reject(count, opts, err) })
	return count.Stats(), err
}

// Session is the host side of one DRI link: it asks for the displayed
// values, reads the records the monitor sends, and asks again after a
// stall. Stats is safe for concurrent use; Run must not be called more
// than once at a time.
type Session struct {
	rw    io.ReadWriter
	opts  Options
	count drivers.Counter
}

// NewSession returns a session over rw. The caller owns rw and closes it
// after Run returns.
func NewSession(rw io.ReadWriter, opts Options) (*Session, error) {
	if rw == nil {
		return nil, errors.New("dri: new session: nil port")
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Interval < MinInterval*time.Second || opts.Interval%time.Second != 0 || opts.Interval > 1<<15*time.Second {
		return nil, fmt.Errorf("dri: new session: interval %v: want whole seconds, at least %d s", opts.Interval, MinInterval)
	}
	if opts.Stall < 0 || opts.Silence < 0 {
		return nil, fmt.Errorf("dri: new session: stall %v and silence %v must not be negative", opts.Stall, opts.Silence)
	}
	if opts.Stall == 0 {
		opts.Stall = 2 * opts.Interval
	}
	if opts.Silence == 0 {
		opts.Silence = 6 * opts.Interval
	}
	opts.Options = opts.Options.WithDefaults()
	return &Session{rw: rw, opts: opts}, nil
}

// Stats reports what the session has seen so far.
func (s *Session) Stats() drivers.Stats { return s.count.Stats() }

// Run sends the requests, then reads records and emits their readings
// until ctx ends (it then returns ctx.Err() at once), the link fails, or
// sink fails. When no record came for Options.Stall it sends the requests
// again. A read or write error, end of input, a write blocked for
// WriteTimeout, or no bytes for Options.Silence give an error matching
// drivers.ErrLinkLost. It sends no stop request when it ends: the next
// session's requests replace the monitor's transmission settings.
func (s *Session) Run(ctx context.Context, sink drivers.Sink) error {
	st := &stream{opts: s.opts.Options, sink: sink, count: &s.count}
	frames := drivers.FrameLoop{Name: "dri", Split: st.split, MaxFrame: MaxFrame, Silence: s.opts.Silence}.Start(s.rw)
	defer frames.Close()
	if err := s.request(ctx); err != nil {
		return err
	}
	stall := time.NewTicker(s.opts.Stall)
	defer stall.Stop()
	seen := st.records
	return frames.Run(ctx, drivers.Handler{Frame: st.frame, Tick: stall.C, OnTick: func(ctx context.Context) error {
		if st.records != seen {
			seen = st.records
			return nil
		}
		s.opts.Logger.Warn("dri: no record for a while: requesting again", "stall", s.opts.Stall)
		return s.request(ctx)
	}})
}

// request writes the session's requests, each within WriteTimeout.
func (s *Session) request(ctx context.Context) error {
	for _, f := range s.opts.Requests() {
		if err := s.write(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// write writes b in a goroutine of its own, so that a write that RTS/CTS
// holds up neither outlives ctx nor blocks past WriteTimeout; the owner
// closing the port ends such a write.
func (s *Session) write(ctx context.Context, b []byte) error {
	done := make(chan error, 1)
	go func() {
		_, err := s.rw.Write(b)
		done <- err
	}()
	timer := time.NewTimer(WriteTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("dri: write: %w: %w", drivers.ErrLinkLost, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("dri: write blocked for %v (CTS held low?): %w", WriteTimeout, drivers.ErrLinkLost)
	}
}
