package drivers

import (
	"io"
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
				return
			}
		}
		if err != nil {
			select {
			case out <- Chunk{Err: err}:
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
