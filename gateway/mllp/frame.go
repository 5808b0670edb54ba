package mllp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The MLLP block bytes (HL7 v2 Minimal Lower Layer Protocol, release 2).
const (
	StartBlock byte = 0x0B // VT
	EndBlock   byte = 0x1C // FS
	CR         byte = 0x0D
)

// DefaultMaxMessage is the default limit on one message: 1 MiB. A PCD-01
// report of a multi-parameter monitor is 2 to 20 KB.
const DefaultMaxMessage = 1 << 20

// headKeep is how much of an oversized message is kept: enough for the
// MSH segment, so that the rejection can name the message.
const headKeep = 4096

// TooLargeError is returned by Reader.Next for a message over the limit.
// The rest of the message has been read and discarded, so the stream is
// still in step.
type TooLargeError struct {
	Size, Limit int
	// Head is the message's first bytes (at most 4 KiB), for the
	// acknowledgement.
	Head []byte
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("mllp: message of %d bytes exceeds the limit of %d", e.Size, e.Limit)
}

// ErrTruncated is returned by Reader.Next when the stream ends inside a
// message (after a start block, before the end block).
var ErrTruncated = errors.New("mllp: stream ended inside a message")

// Reader reads MLLP frames: StartBlock, the message, EndBlock, CR. Bytes
// outside a frame are skipped and counted. A message may arrive over
// several reads, and several messages in one read.
type Reader struct {
	r       *bufio.Reader
	max     int
	skipped int64
}

// NewReader reads frames from r; max bounds one message (0 means
// DefaultMaxMessage).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &Reader{r: bufio.NewReaderSize(r, 32<<10), max: max}
}

// Skipped counts the bytes skipped outside frames so far.
func (r *Reader) Skipped() int64 { return r.skipped }

// Next returns the next message, without its framing. It returns io.EOF
// at a clean end of stream (between frames), ErrTruncated inside a frame,
// a *TooLargeError for a message over the limit (and is then ready for the
// next), or the transport's error. A FS not followed by CR is taken as
// part of the message, as MLLP release 2 requires.
func (r *Reader) Next() ([]byte, error) {
	for {
		b, err := r.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == StartBlock {
			break
		}
		r.skipped++
	}
	var msg []byte
	size := 0
	for {
		chunk, err := r.r.ReadSlice(EndBlock)
		size += len(chunk)
		if size <= r.max+1 {
			msg = append(msg, chunk...)
		} else if len(msg) < headKeep {
			msg = append(msg, chunk[:min(len(chunk), headKeep-len(msg))]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, ErrTruncated
		case err != nil:
			return nil, err
		}
		next, err := r.r.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		} else if err != nil {
			return nil, err
		}
		if next != CR {
			// A FS inside the message: keep reading.
			if err := r.r.UnreadByte(); err != nil {
				return nil, err
			}
			continue
		}
		size-- // the end block
		if size > r.max {
			return nil, &TooLargeError{Size: size, Limit: r.max, Head: msg[:min(len(msg), headKeep)]}
		}
		return msg[:len(msg)-1], nil
	}
}

// Frame returns msg in an MLLP frame.
func Frame(msg []byte) []byte {
	out := make([]byte, 0, len(msg)+3)
	out = append(out, StartBlock)
	out = append(out, msg...)
	return append(out, EndBlock, CR)
}
