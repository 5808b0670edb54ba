package dri

import (
	"errors"
	"fmt"
)

// Framing bytes [M1017617, frame structure].
const (
	Flag    = 0x7E // starts and ends every frame
	Control = 0x7D // escapes a Flag or Control byte in the frame
	escBit  = 0x20 // cleared in an escaped byte by the sender, set again by the receiver
)

// Sizes.
const (
	HeaderSize = 40   // struct datex_hdr
	MaxData    = 1450 // the largest data area of a record
	MaxRecord  = HeaderSize + MaxData
	// MaxFrame is the most bytes the splitter holds while it waits for a
	// frame to close: the opening flag, and a record and its checksum with
	// every byte escaped.
	MaxFrame = 1 + 2*(MaxRecord+1)
)

// Frame errors. Unframe wraps them in a *FrameError.
var (
	ErrChecksum = errors.New("checksum mismatch")
	ErrEscape   = errors.New("control byte at the end of the frame")
	ErrShort    = errors.New("frame shorter than a record header and checksum")
)

// ErrTruncated is returned by the splitter at the end of input when the
// input ends inside a frame.
var ErrTruncated = errors.New("dri: truncated frame at end of input")

// FrameError reports a frame that is not a valid record; it never holds a
// value.
type FrameError struct{ Err error }

func (e *FrameError) Error() string { return "dri: frame: " + e.Err.Error() }

// Unwrap returns the reason.
func (e *FrameError) Unwrap() error { return e.Err }

// Checksum is the 8-bit unsigned sum of every byte of a record.
func Checksum(record []byte) byte {
	var s byte
	for _, b := range record {
		s += b
	}
	return s
}

// AppendFrame appends the wire bytes of record: a flag, the record and its
// checksum with every flag and control byte escaped (the checksum too),
// and a closing flag.
func AppendFrame(dst, record []byte) []byte {
	dst = append(dst, Flag)
	for _, b := range append(record[:len(record):len(record)], Checksum(record)) {
		if b == Flag || b == Control {
			dst = append(dst, Control, b^escBit)
			continue
		}
		dst = append(dst, b)
	}
	return append(dst, Flag)
}

// Unframe undoes the escaping of a frame's content (the bytes between its
// flags, as the splitter returns them), checks the checksum and returns
// the record without it.
func Unframe(content []byte) ([]byte, error) {
	out := make([]byte, 0, len(content))
	for i := 0; i < len(content); i++ {
		b := content[i]
		if b == Control {
			i++
			if i == len(content) {
				return nil, &FrameError{ErrEscape}
			}
			b = content[i] ^ escBit
		}
		out = append(out, b)
	}
	if len(out) < HeaderSize+1 {
		return nil, &FrameError{fmt.Errorf("%w: %d bytes", ErrShort, len(out))}
	}
	record, sum := out[:len(out)-1], out[len(out)-1]
	if got := Checksum(record); got != sum {
		return nil, &FrameError{fmt.Errorf("%w: sum %#02x, frame says %#02x", ErrChecksum, got, sum)}
	}
	return record, nil
}

// Split is the bufio.SplitFunc of the link: each token is the content of
// one frame, the bytes between its two flags, still escaped. A frame's
// closing flag is left in place: it may open the next one, and two flags
// in a row are an empty frame, skipped. Bytes outside frames are skipped (a
// link joined in the middle of a frame); so is an opened frame that runs
// past MaxFrame without closing. At the end of input, bytes after the last
// flag give ErrTruncated. It keeps no state.
func Split(data []byte, atEOF bool) (int, []byte, error) {
	// bufio.Scanner stops at the end of input when a split returns no
	// token: skip noise and empty frames here, not in calls of their own.
	for pos := 0; ; {
		start := indexFlag(data, pos)
		if start < 0 {
			return len(data), nil, nil // noise: no frame opens here
		}
		end := indexFlag(data, start+1)
		switch {
		case end == start+1:
			pos = end // a closing flag, or an empty frame
			continue
		case end-start > MaxFrame:
			pos = end // a frame too long to be one: noise
			continue
		case end > 0:
			return end, data[start+1 : end], nil
		case len(data)-start > MaxFrame:
			return len(data), nil, nil // a frame that never closed
		case atEOF && len(data)-start > 1:
			return len(data), nil, ErrTruncated
		case atEOF:
			return len(data), nil, nil // the last frame's closing flag
		}
		return start, nil, nil
	}
}

// indexFlag returns the index of the first flag in data at or after from,
// or -1.
func indexFlag(data []byte, from int) int {
	for i := from; i < len(data); i++ {
		if data[i] == Flag {
			return i
		}
	}
	return -1
}

// skippedBy returns how many bytes a split that advanced adv over data and
// returned token skipped as noise: neither a frame's content nor a flag.
func skippedBy(data []byte, adv int, token []byte) int64 {
	n := -len(token)
	for _, b := range data[:adv] {
		if b != Flag {
			n++
		}
	}
	return int64(n)
}
