package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// Magic is the first line of a capture file, without its newline.
const Magic = "BEDGATE-CAPTURE 1"

// magicPrefix identifies a capture of any version.
const magicPrefix = "BEDGATE-CAPTURE "

// MaxChunk is the most bytes one chunk line holds; longer writes are split.
const MaxChunk = 4096

// maxLine bounds a line the Reader accepts: a header or a full chunk.
const maxLine = 64 + 2*MaxChunk + 64<<10

// Header describes a capture.
type Header struct {
	// Start is when recording started; chunk offsets count from it.
	Start time.Time `json:"start"`
	// Port is the port as given to the recorder, for example a
	// /dev/serial/by-path name; Node is the device node it resolved to.
	Port string `json:"port,omitempty"`
	Node string `json:"node,omitempty"`
	// Driver names the driver whose line settings were used, if any.
	Driver string `json:"driver,omitempty"`
	// Line is the serial setting the port was opened with, if known.
	Line *drivers.LineSettings `json:"line,omitempty"`
}

// Chunk is the bytes of one read and when they arrived.
type Chunk struct {
	// Offset is the time since Header.Start.
	Offset time.Duration
	Data   []byte
}

// Writer records chunks to a capture file. It is safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	w     *bufio.Writer
	start time.Time
	now   func() time.Time
	last  time.Duration
	err   error
}

// NewWriter writes the magic and h to w and returns a Writer for the
// chunks. A zero h.Start is set to now(); now is the clock Write uses and
// defaults to time.Now.
func NewWriter(w io.Writer, h Header, now func() time.Time) (*Writer, error) {
	if now == nil {
		now = time.Now
	}
	if h.Start.IsZero() {
		h.Start = now()
	}
	h.Start = h.Start.UTC()
	head, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("capture: header: %w", err)
	}
	cw := &Writer{w: bufio.NewWriter(w), start: h.Start, now: now}
	fmt.Fprintf(cw.w, "%s\n%s\n", Magic, head)
	if err := cw.w.Flush(); err != nil {
		return nil, fmt.Errorf("capture: write header: %w", err)
	}
	return cw, nil
}

// Write records p as arriving now. It lets a Writer stand in the way of a
// stream (io.TeeReader). It always consumes all of p unless the file fails.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.WriteChunk(Chunk{Offset: w.now().Sub(w.start), Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteChunk records c. An offset below the previous chunk's (a clock
// stepped back) is recorded as the previous offset, so offsets never
// decrease. Empty chunks are not recorded.
func (w *Writer) WriteChunk(c Chunk) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	off := max(c.Offset, w.last)
	w.last = off
	for data := c.Data; len(data) > 0; {
		n := min(len(data), MaxChunk)
		us := off.Microseconds()
		fmt.Fprintf(w.w, "%d.%06d %s\n", us/1e6, us%1e6, hex.EncodeToString(data[:n]))
		data = data[n:]
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("capture: write: %w", err)
	}
	return w.err
}

// Reader reads the chunks of a capture file.
type Reader struct {
	sc     *bufio.Scanner
	header Header
	line   int
	last   time.Duration
}

// NewReader reads the magic and header from r. It fails with an error
// matching ErrNotCapture when r does not begin with the magic.
func NewReader(r io.Reader) (*Reader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	cr := &Reader{sc: sc}
	magic, err := cr.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrNotCapture
		}
		return nil, err
	}
	if !strings.HasPrefix(magic, magicPrefix) {
		return nil, ErrNotCapture
	}
	if magic != Magic {
		return nil, fmt.Errorf("capture: line 1: format %q: this version reads %q", magic, Magic)
	}
	head, err := cr.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("capture: header: %w", err)
	}
	if err := json.Unmarshal([]byte(head), &cr.header); err != nil {
		return nil, fmt.Errorf("capture: line 2: header: %w", err)
	}
	return cr, nil
}

// ErrNotCapture is returned by NewReader for input that is not a capture
// file (a raw capture, for example).
var ErrNotCapture = errors.New("capture: not a capture file")

// Header returns the capture's header.
func (r *Reader) Header() Header { return r.header }

// Next returns the next chunk, or io.EOF after the last.
func (r *Reader) Next() (Chunk, error) {
	for {
		s, err := r.next()
		if err != nil {
			return Chunk{}, err
		}
		if s == "" || s[0] == '#' {
			continue
		}
		c, err := parseChunk(s)
		if err != nil {
			return Chunk{}, fmt.Errorf("capture: line %d: %w", r.line, err)
		}
		if c.Offset < r.last {
			return Chunk{}, fmt.Errorf("capture: line %d: offset %v before the previous chunk's %v", r.line, c.Offset, r.last)
		}
		r.last = c.Offset
		return c, nil
	}
}

// next returns the next line without its newline, or io.EOF.
func (r *Reader) next() (string, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			return "", fmt.Errorf("capture: line %d: %w", r.line+1, err)
		}
		return "", io.EOF
	}
	r.line++
	return strings.TrimSuffix(r.sc.Text(), "\r"), nil
}

func parseChunk(s string) (Chunk, error) {
	off, data, ok := strings.Cut(s, " ")
	if !ok {
		return Chunk{}, fmt.Errorf("chunk %q: want SECONDS HEX", clip(s))
	}
	secs, frac, ok := strings.Cut(off, ".")
	if !ok || len(frac) != 6 {
		return Chunk{}, fmt.Errorf("offset %q: want seconds with six decimals", clip(off))
	}
	sec, err1 := strconv.ParseUint(secs, 10, 40)
	us, err2 := strconv.ParseUint(frac, 10, 20)
	if err1 != nil || err2 != nil || secs[0] == '+' || frac[0] == '+' {
		return Chunk{}, fmt.Errorf("offset %q: want seconds with six decimals", clip(off))
	}
	b, err := hex.DecodeString(data)
	if err != nil || len(b) == 0 {
		return Chunk{}, fmt.Errorf("bytes %q: want hexadecimal, two digits a byte", clip(data))
	}
	return Chunk{Offset: time.Duration(sec)*time.Second + time.Duration(us)*time.Microsecond, Data: b}, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// IsCapture reports whether data, the first bytes of a file, begin a
// capture file.
func IsCapture(data []byte) bool {
	return bytes.HasPrefix(data, []byte(magicPrefix))
}

// Raw returns the device bytes in r, whether r is a capture file (the
// chunks' bytes, in order) or a raw capture (r's bytes themselves). The
// header is returned for a capture file, nil for raw input.
func Raw(r io.Reader) (io.Reader, *Header, error) {
	br := bufio.NewReaderSize(r, len(magicPrefix)+16)
	peek, err := br.Peek(len(magicPrefix))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("capture: %w", err)
	}
	if !IsCapture(peek) {
		return br, nil, nil
	}
	cr, err := NewReader(br)
	if err != nil {
		return nil, nil, err
	}
	h := cr.Header()
	return &chunkReader{r: cr}, &h, nil
}

// chunkReader reads the bytes of a capture's chunks as one stream.
type chunkReader struct {
	r    *Reader
	rest []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.rest) == 0 {
		ch, err := c.r.Next()
		if err != nil {
			return 0, err
		}
		c.rest = ch.Data
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

// Play writes each chunk of r to w at its offset, counted from when Play
// starts and divided by speed (1 is the original timing; 0 or less means
// 1), until the capture ends (it returns nil), ctx ends, or a write fails.
func Play(ctx context.Context, r *Reader, w io.Writer, speed float64) error {
	if !(speed > 0) {
		speed = 1
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		c, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if wait := time.Until(start.Add(time.Duration(float64(c.Offset) / speed))); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := w.Write(c.Data); err != nil {
			return fmt.Errorf("capture: play: %w", err)
		}
	}
}

// Tee returns rw with every byte read from it also recorded to w, so a
// capture can be taken while the stream goes on to its reader. A failure
// to record never disturbs the stream: Tee stops recording and calls
// onErr once (nil onErr ignores it).
func Tee(rw io.ReadWriter, w *Writer, onErr func(error)) io.ReadWriter {
	return &tee{rw: rw, w: w, onErr: onErr}
}

type tee struct {
	rw    io.ReadWriter
	w     *Writer
	onErr func(error)
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.rw.Read(p)
	if n > 0 && t.w != nil {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			t.w = nil
			if t.onErr != nil {
				t.onErr(werr)
			}
		}
	}
	return n, err
}

func (t *tee) Write(p []byte) (int, error) { return t.rw.Write(p) }
