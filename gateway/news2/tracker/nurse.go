package tracker

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

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/topic"
)

var (
	// ErrNurseEntry is wrapped by every error of ParseNurseEntry and
	// NurseEntry.Validate.
	ErrNurseEntry = errors.New("tracker: invalid nurse entry")
	// ErrTopic is returned by ParseNurseTopic for a topic that is not a
	// bed's nurse topic.
	ErrTopic = errors.New("tracker: not a nurse topic")
)

// Limits of a nurse-entry message.
const (
	// MaxNurseEntryLen is the largest message ParseNurseEntry reads.
	MaxNurseEntryLen = 4096
	// MaxEntryIDLen is the longest entry id, in bytes.
	MaxEntryIDLen = 128
)

// NurseEntry is a person's assessment of one patient, at one time, of the
// two NEWS2 parameters no device measures. On the wire it is one JSON object
// (UTF-8), published retained on the bed's NurseTopic by the EPR or a
// nurse-entry application:
//
//		{"nhs_number":"9434765919","acvpu":"A","air_or_oxygen":"air",
//		 "time":"2026-11-26T09:30:00Z","id":"epr-obs-7f3a"}
//
//	  - nhs_number and/or local_id (at least one): the patient assessed, as
//	    in the admission messages (NHS number Modulus 11 checked; local id at
//	    most MaxLocalIDLen bytes, no control characters). The entry applies
//	    only to that patient, and only while they are in the bed in the
//	    stay the assessment was made in;
//	  - acvpu: the ACVPU level, one upper-case letter: "A" (alert), "C" (new
//	    confusion), "V" (voice), "P" (pain) or "U" (unresponsive);
//	  - air_or_oxygen: "air" (room air) or "oxygen" (any supplemental
//	    oxygen);
//	  - at least one of acvpu and air_or_oxygen (a field that is absent or
//	    null was not assessed, and the bed keeps its previous entry for it);
//	  - time (required): when the patient was assessed, RFC 3339 with a zone
//	    offset; the entry expires Options.NurseFor after it;
//	  - id (required): the entry's identifier in the sending system, at most
//	    MaxEntryIDLen bytes, no control characters. The score records it as
//	    the input of the parameters the entry sets.
//
// Unknown fields, values in another case or spelling, trailing data and
// messages over MaxNurseEntryLen bytes are rejected, so a typo never passes
// as "not assessed". An empty message (how MQTT clears a retained topic) is
// rejected too; the bed keeps the entries it has.
type NurseEntry struct {
	// Patient is the patient assessed (NHS number normalised to ten
	// digits, or local id, or both).
	Patient record.Patient
	// ACVPU is the consciousness level, zero when not assessed.
	ACVPU news2.ACVPU
	// Breathing is air or oxygen, zero when not recorded.
	Breathing news2.Breathing
	// Time is when the patient was assessed.
	Time time.Time
	// ID identifies the entry in the sending system.
	ID string
}

// nurseWire is the JSON form of a NurseEntry.
type nurseWire struct {
	NHSNumber   *string `json:"nhs_number"`
	LocalID     *string `json:"local_id"`
	ACVPU       *string `json:"acvpu"`
	AirOrOxygen *string `json:"air_or_oxygen"`
	Time        *string `json:"time"`
	ID          *string `json:"id"`
}

// ParseNurseEntry parses one nurse-entry message. Every error wraps
// ErrNurseEntry and says what is wrong.
func ParseNurseEntry(data []byte) (NurseEntry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return NurseEntry{}, fmt.Errorf("%w: empty message (a cleared retained entry)", ErrNurseEntry)
	}
	if len(data) > MaxNurseEntryLen {
		return NurseEntry{}, fmt.Errorf("%w: %d bytes, more than %d", ErrNurseEntry, len(data), MaxNurseEntryLen)
	}
	if !utf8.Valid(data) {
		return NurseEntry{}, fmt.Errorf("%w: not UTF-8", ErrNurseEntry)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w nurseWire
	if err := dec.Decode(&w); err != nil {
		return NurseEntry{}, fmt.Errorf("%w: %w", ErrNurseEntry, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return NurseEntry{}, fmt.Errorf("%w: data after the JSON object", ErrNurseEntry)
	}

	var e NurseEntry
	var errs []string
	if w.NHSNumber != nil {
		n, err := assoc.NormalizeNHSNumber(*w.NHSNumber)
		if err != nil {
			// The error never repeats the number.
			errs = append(errs, "nhs_number: "+err.Error())
		}
		e.Patient.NHSNumber = n
	}
	if w.LocalID != nil {
		e.Patient.LocalID = *w.LocalID
	}
	if w.ACVPU != nil {
		c, ok := parseACVPU(*w.ACVPU)
		if !ok {
			errs = append(errs, fmt.Sprintf(`acvpu %q is not one of "A", "C", "V", "P", "U"`, *w.ACVPU))
		}
		e.ACVPU = c
	}
	if w.AirOrOxygen != nil {
		switch *w.AirOrOxygen {
		case "air":
			e.Breathing = news2.Air
		case "oxygen":
			e.Breathing = news2.Oxygen
		default:
			errs = append(errs, fmt.Sprintf(`air_or_oxygen %q is not "air" or "oxygen"`, *w.AirOrOxygen))
		}
	}
	if w.ACVPU == nil && w.AirOrOxygen == nil {
		errs = append(errs, "neither acvpu nor air_or_oxygen")
	}
	switch {
	case w.Time == nil:
		errs = append(errs, "time is required")
	default:
		t, err := time.Parse(time.RFC3339Nano, *w.Time)
		if err != nil {
			errs = append(errs, fmt.Sprintf("time %q is not RFC 3339 with a zone offset", *w.Time))
		}
		e.Time = t
	}
	if w.ID == nil {
		errs = append(errs, "id is required")
	} else {
		e.ID = *w.ID
		if msg := checkID(e.ID); msg != "" {
			errs = append(errs, msg)
		}
	}
	errs = append(errs, checkPatient(e.Patient)...)
	if len(errs) > 0 {
		return NurseEntry{}, fmt.Errorf("%w: %s", ErrNurseEntry, strings.Join(errs, "; "))
	}
	return e, nil
}

// checkPatient returns what is wrong with an entry's patient: none named,
// or a local id too long or holding control characters (an NHS number is
// checked when parsed). The problems never repeat an identifier.
func checkPatient(p record.Patient) []string {
	var errs []string
	if p.NHSNumber == "" && p.LocalID == "" {
		errs = append(errs, "names no patient (nhs_number or local_id)")
	}
	if p.NHSNumber != "" {
		if err := assoc.CheckNHSNumber(p.NHSNumber); err != nil {
			errs = append(errs, "nhs_number: "+err.Error())
		}
	}
	switch id := p.LocalID; {
	case len(id) > assoc.MaxLocalIDLen:
		errs = append(errs, fmt.Sprintf("local_id is %d bytes, more than %d", len(id), assoc.MaxLocalIDLen))
	case !utf8.ValidString(id):
		errs = append(errs, "local_id is not valid UTF-8")
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		errs = append(errs, "local_id has control characters")
	}
	return errs
}

// Validate reports whether e is an entry ParseNurseEntry could return: a
// patient, a valid ACVPU level or breathing (at least one), a time and an
// id.
func (e NurseEntry) Validate() error {
	errs := checkPatient(e.Patient)
	if e.ACVPU == 0 && e.Breathing == 0 {
		errs = append(errs, "neither acvpu nor air_or_oxygen")
	}
	if e.ACVPU != 0 && e.ACVPU.Code() == "" {
		errs = append(errs, fmt.Sprintf("acvpu %v is not a level", e.ACVPU))
	}
	if e.Breathing != 0 && e.Breathing != news2.Air && e.Breathing != news2.Oxygen {
		errs = append(errs, fmt.Sprintf("air_or_oxygen %v is not air or oxygen", e.Breathing))
	}
	if e.Time.IsZero() {
		errs = append(errs, "no time")
	}
	if msg := checkID(e.ID); msg != "" {
		errs = append(errs, msg)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrNurseEntry, strings.Join(errs, "; "))
	}
	return nil
}

func parseACVPU(s string) (news2.ACVPU, bool) {
	for c := news2.Alert; c <= news2.Unresponsive; c++ {
		if c.String() == s {
			return c, true
		}
	}
	return 0, false
}

// checkID returns what is wrong with an entry id, or "".
func checkID(id string) string {
	switch {
	case id == "":
		return "id is empty"
	case len(id) > MaxEntryIDLen:
		return fmt.Sprintf("id is %d bytes, more than %d", len(id), MaxEntryIDLen)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "id has control characters"
	}
	return ""
}

// NurseTopic is the retained topic a bed's nurse entries are published on:
// bedgate/v1/<site>/<ward>/<bed>/nurse (see gateway/topic).
func NurseTopic(b Bed) string {
	return topic.Bed(b.Site, b.Ward, b.Name, topic.Nurse)
}

// NurseFilter is the subscription covering every bed of a ward:
// bedgate/v1/<site>/<ward>/+/nurse.
func NurseFilter(site, ward string) string {
	return topic.BedFilter(site, ward, topic.Nurse)
}

// ParseNurseTopic returns the bed of a nurse topic, or an error wrapping
// ErrTopic.
func ParseNurseTopic(t string) (Bed, error) {
	site, ward, bed, err := topic.ParseBed(t, topic.Nurse)
	if err != nil {
		return Bed{}, fmt.Errorf("%w: %q", ErrTopic, t)
	}
	return Bed{Site: site, Ward: ward, Name: bed}, nil
}
