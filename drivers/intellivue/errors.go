package intellivue

import (
	"errors"
	"strconv"
)

// ErrTruncated is returned by [SplitFrames] at the end of input when the
// input ends inside a frame (a start-of-frame byte without its end).
var ErrTruncated = errors.New("intellivue: truncated frame at end of input")

// ErrRefused is matched by the error a session returns when the monitor
// refuses the association (see [RefusedError]).
var ErrRefused = errors.New("intellivue: association refused")

// FrameError reports a frame that is garbled, aborted or fails its frame
// check sequence. Offset is the byte offset in the token given to
// [DecodeFrame]. A FrameError concerns one frame only: the stream goes on.
type FrameError struct {
	Offset int    // byte offset in the wire frame
	Reason string // what is wrong
}

func (e *FrameError) Error() string {
	return "intellivue: bad frame at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// MessageError reports user data that does not decode as a Data Export
// message: too short, a length field that overruns its container, or a
// value out of range. Offset is the byte offset in the user data.
type MessageError struct {
	Offset int    // byte offset in the user data
	What   string // the structure being decoded, for example "ROapdus"
	Reason string // what is wrong
}

func (e *MessageError) Error() string {
	s := "intellivue: bad message at offset " + strconv.Itoa(e.Offset)
	if e.What != "" {
		s += " (" + e.What + ")"
	}
	return s + ": " + e.Reason
}

// ProtocolError reports a message that decodes but breaks the dialog: an
// unexpected message in the current state, a linked result out of order,
// or a remote-operation error from the monitor.
type ProtocolError struct {
	State  string // the session state or the reassembly step
	Reason string
}

func (e *ProtocolError) Error() string {
	return "intellivue: protocol error in " + e.State + ": " + e.Reason
}

// RefusedError is returned when the monitor answers the association
// request with a Refuse SPDU. It matches [ErrRefused].
type RefusedError struct {
	// Reason is the refuse reason code the monitor sent, or -1 if none.
	Reason int
}

func (e *RefusedError) Error() string {
	if e.Reason < 0 {
		return "intellivue: association refused by the monitor"
	}
	return "intellivue: association refused by the monitor (reason " + strconv.Itoa(e.Reason) + ")"
}

// Is reports whether target is ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
