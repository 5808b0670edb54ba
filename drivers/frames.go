package drivers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultReadSize is the most a frame loop reads at once when its
// FrameLoop.ReadSize is zero.
const DefaultReadSize = 1024

// FrameLoop is the read loop a session shares with every other: it reads
// the link in the background, cuts the bytes into frames (or lines) with
// Split, hands each to a handler, and reports the link lost when the device
// falls silent. Sessions build one per Run with [FrameLoop.Start].
type FrameLoop struct {
	// Name prefixes errors, for example "masimo".
	Name string
	// Split cuts the byte stream into frames; it is a bufio.SplitFunc,
	// always called with atEOF false. An advance with a nil token skips
	// bytes (noise); an advance of zero asks for more bytes. An error from
	// Split ends the loop. Required.
	Split bufio.SplitFunc
	// MaxFrame is the most bytes Split may leave unconsumed while it waits
	// for the rest of a frame; a splitter that holds more is broken, and
	// the loop ends with an error rather than grow without bound.
	// Required.
	MaxFrame int
	// Silence is how long the device may send nothing before Run returns
	// an error matching ErrLinkLost. Required.
	Silence time.Duration
	// ReadSize is the most bytes read at once from a reader that is not a
	// Link; a Link reads in the size it was made with. Zero means
	// DefaultReadSize.
	ReadSize int
}

// Handler is what [Frames.Run] calls.
type Handler struct {
	// Frame is called with each frame, which is valid only during the
	// call. A non-nil error ends Run and is returned as it is. Required.
	Frame func(ctx context.Context, frame []byte) error
	// Tick, when not nil, is waited on with the link, and OnTick is called
	// each time it fires: a poll, a request repeated after a stall. A
	// non-nil error from OnTick ends Run and is returned as it is.
	Tick   <-chan time.Time
	OnTick func(ctx context.Context) error
}

// Frames is a frame loop running over one link: the [Link] it reads and
// the bytes of an unfinished frame. Run may be called again after it
// returns (a session's closing dialog after its context ended); the
// unfinished frame carries over. Close ends the link's reader goroutine
// when the loop started it.
type Frames struct {
	loop   FrameLoop
	link   *Link
	owned  bool // the loop started link and closes it
	buf    []byte
	unread []byte // bytes a Read of the link left, handled first
	failed error  // the read error that ended the reader, once seen
}

// Start starts reading r in a goroutine of its own (a [Link] of the loop's
// own) and returns the running loop. The caller owns r: closing it is what
// ends a Read that is still blocked when Close is called. When r is a
// [*Link], the loop takes the link's bytes instead (bytes a Read of the
// link left first) and starts no reader: the link outlives the loop. Start
// panics if Split is nil or MaxFrame or Silence is not positive (a
// programming error).
func (l FrameLoop) Start(r io.Reader) *Frames {
	if l.Split == nil || l.MaxFrame <= 0 || l.Silence <= 0 {
		panic("drivers: FrameLoop needs Split, MaxFrame and Silence")
	}
	if l.ReadSize <= 0 {
		l.ReadSize = DefaultReadSize
	}
	link, shared := r.(*Link)
	if !shared {
		link = newLink(r, nil, l.ReadSize)
	}
	f := &Frames{loop: l, link: link, owned: !shared, buf: make([]byte, 0, l.MaxFrame+l.ReadSize)}
	f.unread, link.rest = link.rest, nil
	return f
}

// Close stops the reader goroutine (it ends as soon as a pending Read
// returns); a loop started on a [*Link] leaves the link reading. It is
// safe to call more than once.
func (f *Frames) Close() {
	if f.owned {
		f.link.Close()
	}
}

// Run reads and handles frames until ctx ends (it then returns ctx.Err()
// at once, even while a Read is blocked), the link fails, or a handler
// fails. A read error or end of input gives an error matching ErrLinkLost;
// no bytes for Silence, one matching ErrSilent (and so ErrLinkLost).
func (f *Frames) Run(ctx context.Context, h Handler) error {
	if f.failed != nil {
		return f.failed
	}
	if data := f.unread; len(data) > 0 {
		f.unread = nil
		if err := f.feed(ctx, data, h.Frame); err != nil {
			return err
		}
	}
	silence := time.NewTimer(f.loop.Silence)
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-silence.C:
			return fmt.Errorf("%s: no data for %v: %w", f.loop.Name, f.loop.Silence, ErrSilent)
		case <-h.Tick:
			if err := h.OnTick(ctx); err != nil {
				return err
			}
		case c := <-f.link.chunks:
			if c.Err != nil {
				f.failed = fmt.Errorf("%s: read: %w: %w", f.loop.Name, ErrLinkLost, c.Err)
				return f.failed
			}
			silence.Reset(f.loop.Silence)
			if err := f.feed(ctx, c.Data, h.Frame); err != nil {
				return err
			}
		}
	}
}

// errSplitHoarding reports a splitter that keeps more than MaxFrame bytes.
var errSplitHoarding = errors.New("splitter holds more than MaxFrame bytes without a frame")

// feed appends data to the unfinished frame and handles every complete
// frame in it.
func (f *Frames) feed(ctx context.Context, data []byte, handle func(context.Context, []byte) error) error {
	f.buf = append(f.buf, data...)
	rest := f.buf
	for len(rest) > 0 {
		adv, token, err := f.loop.Split(rest, false)
		if err != nil {
			f.buf = f.buf[:0]
			return fmt.Errorf("%s: split: %w", f.loop.Name, err)
		}
		if adv <= 0 || adv > len(rest) {
			break
		}
		rest = rest[adv:]
		if token == nil {
			continue
		}
		if err := handle(ctx, token); err != nil {
			f.buf = append(f.buf[:0], rest...)
			return err
		}
	}
	if len(rest) > f.loop.MaxFrame {
		f.buf = f.buf[:0]
		return fmt.Errorf("%s: %w (%d > %d)", f.loop.Name, errSplitHoarding, len(rest), f.loop.MaxFrame)
	}
	f.buf = append(f.buf[:0], rest...)
	return nil
}

// InputError is how ScanFrames returns an error of reading its input or of
// splitting it (for example a frame cut off by the end of input), to tell
// it from the handler's and the context's.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the read or split error.
func (e *InputError) Unwrap() error { return e.Err }

// ScanFrames reads a capture from r to its end, cuts it into frames with
// split (atEOF true at the end, as bufio.Scanner does) and calls handle
// with each; decoders share it. A frame may be at most maxFrame bytes. It
// returns nil at the end of r, ctx.Err() when ctx ends, handle's error as
// it is, and an *InputError holding the error of reading r or of split.
func ScanFrames(ctx context.Context, r io.Reader, split bufio.SplitFunc, maxFrame int, handle func(ctx context.Context, frame []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(4096, maxFrame)), maxFrame)
	sc.Split(split)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := handle(ctx, sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &InputError{Err: err}
	}
	return nil
}

// DecodeCapture is ScanFrames as a driver's Decode uses it: a capture that
// ends inside a frame (split's error matches truncated) is one more bad
// frame, handed to rejectTruncated, and not an error; an error of reading r
// or of split is returned as "<driver>: decode: <err>"; ctx's and handle's
// errors are returned as they are.
func DecodeCapture(ctx context.Context, driver string, r io.Reader, split bufio.SplitFunc, maxFrame int,
	handle func(ctx context.Context, frame []byte) error, truncated error, rejectTruncated func(error)) error {
	err := ScanFrames(ctx, r, split, maxFrame, handle)
	var in *InputError
	switch {
	case errors.Is(err, truncated):
		rejectTruncated(err)
		return nil
	case errors.As(err, &in):
		return fmt.Errorf("%s: decode: %w", driver, in.Err)
	}
	return err
}
