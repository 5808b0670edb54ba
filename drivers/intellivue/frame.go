package intellivue

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Framing bytes of the MIB/RS232 transport [DEI ch. 4, "Framing" and
// "Transparency"].
const (
	frameBOF    = 0xC0 // beginning of frame
	frameEOF    = 0xC1 // end of frame
	frameEscape = 0x7D // control escape: the next byte is XORed with 0x20
	escapeXOR   = 0x20

	// ProtocolID is the first header byte: the Data Export protocol.
	ProtocolID = 0x11
	// MessageType is the second header byte: a Data Export message.
	MessageType = 0x01

	headerLen = 4 // protocol id, message type, length (2)
	fcsLen    = 2
)

// MaxUserData is the largest user data a frame may carry. Monitors
// negotiate an MTU of about 1000 bytes on RS232 (the real capture uses
// 996); the bound is generous so that no legal frame is refused.
const MaxUserData = 8192

// MaxFrameSize is the largest frame on the wire that [SplitFrames] returns
// whole: header, MaxUserData bytes and FCS, every byte escaped, plus the
// two frame delimiters. A [bufio.Scanner] fed by SplitFrames needs a
// buffer of at least MaxFrameSize+1 bytes.
const MaxFrameSize = 2*(headerLen+MaxUserData+fcsLen) + 2

// Frame is one decoded transport frame.
type Frame struct {
	// UserData is the frame's payload: one Data Export message.
	UserData []byte
}

// SplitFrames is a [bufio.SplitFunc] that cuts a byte stream into frames
// [DEI ch. 4, "Framing"]. Each token is one frame as it was on the wire,
// from its 0xC0 to its 0xC1 inclusive, still escaped; pass it to
// [DecodeFrame]. The token is a slice of data, valid only until the next
// call.
//
// Bytes before a 0xC0 are skipped: they are consumed together with the
// frame that follows them (advance > 0), or on their own with a nil token
// when no frame follows yet. SplitFrames never returns an error for a bad
// frame, because a Scanner stops at the first error: a second 0xC0 before
// the 0xC1 ends the token early, and a run of MaxFrameSize bytes without a
// 0xC1 is returned as a token of that length; DecodeFrame rejects both. At
// the end of input, a frame that has begun but not ended gives
// [ErrTruncated].
func SplitFrames(data []byte, atEOF bool) (advance int, token []byte, err error) {
	start := bytes.IndexByte(data, frameBOF)
	if start < 0 {
		return len(data), nil, nil // all noise
	}
	body := data[start+1:]
	window := body[:min(len(body), MaxFrameSize-1)]
	if end := indexDelimiter(window); end >= 0 {
		if window[end] == frameEOF {
			n := start + 1 + end + 1
			return n, data[start:n], nil
		}
		// A new frame begins before this one ended: hand over the stub.
		n := start + 1 + end
		return n, data[start:n], nil
	}
	if len(window) == MaxFrameSize-1 {
		n := start + MaxFrameSize
		return n, data[start:n], nil // over-long: DecodeFrame rejects it
	}
	if atEOF {
		return len(data), nil, ErrTruncated
	}
	return start, nil, nil // skip the noise, wait for the rest
}

// indexDelimiter returns the index of the first 0xC0 or 0xC1 in b, or -1.
func indexDelimiter(b []byte) int {
	for i, c := range b {
		if c == frameBOF || c == frameEOF {
			return i
		}
	}
	return -1
}

// DecodeFrame unescapes one wire frame as returned by [SplitFrames] and
// checks it: delimiters, transparency, abort sequence, header (protocol
// 0x11, type 0x01, length) and frame check sequence [DEI ch. 4]. The
// returned UserData is a new slice. On failure it returns a *[FrameError];
// the error concerns this frame only.
func DecodeFrame(token []byte) (Frame, error) {
	if len(token) < 2 || token[0] != frameBOF {
		return Frame{}, &FrameError{Offset: 0, Reason: "no beginning-of-frame byte 0xC0"}
	}
	last := len(token) - 1
	if token[last] != frameEOF {
		return Frame{}, &FrameError{Offset: len(token), Reason: "no end-of-frame byte 0xC1"}
	}
	out := make([]byte, 0, len(token))
	for i := 1; i < last; i++ {
		b := token[i]
		switch b {
		case frameBOF, frameEOF:
			return Frame{}, &FrameError{Offset: i, Reason: fmt.Sprintf("unescaped 0x%02X inside the frame", b)}
		case frameEscape:
			if i+1 == last {
				// [DEI ch. 4, "Frame Abort"]: 0x7D 0xC1.
				return Frame{}, &FrameError{Offset: i, Reason: "frame aborted by the sender (0x7D 0xC1)"}
			}
			i++
			b = token[i] ^ escapeXOR
		}
		out = append(out, b)
	}
	if len(out) < headerLen+fcsLen {
		return Frame{}, &FrameError{Offset: 1, Reason: fmt.Sprintf("%d bytes: shorter than header and FCS", len(out))}
	}
	if out[0] != ProtocolID || out[1] != MessageType {
		return Frame{}, &FrameError{Offset: 1, Reason: fmt.Sprintf("header 0x%02X 0x%02X: want 0x11 0x01 (Data Export)", out[0], out[1])}
	}
	n := int(binary.BigEndian.Uint16(out[2:4]))
	if got := len(out) - headerLen - fcsLen; n != got {
		return Frame{}, &FrameError{Offset: 3, Reason: fmt.Sprintf("header announces %d bytes of user data, frame holds %d", n, got)}
	}
	body := out[:len(out)-fcsLen]
	want := uint16(out[len(out)-2]) | uint16(out[len(out)-1])<<8 // low byte first
	if got := FCS(body); got != want {
		return Frame{}, &FrameError{Offset: len(token) - 1, Reason: fmt.Sprintf("frame check sequence 0x%04X, computed 0x%04X", want, got)}
	}
	return Frame{UserData: out[headerLen : headerLen+n : headerLen+n]}, nil
}

// AppendFrame appends userData as one wire frame to dst: 0xC0, the escaped
// header (0x11 0x01 length), user data and FCS (low byte first), and 0xC1
// [DEI ch. 4]. It fails only when userData is longer than MaxUserData.
func AppendFrame(dst, userData []byte) ([]byte, error) {
	if len(userData) > MaxUserData {
		return dst, fmt.Errorf("intellivue: append frame: %d bytes of user data, at most %d", len(userData), MaxUserData)
	}
	hdr := [headerLen]byte{ProtocolID, MessageType, byte(len(userData) >> 8), byte(len(userData))}
	fcs := fcsUpdate(fcsUpdate(0xFFFF, hdr[:]), userData) ^ 0xFFFF
	dst = append(dst, frameBOF)
	dst = appendEscaped(dst, hdr[:])
	dst = appendEscaped(dst, userData)
	dst = appendEscaped(dst, []byte{byte(fcs), byte(fcs >> 8)})
	return append(dst, frameEOF), nil
}

// AppendAbort appends a frame abort sequence (0x7D 0xC1) to dst
// [DEI ch. 4, "Frame Abort"]; it ends a frame the sender gives up on.
func AppendAbort(dst []byte) []byte { return append(dst, frameEscape, frameEOF) }

func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		if c == frameBOF || c == frameEOF || c == frameEscape {
			dst = append(dst, frameEscape, c^escapeXOR)
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// FCS returns the frame check sequence of b: CRC-16/X.25 (the PPP FCS-16
// of RFC 1662: reflected polynomial 0x8408, initial value 0xFFFF, final
// ones' complement) [DEI ch. 4, "Frame Check Sequence"].
func FCS(b []byte) uint16 { return fcsUpdate(0xFFFF, b) ^ 0xFFFF }

func fcsUpdate(crc uint16, b []byte) uint16 {
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
