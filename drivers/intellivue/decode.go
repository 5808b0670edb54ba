package intellivue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/bedgate/bedgate/drivers"
)

// counter keeps the statistics of a session or decode. Safe for
// concurrent use.
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

// reject counts one bad frame or message. Details go to debug level; a
// warning is logged for the first and every hundredth.
func (c *counter) reject(opts drivers.Options, err error) {
	n := c.bad.Add(1)
	c.mu.Lock()
	c.lastErr = err.Error()
	c.mu.Unlock()
	opts.Logger.Debug("intellivue: rejected", "err", err)
	if n == 1 || n%100 == 0 {
		opts.Logger.Warn("intellivue: rejected frame or message", "err", err, "rejected", n)
	}
}

// splitCounting wraps SplitFrames and counts the bytes it skips.
func (c *counter) splitCounting(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := SplitFrames(data, atEOF)
	if err == nil {
		c.skipped.Add(int64(adv - len(tok)))
	}
	return adv, tok, err
}

// stream turns frames into messages and readings; Decode and Session
// share it.
type stream struct {
	opts  drivers.Options
	sink  drivers.Sink
	count *counter
	mon   *monitor
}

// frame decodes one wire frame. It returns the message, or nil when the
// frame or message was bad (counted).
func (s *stream) frame(token []byte) Message {
	f, err := DecodeFrame(token)
	if err != nil {
		s.count.reject(s.opts, err)
		return nil
	}
	s.count.frames.Add(1)
	msg, err := DecodeMessage(f.UserData)
	if err != nil {
		s.count.reject(s.opts, err)
		return nil
	}
	return msg
}

// message passes a message to the monitor state and emits its readings.
func (s *stream) message(ctx context.Context, msg Message) error {
	rs, err := s.mon.handle(msg)
	if err != nil {
		s.count.reject(s.opts, err)
	}
	return s.emit(ctx, rs)
}

func (s *stream) emit(ctx context.Context, rs []*drivers.Reading) error {
	for _, r := range rs {
		r.ReceivedAt = s.opts.Now()
		if err := s.sink.Emit(ctx, *r); err != nil {
			return fmt.Errorf("intellivue: emit: %w", err)
		}
		s.count.readings.Add(1)
	}
	return nil
}

// Decode reads a capture of the bytes a monitor sent (no dialog) and
// emits one reading per complete poll result that carries numerics. Bad
// frames and messages are counted in the returned Stats and skipped; a
// capture that ends inside a frame counts that frame as bad. A linked
// result whose last part arrived but whose closing result is cut off by
// the end of the capture is emitted; other incomplete chains are counted
// as bad. Decode returns nil at the end of r, ctx.Err() if ctx ends, and
// otherwise the read or sink error.
func Decode(ctx context.Context, r io.Reader, sink drivers.Sink, opts drivers.Options) (drivers.Stats, error) {
	opts = opts.WithDefaults()
	count := &counter{}
	s := &stream{opts: opts, sink: sink, count: count, mon: newMonitor(opts.DeviceLocation)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 2*MaxFrameSize)
	sc.Split(count.splitCounting)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return count.stats(), err
		}
		msg := s.frame(sc.Bytes())
		if msg == nil {
			continue
		}
		if err := s.message(ctx, msg); err != nil {
			return count.stats(), err
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, ErrTruncated):
		count.reject(opts, err)
	case err != nil:
		return count.stats(), fmt.Errorf("intellivue: decode: %w", err)
	}
	rs, dropped := s.mon.flush()
	for range dropped {
		count.reject(opts, &ProtocolError{State: "linked result", Reason: "chain cut off by the end of input"})
	}
	err := s.emit(ctx, rs)
	return count.stats(), err
}
