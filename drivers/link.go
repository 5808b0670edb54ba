package drivers

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// idleReadPause is how long ReadChunks waits after a Read that returned no
// bytes and no error (a serial port's read timeout) before reading again.
const idleReadPause = 10 * time.Millisecond

// Chunk is the result of one Read of a device link: the bytes read, or the
// error that ended reading. Exactly one of Data and Err is set.
type Chunk struct {
	Data []byte // never empty when Err is nil; owned by the receiver
	Err  error
}

// ReadChunks reads r into buffers of size bytes and sends each Read's
// bytes to out as a Chunk of its own, so that a session can wait for bytes,
// its context and its timers in one select. It is meant to run in its own
// goroutine and returns when a Read fails, after sending that error as
// the last Chunk (a Read that returns bytes and an error sends both, bytes
// first), or when done is closed. A Read may still be blocked when done is
// closed; ReadChunks then returns as soon as that Read does (the owner of
// r closes it to make that happen).
//
// A Read that returns no bytes and no error, as a serial port does when
// its read timeout passes, sends nothing: ReadChunks waits a short pause,
// or until done is closed, and reads again, so it neither sends empty
// chunks nor spins. ReadChunks panics if size is not positive.
func ReadChunks(r io.Reader, size int, out chan<- Chunk, done <-chan struct{}) {
	readChunks(r, size, out, done)
}

// readChunks is ReadChunks; it returns the Read error it sent, or nil when
// done was closed.
func readChunks(r io.Reader, size int, out chan<- Chunk, done <-chan struct{}) error {
	if size <= 0 {
		panic("drivers: ReadChunks: buffer size must be positive")
	}
	buf := make([]byte, size)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case out <- Chunk{Data: append([]byte(nil), buf[:n]...)}:
			case <-done:
				return nil
			}
		}
		if err != nil {
			select {
			case out <- Chunk{Err: err}:
				return err
			case <-done:
				return nil
			}
		}
		if n == 0 {
			select {
			case <-time.After(idleReadPause):
			case <-done:
				return nil
			}
		}
	}
}

// Link reads one open port for the sessions run on it one after another.
// A session's frame loop started on a Link ([FrameLoop.Start]) takes the
// Link's bytes instead of starting a reader of its own, so the bytes a
// device sends between two sessions wait for the next one: no reader left
// behind by the last session takes them. This is how a supervisor keeps
// the port of a device that fell silent ([ErrSilent]) open and reads the
// device's first bytes when it is switched on again.
//
// Writes go straight to the port. Read serves readers other than a frame
// loop; a Link is read by one reader at a time. A session must hand the
// Link itself to [FrameLoop.Start], not a wrapper of it: a loop started on a
// wrapper reads through Read with a reader of its own, which outlives the
// session and takes the next session's bytes.
type Link struct {
	r      io.Reader
	w      io.Writer // nil for a frame loop's own link, never written
	chunks chan Chunk
	done   chan struct{}
	once   sync.Once
	rest   []byte // what the last Read left of its chunk
}

// NewLink starts reading rw in a goroutine of its own, size bytes at a
// time. The caller owns rw: closing it ends a Read still blocked when
// Close is called. NewLink panics if size is not positive.
func NewLink(rw io.ReadWriter, size int) *Link { return newLink(rw, rw, size) }

// newLink is NewLink reading r and writing w.
func newLink(r io.Reader, w io.Writer, size int) *Link {
	if size <= 0 {
		panic("drivers: NewLink: buffer size must be positive")
	}
	l := &Link{r: r, w: w, chunks: make(chan Chunk), done: make(chan struct{})}
	go l.read(size)
	return l
}

// read runs ReadChunks and, once a Read has failed, gives that error to
// every later reader of the link, until Close.
func (l *Link) read(size int) {
	err := readChunks(l.r, size, l.chunks, l.done)
	if err == nil {
		return
	}
	for {
		select {
		case l.chunks <- Chunk{Err: err}:
		case <-l.done:
			return
		}
	}
}

// errLinkClosed is what Read returns after Close.
var errLinkClosed = fmt.Errorf("drivers: link closed: %w", ErrLinkLost)

// Read reads the bytes of the link's next chunk, or what is left of the
// last one, blocking until there are some or Close is called. Once a Read
// of the port has failed, Read returns that error, and so does every Read
// after it.
func (l *Link) Read(p []byte) (int, error) {
	if len(l.rest) == 0 {
		var c Chunk
		select {
		case c = <-l.chunks:
		case <-l.done:
			return 0, errLinkClosed
		}
		if c.Err != nil {
			return 0, c.Err
		}
		l.rest = c.Data
	}
	n := copy(p, l.rest)
	l.rest = l.rest[n:]
	return n, nil
}

// Write writes p to the port.
func (l *Link) Write(p []byte) (int, error) { return l.w.Write(p) }

// Close stops the reader goroutine; it ends as soon as a pending Read of
// the port returns. It is safe to call more than once.
func (l *Link) Close() { l.once.Do(func() { close(l.done) }) }
