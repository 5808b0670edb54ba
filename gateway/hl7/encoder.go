package hl7

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// MediaType is the content type of the encoded messages.
const MediaType = "application/hl7-v2"

// Fixed content of every message (see the package documentation).
const (
	// MessageType is MSH-9.
	MessageType = "ORU^R01^ORU_R01"
	// Version is MSH-12.
	Version = "2.6"
	// ProfileID is MSH-21, the IHE PCD-01 message profile identifier.
	ProfileID = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
	// ServiceID is OBR-4: SNOMED CT 182777000 "monitoring of patient", as
	// PCD-01 example messages use.
	ServiceID = "182777000^monitoring of patient^SCT"
	// DefaultSendingApplication is the namespace of MSH-3 when
	// Options.SendingApplication is empty.
	DefaultSendingApplication = "BEDGATE"
	// UnboundAuthority is the assigning authority (CX.4) of the PID-3
	// identifier written when no patient is bound to the bed: the value is
	// the bed, "<site>/<ward>/<bed>", with identifier type U (unspecified),
	// so it can never match a real patient.
	UnboundAuthority = "BEDGATE-BED"
	// LocalCodeSystem is the HL7 local coding system (table 0396 "99zzz")
	// of the alternate code of a value the driver knows only by the
	// device's label: "<driver>:<label>".
	LocalCodeSystem = "99BGT"
)

// dtmLayout is an HL7 DTM with milliseconds and the zone offset.
const dtmLayout = "20060102150405.000-0700"

// MDS device classes (IEEE 11073-10101 object partition 1) for OBX-3 of the
// device row.
const (
	mdsPulseOximeter = "69641^MDC_DEV_ANALY_SAT_O2_MDS^MDC"
	mdsMultiParam    = "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"
)

// Options configure an Encoder. The zero value is valid.
//
// The application and facility options are HL7 HD values: a namespace id,
// optionally followed by "^<universal id>^<universal id type>" (for example
// "RXX01^2.16.840.1.113883.2.1.3.2.4.18.48^ISO"). They may not contain
// "|", "~", "\", "&" or control characters.
type Options struct {
	// SendingApplication is MSH-3 and the assigning authority of OBR-3.
	// A plain name (the default is "BEDGATE") is completed with the
	// gateway's derived EUI-64: "<name>^<EUI-64>^EUI-64".
	SendingApplication string
	// SendingFacility is MSH-4. Empty means the record's site.
	SendingFacility string
	// ReceivingApplication and ReceivingFacility are MSH-5 and MSH-6,
	// empty by default.
	ReceivingApplication string
	ReceivingFacility    string
	// ProcessingID is MSH-11: "P" production (the default), "D"
	// debugging or "T" training.
	ProcessingID string
	// Location is the time zone of every timestamp; nil means UTC.
	// Timestamps always carry their offset.
	Location *time.Location
	// LocalIDAuthority is the assigning authority (CX.4) of a local
	// hospital number (record.Patient.LocalID), identifier type MR. Empty
	// means the record's site.
	LocalIDAuthority string
	// Incarnation is the outbox's incarnation id (buffer.Buffer.Incarnation),
	// the store the sequence numbers passed to Encode belong to; it is part
	// of MSH-10 (see MessageControlID). Empty leaves it out.
	Incarnation string
}

// Encoder turns records into HL7 v2.6 ORU^R01 messages per IHE PCD-01. It
// holds no mutable state and is safe for concurrent use.
type Encoder struct {
	opts  Options
	units map[string][]terminology.Unit // MDC units by UCUM code
}

var _ record.Encoder = (*Encoder)(nil)

// New returns an Encoder, or an error saying which option is wrong.
func New(opts Options) (*Encoder, error) {
	var errs []error
	for _, o := range []struct{ name, value string }{
		{"SendingApplication", opts.SendingApplication},
		{"SendingFacility", opts.SendingFacility},
		{"ReceivingApplication", opts.ReceivingApplication},
		{"ReceivingFacility", opts.ReceivingFacility},
		{"LocalIDAuthority", opts.LocalIDAuthority},
	} {
		if err := checkHD(o.value); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", o.name, o.value, err))
		}
	}
	switch opts.ProcessingID {
	case "":
		opts.ProcessingID = "P"
	case "P", "D", "T":
	default:
		errs = append(errs, fmt.Errorf("ProcessingID %q: must be P (production), D (debugging) or T (training)", opts.ProcessingID))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hl7: %w", err)
	}
	if opts.SendingApplication == "" {
		opts.SendingApplication = DefaultSendingApplication
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	e := &Encoder{opts: opts, units: make(map[string][]terminology.Unit)}
	for _, v := range terminology.All() {
		for _, u := range v.Units {
			if !containsUnit(e.units[u.UCUM], u.MDC) {
				e.units[u.UCUM] = append(e.units[u.UCUM], u)
			}
		}
	}
	return e, nil
}

// checkHD accepts an empty string or an HD value of at most three
// components without other delimiters.
func checkHD(s string) error {
	switch {
	case strings.ContainsAny(s, "|~\\&"):
		return errors.New(`may not contain "|", "~", "\" or "&"`)
	case hasControl(s):
		return errors.New("may not contain control characters")
	case strings.Count(s, "^") > 2:
		return errors.New("an HD value has at most three components: namespace^universal id^type")
	case s != "" && strings.HasPrefix(s, "^") && strings.Count(s, "^") != 2:
		return errors.New("an HD value without a namespace needs a universal id and its type")
	}
	return nil
}

func containsUnit(us []terminology.Unit, mdc uint32) bool {
	for _, u := range us {
		if u.MDC == mdc {
			return true
		}
	}
	return false
}

// ContentType returns MediaType.
func (e *Encoder) ContentType() string { return MediaType }

// Encode returns one ORU^R01 message for r: MSH, PID, PV1, one OBR, the
// device (MDS) OBX and one OBX per r.Observations in record order, with
// NTEs where the package documentation says. Segments end with "\r",
// including the last. The same record and seq always give the same bytes.
//
// Encode fails only for a record that breaks the record contract: no
// gateway, bed or device key, no receive time, an observation id that is
// not a UUID or appears twice.
func (e *Encoder) Encode(r record.Record, seq uint64) ([]byte, error) {
	return e.encode(r, seq, false)
}

// EncodeWrong returns the message of Encode for wrong, a record as it was
// filed, with OBX-11 W on every metric row: HL7 table 0085 "post original
// as wrong, e.g. transmitted for wrong patient". The EPR strikes out the
// results it filed under the same OBX-21 identifiers, for the PID-3 it
// filed them for. Only the MSH-10, MSH-13 and OBR-3 (the new message's)
// differ from the original, and a row without a value that the original
// marked X with no NI or NAV flag (NaN, infinities) gains the flag NI, as
// PCD-01 asks of a row without a value that is not X.
func (e *Encoder) EncodeWrong(wrong record.Record, seq uint64) ([]byte, error) {
	return e.encode(wrong, seq, true)
}

func (e *Encoder) encode(r record.Record, seq uint64, wrong bool) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return nil, err
	}
	var b strings.Builder
	controlID := escape(MessageControlID(r.Gateway, e.opts.Incarnation, seq))
	sender := e.sendingApplication(r.Gateway)
	at := e.dtm(effectiveTime(r))

	facility := e.opts.SendingFacility
	if facility == "" {
		facility = escape(r.Site)
	}
	// Each segment's fields are indexed by HL7 field number.
	msh := make([]string, 22)
	msh[2] = encodingChar
	msh[3] = sender
	msh[4] = facility
	msh[5] = e.opts.ReceivingApplication
	msh[6] = e.opts.ReceivingFacility
	msh[7] = e.dtm(r.ReceivedAt)
	msh[9] = MessageType
	msh[10] = controlID
	msh[11] = e.opts.ProcessingID
	msh[12] = Version
	msh[13] = strconv.FormatUint(seq, 10)
	msh[15] = "AL"
	msh[16] = "NE"
	msh[18] = "UNICODE UTF-8"
	msh[21] = ProfileID
	segment(&b, "MSH", msh[2:]...) // MSH-1 is the field separator itself

	segment(&b, "PID", "1", "", e.patientIdentifiers(r))
	segment(&b, "PV1", "1", "I", components(escape(r.Ward), "", escape(r.Bed), escape(r.Site)))

	obr := make([]string, 8)
	obr[1] = "1"
	obr[3] = controlID + "^" + sender // filler order number (EI)
	obr[4] = ServiceID
	obr[7] = at
	segment(&b, "OBR", obr[1:]...)

	// The device (MDS) row, then one row per observation. OBX-14 is
	// left empty: the rows' time is OBR-7's.
	eui := DeviceEUI64(r)
	mds := make([]string, 19)
	mds[1] = "1"
	mds[3] = deviceClass(r.Device.Driver)
	mds[4] = "1.0.0.0"
	mds[11] = "X"
	mds[18] = components(eui, "", eui, "EUI-64")
	segment(&b, "OBX", mds[1:]...)
	for i, o := range r.Observations {
		row := e.observation(r, o)
		obx := make([]string, 22)
		obx[1] = strconv.Itoa(i + 2)
		obx[2] = "NM"
		obx[3] = row.code
		obx[4] = "1.0.0." + strconv.Itoa(i+1)
		obx[5] = row.value
		obx[6] = row.unit
		obx[8] = strings.Join(row.flags, "~")
		obx[11] = row.status
		if wrong {
			obx[11] = "W"
			if row.value == "" && !slices.Contains(row.flags, "NI") && !slices.Contains(row.flags, "NAV") {
				// PCD-01 wants a row without a value to say so: X or NI.
				obx[8] = strings.Join(append(row.flags, "NI"), "~")
			}
		}
		obx[21] = strings.ToLower(o.ID) // observation instance identifier
		segment(&b, "OBX", obx[1:]...)
		for n, text := range row.notes {
			segment(&b, "NTE", strconv.Itoa(n+1), "L", escape(text))
		}
	}
	return []byte(b.String()), nil
}

// sendingApplication is MSH-3 (HD), also the assigning authority of OBR-3.
func (e *Encoder) sendingApplication(gateway string) string {
	if strings.Contains(e.opts.SendingApplication, "^") {
		return e.opts.SendingApplication
	}
	return components(e.opts.SendingApplication, GatewayEUI64(gateway), "EUI-64")
}

// patientIdentifiers is PID-3: the NHS number and the local hospital
// number when the record has them, else the bed as an identifier of type U.
func (e *Encoder) patientIdentifiers(r record.Record) string {
	var reps []string
	if p := r.Patient; p != nil {
		if p.NHSNumber != "" {
			reps = append(reps, components(escape(p.NHSNumber), "", "", "NHS", "NH"))
		}
		if p.LocalID != "" {
			authority := e.opts.LocalIDAuthority
			if authority == "" {
				authority = escape(r.Site)
			}
			// CX.4 is an HD: its components are sub-components here.
			authority = strings.ReplaceAll(authority, "^", "&")
			reps = append(reps, components(escape(p.LocalID), "", "", authority, "MR"))
		}
	}
	if len(reps) == 0 {
		bed := pathPart(r.Site) + "/" + pathPart(r.Ward) + "/" + pathPart(r.Bed)
		reps = append(reps, components(escape(bed), "", "", UnboundAuthority, "U"))
	}
	return strings.Join(reps, "~")
}

// row is the content of one observation's OBX and its NTEs.
type row struct {
	code, value, unit, status string
	flags, notes              []string
}

// observation maps o to its OBX content. See the package documentation.
func (e *Encoder) observation(r record.Record, o record.Observation) row {
	v, known := terminology.Lookup(o.MDC)
	var out row

	switch {
	case o.MDC == 0:
		label := o.Label
		if label == "" {
			label = "unlabelled"
		}
		out.code = components(strconv.FormatUint(uint64(PrivateCode(r.Device.Driver, o.Label)), 10), escape(label), "MDC",
			escape(r.Device.Driver+":"+o.Label), escape(label), LocalCodeSystem)
	default:
		ref := o.Ref
		if known {
			ref = v.Ref
		}
		if ref == "" {
			ref = o.Label
		}
		if ref == "" {
			p, t := terminology.SplitMDC(o.MDC)
			ref = fmt.Sprintf("%d::%d", p, t) // the 11073 partition::term notation
		}
		out.code = components(strconv.FormatUint(uint64(o.MDC), 10), escape(ref), "MDC")
	}
	out.unit = e.unit(v, known, o.Unit)

	out.status = "R"
	st := o.Status
	switch {
	case o.Value != nil && !math.IsNaN(*o.Value) && !math.IsInf(*o.Value, 0):
		out.value = strconv.FormatFloat(*o.Value, 'f', -1, 64)
	default:
		out.status = "X"
		switch {
		case o.Value != nil && math.IsNaN(*o.Value):
			out.flags = append(out.flags, "INV")
		case o.Value != nil && math.IsInf(*o.Value, 1):
			out.flags = append(out.flags, ">")
		case o.Value != nil:
			out.flags = append(out.flags, "<")
		case st&drivers.Invalid != 0:
			out.flags = append(out.flags, "INV")
		}
		switch {
		case st&(drivers.Unavailable|drivers.SensorOff) != 0:
			out.flags = append(out.flags, "NAV")
		case len(out.flags) == 0:
			out.flags = append(out.flags, "NI")
		}
		if st&drivers.SensorOff != 0 {
			out.notes = append(out.notes, "sensor off")
		}
		if o.Absent != "" {
			out.notes = append(out.notes, "no value: "+o.Absent)
		}
	}
	if o.Questionable || st&drivers.Questionable != 0 {
		out.flags = append(out.flags, "QUES")
		if o.Reason != "" {
			out.notes = append(out.notes, "questionable: "+o.Reason)
		}
	}
	if st&drivers.Calibrating != 0 {
		out.flags = append(out.flags, "CAL")
	}
	if st&drivers.AlarmActive != 0 {
		out.flags = append(out.flags, "ALACT")
	}
	if st&drivers.Demo != 0 {
		out.flags = append(out.flags, "DEMO")
	}
	if st&drivers.OutOfRange != 0 {
		out.notes = append(out.notes, "outside the device's measurement range")
	}
	return out
}

// unit is OBX-6: the MDC dimension of the unit (the one the terminology
// table gives for the measurement, else the only MDC dimension the table
// knows for the UCUM code), or the UCUM code itself when no single MDC
// dimension is known. Empty for no unit.
func (e *Encoder) unit(v terminology.Vital, known bool, ucum string) string {
	if ucum == "" {
		return ""
	}
	if known {
		if u, ok := v.Unit(ucum); ok {
			return mdcUnit(u)
		}
	}
	if us := e.units[ucum]; len(us) == 1 {
		return mdcUnit(us[0])
	}
	return components(escape(ucum), escape(ucum), "UCUM")
}

func mdcUnit(u terminology.Unit) string {
	return components(strconv.FormatUint(uint64(u.MDC), 10), u.MDCRef, "MDC")
}

// deviceClass is OBX-3 of the MDS row: a pulse oximeter for the drivers
// of pulse oximeters, else a multi-parameter monitor.
func deviceClass(driver string) string {
	switch driver {
	case "masimo":
		return mdsPulseOximeter
	}
	return mdsMultiParam
}

// dtm formats t as an HL7 DTM in the encoder's time zone.
func (e *Encoder) dtm(t time.Time) string {
	return t.In(e.opts.Location).Format(dtmLayout)
}

// effectiveTime is the device's time of the reading, or the gateway's
// receive time when the device sends none.
func effectiveTime(r record.Record) time.Time {
	if r.DeviceTime.IsZero() {
		return r.ReceivedAt
	}
	return r.DeviceTime
}

// pathPart percent-encodes "%" and "/" so that names can be joined with "/".
func pathPart(s string) string { return pathEscaper.Replace(s) }

// pathEscaper is built once: building a replacer costs more than using it.
var pathEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

// checkRecord reports every way r breaks the record contract.
func checkRecord(r record.Record) error {
	if err := r.Check(); err != nil {
		return fmt.Errorf("hl7: invalid record: %w", err)
	}
	return nil
}
