package assoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/topic"
)

// Event is what an admission message says happened at the bed.
type Event string

// The events. Admit and TransferIn open a window (the patient is in the bed
// from the message's time); TransferOut and Discharge close it.
const (
	Admit       Event = "admit"
	TransferIn  Event = "transfer-in"
	TransferOut Event = "transfer-out"
	Discharge   Event = "discharge"
)

// Opens reports whether the event puts a patient in the bed.
func (e Event) Opens() bool { return e == Admit || e == TransferIn }

func (e Event) valid() bool {
	switch e {
	case Admit, TransferIn, TransferOut, Discharge:
		return true
	}
	return false
}

// Limits of an admission message and its free-text fields, in bytes.
const (
	// MaxAdmissionLen is the largest message ParseAdmission reads: a
	// message of the documented shape is under 300 bytes.
	MaxAdmissionLen = 4096
	MaxLocalIDLen   = 64
	MaxIDLen        = 128
)

// Admission is one admission message of the EPR. On the wire it is one
// JSON object (UTF-8), published retained on the bed's AdmissionTopic:
//
//		{"event":"admit","nhs_number":"9990000018","local_id":"RX1-0042",
//		 "time":"2026-11-26T09:30:00Z","id":"epr-7f3a"}
//
//	  - event (required): "admit", "transfer-in", "transfer-out" or
//	    "discharge".
//	  - nhs_number: ten digits (or 3-3-4 with single spaces), Modulus 11
//	    checked; stored as ten digits.
//	  - local_id: the hospital's local number, at most MaxLocalIDLen bytes
//	    of valid UTF-8, no control characters.
//	  - admit and transfer-in need nhs_number or local_id (or both);
//	    transfer-out and discharge may name the patient leaving, and are then
//	    rejected by the Register if another patient is in the bed.
//	  - time (required): RFC 3339 with a zone offset, when the event
//	    happened (not when it was sent).
//	  - id (required): the EPR's message id, at most MaxIDLen bytes; a
//	    message re-delivered with the same id is applied once.
//
// Unknown fields are ignored, so the EPR may add fields. A message over
// MaxAdmissionLen bytes or not valid UTF-8 is refused whole: decoding would
// replace invalid bytes, and two different local ids could then become one.
type Admission struct {
	Event   Event
	Patient record.Patient
	Time    time.Time
	ID      string
}

type wireAdmission struct {
	Event     string `json:"event"`
	NHSNumber string `json:"nhs_number,omitempty"`
	LocalID   string `json:"local_id,omitempty"`
	Time      string `json:"time"`
	ID        string `json:"id"`
}

// ParseAdmission decodes and checks one admission message. Errors wrap one
// of ErrMalformed, ErrEvent, ErrNHSNumber, ErrLocalID, ErrNoPatient, ErrTime
// or ErrID, and never repeat a patient identifier.
func ParseAdmission(b []byte) (Admission, error) {
	if len(b) > MaxAdmissionLen {
		return Admission{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxAdmissionLen)
	}
	if !utf8.Valid(b) {
		return Admission{}, fmt.Errorf("%w: not valid UTF-8", ErrMalformed)
	}
	var w wireAdmission
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return Admission{}, fmt.Errorf("%w: %s", ErrMalformed, jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Admission{}, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	var a Admission
	a.Event = Event(w.Event)
	if !a.Event.valid() {
		if w.Event == "" {
			return Admission{}, fmt.Errorf("%w: missing", ErrEvent)
		}
		return Admission{}, fmt.Errorf("%w: %q", ErrEvent, clip(w.Event))
	}
	if w.NHSNumber != "" {
		n, err := NormalizeNHSNumber(w.NHSNumber)
		if err != nil {
			return Admission{}, fmt.Errorf("nhs_number: %w", err)
		}
		a.Patient.NHSNumber = n
	}
	if w.LocalID != "" {
		if err := checkText(w.LocalID, MaxLocalIDLen); err != nil {
			return Admission{}, fmt.Errorf("%w: %s", ErrLocalID, err)
		}
		a.Patient.LocalID = w.LocalID
	}
	if a.Event.Opens() && a.Patient == (record.Patient{}) {
		return Admission{}, fmt.Errorf("%w: %s needs nhs_number or local_id", ErrNoPatient, a.Event)
	}
	if w.Time == "" {
		return Admission{}, fmt.Errorf("%w: time is missing", ErrTime)
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Admission{}, fmt.Errorf("%w: %q is not RFC 3339 with a zone offset", ErrTime, clip(w.Time))
	}
	a.Time = t.UTC()
	if w.ID == "" {
		return Admission{}, fmt.Errorf("%w: id is missing", ErrID)
	}
	if err := checkText(w.ID, MaxIDLen); err != nil {
		return Admission{}, fmt.Errorf("%w: %s", ErrID, err)
	}
	a.ID = w.ID
	return a, nil
}

// MarshalJSON encodes a as the wire form ParseAdmission reads (for an EPR
// simulator or tests).
func (a Admission) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireAdmission{
		Event:     string(a.Event),
		NHSNumber: a.Patient.NHSNumber,
		LocalID:   a.Patient.LocalID,
		Time:      a.Time.Format(time.RFC3339Nano),
		ID:        a.ID,
	})
}

// jsonProblem describes a decoding error without echoing values.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s, not a JSON %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return "empty payload"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	}
	return "not a JSON object"
}

func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("holds a control character")
	}
	return nil
}

// clip shortens a value that is echoed in an error (never a patient
// identifier).
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// AdmissionTopic is the retained topic the EPR publishes a bed's admission
// messages on: bedgate/v1/<site>/<ward>/<bed>/admission (see gateway/topic).
func AdmissionTopic(site, ward, bed string) string {
	return topic.Bed(site, ward, bed, topic.Admission)
}

// AdmissionFilter is the subscription covering every bed of a ward:
// bedgate/v1/<site>/<ward>/+/admission.
func AdmissionFilter(site, ward string) string {
	return topic.BedFilter(site, ward, topic.Admission)
}

// ParseAdmissionTopic splits an admission topic into its site, ward and
// bed, or returns an error wrapping ErrTopic.
func ParseAdmissionTopic(t string) (site, ward, bed string, err error) {
	site, ward, bed, err = topic.ParseBed(t, topic.Admission)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: %q", ErrTopic, t)
	}
	return site, ward, bed, nil
}
