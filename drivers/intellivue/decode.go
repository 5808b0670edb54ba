package intellivue

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bedgate/bedgate/drivers"
)

// reject counts one bad frame or message and logs it at warn under its
// kind ("reason"): a gateway's logger rate-limits such lines per bed and
// reason (drivers/ratelog), so a flood of bad frames writes a few lines a
// minute.
func reject(c *drivers.Counter, opts drivers.Options, err error) {
	n := c.Bad(err)
	opts.Logger.Warn("intellivue: rejected frame or message", "reason", rejectReason(err), "err", err, "rejected", n)
}

// rejectReason names the kind of a rejection, a short fixed string.
func rejectReason(err error) string {
	var (
		frame *FrameError
		msg   *MessageError
		proto *ProtocolError
	)
	switch {
	case errors.As(err, &frame):
		return "bad frame"
	case errors.As(err, &msg):
		return "bad message"
	case errors.As(err, &proto):
		return "protocol error"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	default:
		return "other"
	}
}

// stream turns frames into messages and readings; Decode and Session
// share it.
type stream struct {
	opts  drivers.Options
	sink  drivers.Sink
	count *drivers.Counter
	mon   *monitor
}

// split wraps SplitFrames and counts the bytes it skips.
func (s *stream) split(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := SplitFrames(data, atEOF)
	if err == nil {
		s.count.Skipped(int64(adv - len(tok)))
	}
	return adv, tok, err
}

// frame decodes one wire frame. It returns the message, or nil when the
// frame or message was bad (counted).
func (s *stream) frame(token []byte) Message {
	f, err := DecodeFrame(token)
	if err != nil {
		reject(s.count, s.opts, err)
		return nil
	}
	s.count.Frame()
	msg, err := DecodeMessage(f.UserData)
	if err != nil {
		reject(s.count, s.opts, err)
		return nil
	}
	return msg
}

// message passes a message to the monitor state and emits its readings.
func (s *stream) message(ctx context.Context, msg Message) error {
	rs, err := s.mon.handle(msg)
	if err != nil {
		reject(s.count, s.opts, err)
	}
	return s.emit(ctx, rs)
}

func (s *stream) emit(ctx context.Context, rs []*drivers.Reading) error {
	for _, r := range rs {
		r.ReceivedAt = s.opts.Now()
		if err := s.sink.Emit(ctx, *r); err != nil {
			return fmt.Errorf("intellivue: emit: %w", err)
		}
		s.count.Reading()
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
	count := &drivers.Counter{}
	s := &stream{opts: opts, sink: sink, count: count, mon: newMonitor(opts.DeviceLocation)}
	err := drivers.DecodeCapture(ctx, "intellivue", r, s.split, 2*MaxFrameSize, func(ctx context.Context, token []byte) error {
		if msg := s.frame(token); msg != nil {
			return s.message(ctx, msg)
		}
		return nil
	}, ErrTruncated, func(err error) { reject(count, opts, err) })
	if err != nil {
		return count.Stats(), err
	}
	rs, dropped := s.mon.flush()
	for range dropped {
		reject(count, opts, &ProtocolError{State: "linked result", Reason: "chain cut off by the end of input"})
	}
	err = s.emit(ctx, rs)
	return count.Stats(), err
}
