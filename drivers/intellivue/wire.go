package intellivue

import (
	"encoding/binary"
	"fmt"
)

// cursor reads big-endian fields from user data and records the first
// failure as a *MessageError with its offset.
type cursor struct {
	b    []byte
	off  int // offset of b[0] in the user data
	pos  int
	what string
	err  error
}

func newCursor(b []byte, off int, what string) *cursor {
	return &cursor{b: b, off: off, what: what}
}

func (c *cursor) fail(reason string, args ...any) {
	if c.err == nil {
		c.err = &MessageError{Offset: c.off + c.pos, What: c.what, Reason: fmt.Sprintf(reason, args...)}
	}
}

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || len(c.b)-c.pos < n {
		c.fail("need %d bytes, %d left", n, len(c.b)-c.pos)
		return false
	}
	return true
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.pos]
	c.pos++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(c.b[c.pos:])
	c.pos += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(c.b[c.pos:])
	c.pos += 4
	return v
}

// bytes returns the next n bytes (a slice of the input).
func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	v := c.b[c.pos : c.pos+n : c.pos+n]
	c.pos += n
	return v
}

// sub returns a cursor over the next n bytes, for a length-prefixed part.
func (c *cursor) sub(n int, what string) *cursor {
	start := c.off + c.pos
	b := c.bytes(n)
	if b == nil && c.err != nil {
		return &cursor{err: c.err, what: what, off: start}
	}
	return &cursor{b: b, off: start, what: what}
}

func (c *cursor) rest() int { return len(c.b) - c.pos }

// done fails if bytes are left over.
func (c *cursor) done() {
	if c.err == nil && c.pos != len(c.b) {
		c.fail("%d bytes left over", len(c.b)-c.pos)
	}
}

// appendU16 and appendU32 append big-endian integers.
func appendU16(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }
func appendU32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// patchU16 writes v at dst[at:].
func patchU16(dst []byte, at int, v int) { binary.BigEndian.PutUint16(dst[at:], uint16(v)) }
