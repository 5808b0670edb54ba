package nonin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// DefaultSilence is how long a session waits for bytes before it reports
// the link lost. The device sends 75 frames (#2, #7) or one record (#8) a
// second.
const DefaultSilence = 5 * time.Second

// readSize is the most a session reads at once: a packet at 9600 baud.
const readSize = 128

// Line returns the serial setting of every format: 9600 8N1, no handshake
// [9560 OEM spec, serial interface].
func Line() drivers.LineSettings {
	return drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
}

// Period returns how often a device in format f sends a reading: a packet
// every third of a second (#2, #7), a record every second (#8).
func Period(f Format) time.Duration {
	if f == DF8 {
		return time.Second
	}
	return time.Second / 3
}

// Drivers returns the registry records of the three formats.
func Drivers() []drivers.Driver {
	return []drivers.Driver{Driver(DF2), Driver(DF7), Driver(DF8)}
}

// Driver returns the registry record of format f.
func Driver(f Format) drivers.Driver {
	return drivers.Driver{
		Name:        f.Name(),
		Description: fmt.Sprintf("Nonin pulse oximeter (OEM III, 9560, 3150, Xpod), serial data format #%d", int(f)),
		Line:        Line(),
		Period:      Period(f),
		NewSession: func(rw io.ReadWriter, opts drivers.Options) (drivers.Session, error) {
			return NewSession(rw, Options{Options: opts, Format: f})
		},
		Decode: func(ctx context.Context, r io.Reader, sink drivers.Sink, opts drivers.Options) (drivers.Stats, error) {
			return Decode(ctx, r, f, sink, opts)
		},
	}
}

// Options configure a session. The zero value reads format #2.
type Options struct {
	drivers.Options
	// Format is the device's data format. The default is DF2.
	Format Format
	// Silence is how long the device may send nothing before Run returns
	// an error matching drivers.ErrLinkLost. The default is DefaultSilence.
	Silence time.Duration
}

// reject counts one bad frame or packet; a warning is logged for the first
// and every hundredth.
func reject(c *drivers.Counter, opts drivers.Options, err error) {
	n := c.Bad(err)
	opts.Logger.Debug("nonin: rejected", "err", err)
	if n == 1 || n%100 == 0 {
		opts.Logger.Warn("nonin: rejected frame or packet", "err", err, "rejected", n)
	}
}

// stream turns frames into readings; Decode and Session share it.
type stream struct {
	format  Format
	opts    drivers.Options
	sink    drivers.Sink
	count   *drivers.Counter
	split   func([]byte, bool) (int, []byte, error)
	packets packets
}

func newStream(f Format, opts drivers.Options, sink drivers.Sink, count *drivers.Counter) *stream {
	return &stream{format: f, opts: opts, sink: sink, count: count, split: Splitter(f), packets: packets{format: f}}
}

// splitCounting is the format's splitter, counting the bytes it skips.
func (s *stream) splitCounting(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := s.split(data, atEOF)
	if err == nil {
		s.count.Skipped(int64(adv - len(tok)))
	}
	return adv, tok, err
}

// frame handles one frame or record.
func (s *stream) frame(ctx context.Context, b []byte) error {
	if s.format == DF8 {
		rec, err := ParseRecord(b)
		if err != nil {
			reject(s.count, s.opts, err)
			return nil
		}
		s.count.Frame()
		return s.emit(ctx, rec.Reading())
	}
	fr, err := ParseFrame(s.format, b)
	if err != nil {
		reject(s.count, s.opts, err)
		return nil
	}
	s.count.Frame()
	p, outside, err := s.packets.add(fr)
	if err != nil {
		reject(s.count, s.opts, err)
	}
	if outside {
		s.count.Skipped(int64(len(b)))
	}
	if p == nil {
		return nil
	}
	return s.emit(ctx, p.Reading(s.format))
}

func (s *stream) emit(ctx context.Context, r drivers.Reading) error {
	r.ReceivedAt = s.opts.Now()
	if err := s.sink.Emit(ctx, r); err != nil {
		return fmt.Errorf("nonin: emit: %w", err)
	}
	s.count.Reading()
	return nil
}

// Decode reads a capture of the bytes a device in format f sent and emits
// one reading per complete packet (#2, #7) or record (#8). Bad frames and
// packets are counted in the returned Stats and skipped; a capture that
// ends inside a frame counts it as bad. Decode returns nil at the end of
// r, ctx.Err() if ctx ends, and otherwise the read or sink error.
func Decode(ctx context.Context, r io.Reader, f Format, sink drivers.Sink, opts drivers.Options) (drivers.Stats, error) {
	opts = opts.WithDefaults()
	count := &drivers.Counter{}
	s := newStream(f, opts, sink, count)
	err := drivers.DecodeCapture(ctx, "nonin", r, s.splitCounting, 4096, s.frame, ErrTruncated,
		func(err error) { reject(count, opts, err) })
	return count.Stats(), err
}

// Session is the host side of one Nonin link. The protocol has no dialog:
// the session only reads. Stats is safe for concurrent use; Run must not be
// called more than once at a time.
type Session struct {
	rw    io.ReadWriter
	opts  Options
	count drivers.Counter
}

// NewSession returns a session reading from rw. The caller owns rw and
// closes it after Run returns.
func NewSession(rw io.ReadWriter, opts Options) (*Session, error) {
	if rw == nil {
		return nil, errors.New("nonin: new session: nil port")
	}
	if opts.Format == 0 {
		opts.Format = DF2
	}
	switch opts.Format {
	case DF2, DF7, DF8:
	default:
		return nil, fmt.Errorf("nonin: new session: data format #%d: want 2, 7 or 8", int(opts.Format))
	}
	if opts.Silence < 0 {
		return nil, fmt.Errorf("nonin: new session: silence %v: must not be negative (zero means %v)", opts.Silence, DefaultSilence)
	}
	if opts.Silence == 0 {
		opts.Silence = DefaultSilence
	}
	opts.Options = opts.Options.WithDefaults()
	return &Session{rw: rw, opts: opts}, nil
}

// Stats reports what the session has seen so far.
func (s *Session) Stats() drivers.Stats { return s.count.Stats() }

// Run reads frames and emits one reading per packet or record until ctx
// ends (it then returns ctx.Err() at once), the link fails, or sink fails.
// A read error, end of input, or no bytes for Options.Silence give an
// error matching drivers.ErrLinkLost.
func (s *Session) Run(ctx context.Context, sink drivers.Sink) error {
	st := newStream(s.opts.Format, s.opts.Options, sink, &s.count)
	frames := drivers.FrameLoop{Name: "nonin", Split: st.splitCounting, MaxFrame: s.opts.Format.FrameSize(),
		Silence: s.opts.Silence, ReadSize: readSize}.Start(s.rw)
	defer frames.Close()
	return frames.Run(ctx, drivers.Handler{Frame: st.frame})
}
