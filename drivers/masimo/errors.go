package masimo

import (
	"errors"
	"strconv"
)

// ErrTruncated is returned by [Splitter.Split] at the end of input when the
// input ends inside a line (no CR or LF after the last bytes).
var ErrTruncated = errors.New("masimo: truncated line at end of input")

// LineError reports a line that is garbled, truncated or out of spec. It
// names the byte offset in the line where the problem was found and, where
// one applies, the field. Its message never holds a measured value.
type LineError struct {
	Offset int    // byte offset in the line
	Field  string // the field's key, "time" for the timestamp, or empty
	Reason string // what is wrong
}

func (e *LineError) Error() string {
	s := "masimo: bad line at offset " + strconv.Itoa(e.Offset)
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	return s + ": " + e.Reason
}
