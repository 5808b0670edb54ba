package hl7v2

import (
	"errors"
	"strconv"
)

// Sentinel errors. A *ParseError wraps one of them.
var (
	// ErrNoMSH is returned when the message does not start with an MSH
	// segment.
	ErrNoMSH = errors.New("hl7v2: message does not start with MSH")
	// ErrDelimiters is returned when MSH-1 and MSH-2 do not declare five
	// distinct delimiters (a wrong field separator, for one).
	ErrDelimiters = errors.New("hl7v2: bad encoding characters in MSH-1/MSH-2")
	// ErrNotORU is returned by ParseORU for a message whose MSH-9 is not
	// ORU^R01.
	ErrNotORU = errors.New("hl7v2: not an ORU^R01 message")
	// ErrVersion is returned by ParseORU for an MSH-12 outside 2.3 to 2.6.
	ErrVersion = errors.New("hl7v2: unsupported HL7 version")
	// ErrStructure is returned for a required field or segment that is
	// missing or malformed (MSH-10, an OBX outside an OBR, a bad time).
	ErrStructure = errors.New("hl7v2: malformed message")
)

// ParseError says where a message is wrong: the segment (with its
// position, 1-based) and field, for the ERR segment of an acknowledgement.
// It never quotes a value.
type ParseError struct {
	Segment string // segment id, for example "OBX"
	Seq     int    // 1-based position of the segment in the message, 0 if none
	Field   int    // field number, 0 if the whole segment
	Err     error  // one of the sentinel errors
	Reason  string // what is wrong
}

func (e *ParseError) Error() string {
	s := "hl7v2: "
	if e.Segment != "" {
		s += e.Segment
		if e.Field > 0 {
			s += "-" + strconv.Itoa(e.Field)
		}
		if e.Seq > 0 {
			s += " (segment " + strconv.Itoa(e.Seq) + ")"
		}
		s += ": "
	}
	return s + e.Reason
}

func (e *ParseError) Unwrap() error { return e.Err }
