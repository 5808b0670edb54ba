package hl7v2

import (
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// DriverName is the driver name of readings received over HL7 v2.
const DriverName = "hl7"

// Options tune ParseORU. The zero value is valid.
type Options struct {
	// Codes maps vendor codes in OBX-3 to MDC terms. The default is none:
	// only MDC codes are known, others pass through under their label.
	Codes CodeTable
	// Location is the zone of times sent without an offset. The default
	// is time.UTC.
	Location *time.Location
	// Now stamps ReceivedAt. The default is time.Now.
	Now func() time.Time
}

// ORU is an ORU^R01 observation report.
type ORU struct {
	Header   Header
	Patient  Patient  // PID; empty when the message has none
	Location Location // PV1-3; empty when the message has none
	// Readings are the values of the report, one per equipment and time,
	// in the order their first row appears.
	Readings []Reading
	// NotNumeric counts OBX rows with a value that is not numeric (ST,
	// CWE, ...), which have no place in a reading.
	NotNumeric int
}

// Header is what MSH says about the message.
type Header struct {
	// SendingApplication and SendingFacility are MSH-3 and MSH-4, their
	// components joined with "^".
	SendingApplication, SendingFacility string
	ControlID                           string    // MSH-10
	Version                             string    // MSH-12 version id
	Time                                time.Time // MSH-7; zero when absent
	MessageType                         string    // MSH-9, e.g. "ORU^R01^ORU_R01"
	ProcessingID                        string    // MSH-11
	Delims                              Delimiters
}

// Sender names who sent the message, for telling resent messages apart:
// MSH-3 and MSH-4.
func (h Header) Sender() string { return h.SendingApplication + "|" + h.SendingFacility }

// Patient holds the patient identifiers of PID-3.
type Patient struct {
	Identifiers []Identifier
}

// Identifier is one PID-3 repetition (CX).
type Identifier struct {
	ID        string // CX-1
	Authority string // CX-4, first component (namespace id) or else the universal id
	Type      string // CX-5 identifier type code, e.g. "NH", "MR"
}

// nhsOID is the NHS number's identifier system (HL7 UK).
const nhsOID = "2.16.840.1.113883.2.1.4.1"

// NHSNumber returns the first identifier that is an NHS number by its type
// (NH) or assigning authority (NHS or its OID), unchecked.
func (p Patient) NHSNumber() (string, bool) {
	for _, id := range p.Identifiers {
		if id.Type == "NH" || id.Authority == "NHS" || id.Authority == nhsOID {
			return id.ID, true
		}
	}
	return "", false
}

// Location is PV1-3, the assigned patient location (PL).
type Location struct {
	PointOfCare, Room, Bed, Facility string
}

// Key is the location as a bed's source names it: point of care, room and
// bed joined with "^", trailing empty parts dropped ("WARD7^^BED12").
func (l Location) Key() string {
	return strings.TrimRight(l.PointOfCare+"^"+l.Room+"^"+l.Bed, "^")
}

// Reading is the values one piece of equipment reported at one time.
type Reading struct {
	// Equipment is the OBX-18 equipment identifier (EI-1, or EI-3 when
	// EI-1 is empty), or "" when the rows carry none.
	Equipment string
	drivers.Reading
}

// ParseORU parses an ORU^R01 message of HL7 2.3 to 2.6. Errors are
// *ParseError wrapping ErrNoMSH, ErrDelimiters, ErrNotORU, ErrVersion or
// ErrStructure. A report with no numeric value is not an error: Readings
// is then empty.
func ParseORU(data []byte, opts Options) (*ORU, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := Parse(data)
	if err != nil {
		return nil, err
	}
	h, err := header(m, opts.Location)
	if err != nil {
		return nil, err
	}
	if t := h.MessageType; !strings.HasPrefix(t, "ORU^R01") {
		return nil, &ParseError{Segment: "MSH", Seq: 1, Field: 9, Err: ErrNotORU, Reason: "message type " + clip(t) + " is not ORU^R01"}
	}
	if !supportedVersion(h.Version) {
		return nil, &ParseError{Segment: "MSH", Seq: 1, Field: 12, Err: ErrVersion, Reason: "version " + clip(h.Version) + " is not 2.3 to 2.6"}
	}
	oru := &ORU{Header: h}
	if pid, ok := m.First("PID"); ok {
		for r := 1; r <= pid.Reps(3); r++ {
			id := Identifier{ID: pid.Get(3, r, 1, 0), Authority: pid.Get(3, r, 4, 1), Type: pid.Get(3, r, 5, 0)}
			if id.Authority == "" {
				id.Authority = pid.Get(3, r, 4, 2)
			}
			if id.ID != "" {
				oru.Patient.Identifiers = append(oru.Patient.Identifiers, id)
			}
		}
	}
	if pv1, ok := m.First("PV1"); ok {
		oru.Location = Location{PointOfCare: pv1.C(3, 1), Room: pv1.C(3, 2), Bed: pv1.C(3, 3), Facility: pv1.C(3, 4)}
	}
	if err := oru.observations(m, opts); err != nil {
		return nil, err
	}
	return oru, nil
}

func supportedVersion(v string) bool {
	for _, ok := range []string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6"} {
		if v == ok {
			return true
		}
	}
	return false
}

func header(m *Message, loc *time.Location) (Header, error) {
	msh := m.Segments[0]
	h := Header{
		SendingApplication: msh.Get(3, 1, 0, 0),
		SendingFacility:    msh.Get(4, 1, 0, 0),
		ControlID:          msh.Get(10, 1, 0, 0),
		Version:            msh.C(12, 1),
		MessageType:        msh.Get(9, 1, 0, 0),
		ProcessingID:       msh.C(11, 1),
		Delims:             m.Delims,
	}
	if h.ControlID == "" {
		return h, &ParseError{Segment: "MSH", Seq: 1, Field: 10, Err: ErrStructure, Reason: "message control id is empty"}
	}
	if s := msh.C(7, 1); s != "" {
		t, err := ParseTime(s, loc)
		if err != nil {
			return h, &ParseError{Segment: "MSH", Seq: 1, Field: 7, Err: ErrStructure, Reason: err.Error()}
		}
		h.Time = t
	}
	return h, nil
}

// observations turns the OBX rows into readings.
func (oru *ORU) observations(m *Message, opts Options) error {
	received := opts.Now()
	type key struct {
		equipment string
		at        time.Time
	}
	index := map[key]int{}
	var obrTime time.Time
	var equipment string
	inOBR := false
	for _, seg := range m.Segments {
		switch seg.ID {
		case "OBR":
			inOBR, equipment, obrTime = true, "", oru.Header.Time
			if s := seg.C(7, 1); s != "" {
				t, err := ParseTime(s, opts.Location)
				if err != nil {
					return &ParseError{Segment: "OBR", Seq: seg.Seq, Field: 7, Err: ErrStructure, Reason: err.Error()}
				}
				obrTime = t
			}
			continue
		case "OBX":
		default:
			continue
		}
		if !inOBR {
			return &ParseError{Segment: "OBX", Seq: seg.Seq, Err: ErrStructure, Reason: "OBX before any OBR"}
		}
		if e := seg.C(18, 1); e != "" {
			equipment = e
		} else if e := seg.C(18, 3); e != "" {
			equipment = e
		}
		at := obrTime
		if s := seg.C(14, 1); s != "" {
			t, err := ParseTime(s, opts.Location)
			if err != nil {
				return &ParseError{Segment: "OBX", Seq: seg.Seq, Field: 14, Err: ErrStructure, Reason: err.Error()}
			}
			at = t
		}
		v, kind := oru.value(seg, opts.Codes)
		switch kind {
		case rowContainment:
			continue
		case rowNotNumeric:
			oru.NotNumeric++
			continue
		}
		k := key{equipment, at}
		i, ok := index[k]
		if !ok {
			i = len(oru.Readings)
			index[k] = i
			oru.Readings = append(oru.Readings, Reading{Equipment: equipment, Reading: drivers.Reading{
				Device:     drivers.DeviceID{Driver: DriverName, Serial: equipment},
				DeviceTime: at,
				ReceivedAt: received,
			}})
		}
		oru.Readings[i].Values = append(oru.Readings[i].Values, v)
	}
	return nil
}

type rowKind int

const (
	rowValue       rowKind = iota
	rowContainment         // a PCD-01 MDS/VMD/channel row: no type, no value
	rowNotNumeric          // a value that is not a number (ST, CWE, ...)
)

// value reads one OBX row.
func (oru *ORU) value(seg Segment, codes CodeTable) (drivers.Value, rowKind) {
	vt := seg.C(2, 1)
	raw := seg.Get(5, 1, 0, 0)
	switch {
	case vt == "" && raw == "":
		return drivers.Value{}, rowContainment
	case vt != "" && vt != "NM":
		return drivers.Value{}, rowNotNumeric
	}
	v := code(seg, codes)
	if u := unit(seg); u != "" {
		v.Unit = u
	}
	v.Status = resultStatus(seg.C(11, 1))
	for r := 1; r <= seg.Reps(8); r++ {
		v.Status |= abnormalFlags(seg.Get(8, r, 1, 0))
	}
	switch x, st := number(raw); {
	case vt == "" && x == nil:
		return drivers.Value{}, rowNotNumeric
	case st != 0:
		v.Status |= st
	default:
		v.Value = x
	}
	if v.Value == nil && v.Status&(drivers.Unavailable|drivers.Invalid) == 0 {
		v.Status |= drivers.Unavailable
	}
	return v, rowValue
}

// clip shortens text from the network for an error message.
func clip(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
