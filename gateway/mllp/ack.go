package mllp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers/hl7v2"
)

// Code is an acknowledgement code (HL7 table 0008, original mode).
type Code string

// The acknowledgement codes.
const (
	// AA: the message is accepted, its readings durable.
	AA Code = "AA"
	// AE: the message was read but its content cannot be accepted
	// (unknown bed, no usable OBX, a malformed field), or the gateway
	// could not store it (the sender should send it again).
	AE Code = "AE"
	// AR: the message is refused as a whole (not HL7, not ORU^R01, an
	// unsupported version, over the size limit).
	AR Code = "AR"
)

// Error conditions (HL7 table 0357) used in ERR segments.
const (
	CondSegmentSequence  = "100" // no MSH, OBX outside OBR
	CondRequiredMissing  = "101" // no usable OBX, no MSH-10
	CondDataType         = "102" // malformed field, delimiters, time
	CondUnsupportedType  = "200" // not ORU^R01
	CondUnsupportedVer   = "203" // not 2.3 to 2.6
	CondUnknownKey       = "204" // unknown bed or equipment
	CondApplicationError = "207" // internal error, size limit
)

// Error is what an Acceptor returns for a message it does not accept: the
// acknowledgement code and the ERR segment's content. Its text must not
// hold patient identifiers or values: it goes back to the sender and into
// the log.
type Error struct {
	Code      Code   // AE or AR
	Condition string // HL7 table 0357 code, for example CondUnknownKey
	// Segment, Seq and Field locate the problem when known (ERR-2).
	Segment    string
	Seq, Field int
	Text       string
}

func (e *Error) Error() string {
	loc := ""
	if e.Segment != "" {
		loc = " at " + e.Segment
		if e.Field > 0 {
			loc += "-" + strconv.Itoa(e.Field)
		}
	}
	return fmt.Sprintf("mllp: %s %s%s: %s", e.Code, e.Condition, loc, e.Text)
}

// FromParseError turns a parse error of drivers/hl7v2 into the Error the
// sender gets: AR for a message that is not an ORU^R01 of a supported
// version or not HL7 at all, AE for a malformed field.
func FromParseError(err error) *Error {
	var pe *hl7v2.ParseError
	if !errors.As(err, &pe) {
		return &Error{Code: AE, Condition: CondDataType, Text: "unreadable message"}
	}
	e := &Error{Code: AE, Condition: CondDataType, Segment: pe.Segment, Seq: pe.Seq, Field: pe.Field, Text: pe.Reason}
	switch {
	case errors.Is(err, hl7v2.ErrNoMSH):
		e.Code, e.Condition = AR, CondSegmentSequence
	case errors.Is(err, hl7v2.ErrDelimiters):
		e.Code = AR
	case errors.Is(err, hl7v2.ErrNotORU):
		e.Code, e.Condition = AR, CondUnsupportedType
	case errors.Is(err, hl7v2.ErrVersion):
		e.Code, e.Condition = AR, CondUnsupportedVer
	case pe.Field == 10 && pe.Segment == "MSH":
		e.Condition = CondRequiredMissing
	case pe.Field == 0:
		e.Condition = CondSegmentSequence
	}
	return e
}

// header is what an acknowledgement needs of the message it answers.
type header struct {
	sendingApp, sendingFac, receivingApp, receivingFac string // escaped, as sent
	controlID, processingID, version                   string // unescaped
	delims                                             hl7v2.Delimiters
}

// readHeader reads the MSH fields an acknowledgement needs; ok is false
// when the message has no readable MSH.
func readHeader(msg []byte) (header, bool) {
	m, err := hl7v2.Parse(msg)
	if err != nil || len(m.Segments) == 0 {
		return header{delims: hl7v2.DefaultDelimiters}, false
	}
	msh := m.Segments[0]
	return header{
		sendingApp: msh.Get(3, 1, 0, 0), sendingFac: msh.Get(4, 1, 0, 0),
		receivingApp: msh.Get(5, 1, 0, 0), receivingFac: msh.Get(6, 1, 0, 0),
		controlID: msh.Get(10, 1, 0, 0), processingID: msh.C(11, 1), version: msh.C(12, 1),
		delims: m.Delims,
	}, true
}

// key identifies a message for duplicate detection: the sender (MSH-3
// and MSH-4) and its control id (MSH-10).
func (h header) key() string {
	if h.controlID == "" {
		return ""
	}
	return h.sendingApp + "|" + h.sendingFac + "|" + h.controlID
}

// ack builds the acknowledgement of a message with header h. The ACK uses
// the usual delimiters, the message's version (2.5 when it has none we
// support) and, for AE and AR, an ERR segment in the layout of that
// version: ERR-1 (ELD) before 2.5, ERR-2, -3, -4 and -8 from 2.5.
func ack(h header, code Code, e *Error, controlID string, now time.Time) []byte {
	d := hl7v2.DefaultDelimiters
	esc := func(s string) string { return hl7v2.Escape(s, d) }
	version := h.version
	switch version {
	case "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6":
	default:
		version = "2.5"
	}
	proc := h.processingID
	if proc == "" || len(proc) > 1 {
		proc = "P"
	}
	app := h.receivingApp
	if app == "" {
		app = "BEDGATE"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "MSH|^~\\&|%s|%s|%s|%s|%s||ACK^R01^ACK|%s|%s|%s\r",
		esc(app), esc(h.receivingFac), esc(h.sendingApp), esc(h.sendingFac),
		now.UTC().Format("20060102150405-0700"), esc(controlID), esc(proc), version)
	fmt.Fprintf(&b, "MSA|%s|%s", code, esc(h.controlID))
	if e != nil {
		fmt.Fprintf(&b, "|%s", esc(clipText(e.Text)))
	}
	b.WriteByte('\r')
	if e != nil {
		loc := ""
		if e.Segment != "" {
			loc = esc(e.Segment) + "^" + itoa(e.Seq) + "^" + itoa(e.Field)
		}
		cond := e.Condition + "^" + esc(conditionText[e.Condition]) + "^HL70357"
		if version < "2.5" {
			fmt.Fprintf(&b, "ERR|%s^%s\r", loc, strings.ReplaceAll(cond, "^", "&"))
		} else {
			fmt.Fprintf(&b, "ERR||%s|%s|E||||%s\r", loc, cond, esc(clipText(e.Text)))
		}
	}
	return []byte(b.String())
}

var conditionText = map[string]string{
	CondSegmentSequence:  "Segment sequence error",
	CondRequiredMissing:  "Required field missing",
	CondDataType:         "Data type error",
	CondUnsupportedType:  "Unsupported message type",
	CondUnsupportedVer:   "Unsupported version id",
	CondUnknownKey:       "Unknown key identifier",
	CondApplicationError: "Application internal error",
}

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// clipText bounds a text sent back in an ACK to 200 bytes, one line.
func clipText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}
