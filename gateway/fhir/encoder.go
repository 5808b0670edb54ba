package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// MediaType is the content type of the encoded Bundles.
const MediaType = "application/fhir+json"

// Code systems used besides those of package terminology.
const (
	systemObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemDataAbsentReason    = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
	systemMeasurementStatus   = "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status"
	systemActReason           = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	systemLocationType        = "http://terminology.hl7.org/CodeSystem/location-physical-type"
)

// AssociationTagSystem is the system of the meta.tag an Observation carries
// when no patient was associated with the bed (record.Record.Unassociated);
// its code is TagUnassociated.
const (
	AssociationTagSystem = "urn:bedgate:association"
	TagUnassociated      = "unassociated"
)

// timeLayout is RFC 3339 with the zone offset ("Z" for UTC) and always
// three digits of milliseconds, valid as a FHIR dateTime and instant. The
// fixed width keeps times of one zone in order when compared as text, as
// integration engines do (trailing zeros dropped would put "…:00Z" after
// "…:00.5Z").
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Options configure an Encoder. The zero value is valid.
type Options struct {
	// LocalIDSystem is the identifier system of the hospital's local
	// patient numbers (record.Patient.LocalID), for example
	// "https://fhir.example-trust.nhs.uk/Id/mrn". It is used only for a
	// patient without an NHS number. The default is
	// "urn:bedgate:site:<site>:patient-id", which a receiver has to map.
	LocalIDSystem string
	// DisableUKCore stops the encoder from claiming UK Core vital-signs
	// profiles. By default an Observation claims the UK Core profile of its
	// vital sign when it meets the profile's rules: a Patient subject, a
	// SNOMED CT and a LOINC coding, status final.
	DisableUKCore bool
	// Incarnation is the outbox's incarnation id (buffer.Buffer.Incarnation),
	// the store the sequence numbers passed to Encode belong to. It is part
	// of the system of Bundle.identifier (see SequenceSystem). Empty leaves
	// it out, as before incarnations existed.
	Incarnation string
}

// Encoder turns records into FHIR R4 transaction Bundles. It holds no
// mutable state and is safe for concurrent use.
type Encoder struct {
	opts Options
	ns   uuid.UUID
}

var _ record.Encoder = (*Encoder)(nil)

// New returns an Encoder, or an error saying which option is wrong.
func New(opts Options) (*Encoder, error) {
	if s := opts.LocalIDSystem; s != "" {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || strings.ContainsAny(s, " \t\r\n|") {
			return nil, fmt.Errorf("fhir: LocalIDSystem %q: must be an absolute URI without spaces or \"|\", for example https://fhir.example-trust.nhs.uk/Id/mrn", s)
		}
	}
	return &Encoder{opts: opts, ns: uuid.MustParse(entryNamespace)}, nil
}

// ContentType returns MediaType.
func (e *Encoder) ContentType() string { return MediaType }

// Encode returns the compact JSON of one transaction Bundle for r, each
// entry a conditional create on its identifier. The same record and seq
// always give the same bytes.
//
//   - A KindObservations record gives one Observation entry per
//     r.Observations (the parts of a blood-pressure reading together as one
//     panel), whose subject (without a patient) and device are conditional
//     references to the resources of the bed's context Bundle.
//   - A KindContext record gives the context Bundle: a Location entry for
//     the bed, a Device entry and a DeviceMetric entry per r.Metrics.
//   - A KindNEWS2 record gives the Bundle of its score: the Location, the
//     Device when the record has a device key, and one NEWS2 Observation
//     (mapping in news2.go).
//
// Any other kind is an error. Encode fails only for a record that breaks
// the record contract: no gateway, bed or device key, no receive time, an
// observation id that is not a UUID or appears twice.
func (e *Encoder) Encode(r record.Record, seq uint64) ([]byte, error) {
	switch r.Kind {
	case record.KindObservations:
		return e.encodeObservations(r, seq)
	case record.KindContext:
		return e.encodeContext(r, seq)
	case record.KindNEWS2:
		return e.encodeNEWS2(r, seq)
	default:
		return nil, fmt.Errorf("fhir: record kind %q is not encoded as FHIR", r.Kind)
	}
}

// encodeObservations encodes an observation record.
func (e *Encoder) encodeObservations(r record.Record, seq uint64) ([]byte, error) {
	b, err := e.observations(r, seq)
	if err != nil {
		return nil, err
	}
	return marshalBundle(b, seq)
}

// observations returns the Bundle of an observation record: its
// Observations only, referring to the bed's context by conditional
// references.
func (e *Encoder) observations(r record.Record, seq uint64) (bundle, error) {
	if err := checkRecord(r); err != nil {
		return bundle{}, err
	}
	c := obsContext{r: r, subject: conditionalReference("Location", locationIdentifier(r))}
	if patient := patientIdentifier(r, e.opts.LocalIDSystem); patient != nil {
		c.subject, c.hasPatient = &reference{Type: "Patient", Identifier: patient}, true
	}
	items := planItems(r)
	b := e.newBundle(r, seq, r.ReceivedAt, len(items))
	devID := deviceIdentifier(r)
	for _, it := range items {
		var obs *observation
		var id uuid.UUID
		if it.panel != nil {
			id = it.panel.id
			obs = e.panelObservation(c, it.panel, id)
		} else {
			o := r.Observations[it.obs]
			id = uuid.MustParse(o.ID) // checked by checkRecord
			obs = e.observation(c, o, id)
		}
		obs.Device = conditionalReference("Device", devID)
		if m, ok := it.metric(); ok {
			obs.Device = conditionalReference("DeviceMetric", metricIdentifier(devID, m))
		}
		// The fullUrl is the Observation's own urn:uuid, which its
		// identifier and conditional create repeat (compressed on disk).
		b.Entry = append(b.Entry, createEntry(id.URN(), "Observation", obs, obs.Identifier[0]))
	}
	return b, nil
}

// encodeContext encodes a context record: the bed's Location, the Device
// and a DeviceMetric per metric, which observation Bundles refer to.
func (e *Encoder) encodeContext(r record.Record, seq uint64) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return nil, err
	}
	b := e.newBundle(r, seq, r.ReceivedAt, 2+len(r.Metrics))
	locEntry := e.location(r)
	devEntry := e.device(r, locEntry.FullURL)
	b.Entry = append(b.Entry, locEntry, devEntry)
	devID := deviceIdentifier(r)
	seen := make(map[string]bool, len(r.Metrics))
	for _, m := range r.Metrics {
		key := metricKey(m)
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		b.Entry = append(b.Entry, e.metricEntry(r, devID, devEntry.FullURL, m))
	}
	return marshalBundle(b, seq)
}

// newBundle returns an empty transaction Bundle with the record's sequence
// identifier, room for n entries.
func (e *Encoder) newBundle(r record.Record, seq uint64, timestamp time.Time, n int) bundle {
	return bundle{
		ResourceType: "Bundle",
		Identifier:   &identifier{System: SequenceSystem(r.Gateway, e.opts.Incarnation), Value: strconv.FormatUint(seq, 10)},
		Type:         "transaction",
		Timestamp:    timestamp.Format(timeLayout),
		Entry:        make([]entry, 0, n),
	}
}

// createEntry is the entry fullURL of a conditional create of resource
// (of type kind) on identifier id.
func createEntry(fullURL, kind string, resource any, id identifier) entry {
	return entry{
		FullURL:  fullURL,
		Resource: resource,
		Request:  &request{Method: "POST", URL: kind, IfNoneExist: ifNoneExist(id)},
	}
}

// marshalBundle returns the compact JSON of b.
func marshalBundle(b bundle, seq uint64) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("fhir: encode record %d: %w", seq, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Metrics returns the metrics r's observation Bundle refers to, in order
// of first use: one per Observation with an MDC code or a label (a
// blood-pressure panel's is the panel's code, in mm[Hg]). It implements
// record.ContextEncoder.
func (e *Encoder) Metrics(r record.Record) []record.Metric {
	var out []record.Metric
	for _, it := range planItems(r) {
		m, ok := it.metric()
		if ok && !slices.ContainsFunc(out, func(o record.Metric) bool { return sameMetric(o, m) }) {
			out = append(out, m)
		}
	}
	return out
}

var _ record.ContextEncoder = (*Encoder)(nil)

// checkRecord reports every way r breaks the record contract.
func checkRecord(r record.Record) error {
	if err := r.Check(); err != nil {
		return fmt.Errorf("fhir: invalid record: %w", err)
	}
	return nil
}

// locationIdentifier is the identifier of the bed's Location.
func locationIdentifier(r record.Record) identifier {
	return identifier{
		System: LocationIdentifierSystem,
		Value:  pathPart(r.Site) + "/" + pathPart(r.Ward) + "/" + pathPart(r.Bed),
	}
}

// conditionalReference refers to the resource of type kind with
// identifier id, resolved by the receiver when it processes the
// transaction (FHIR R4 3.1.0.11.2, conditional references).
func conditionalReference(kind string, id identifier) *reference {
	return &reference{Reference: kind + "?" + ifNoneExist(id)}
}

func (e *Encoder) location(r record.Record) entry {
	id := locationIdentifier(r)
	var parts []string
	for _, p := range []string{r.Bed, r.Ward, r.Site} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	loc := &location{
		ResourceType: "Location",
		Identifier:   []identifier{id},
		Name:         r.Bed,
		Description:  strings.Join(parts, ", "),
		Mode:         "instance",
		PhysicalType: &codeableConcept{Coding: []coding{{System: systemLocationType, Code: "bd", Display: "Bed"}}},
	}
	return createEntry(entryURL(e.ns, "Location", id.System+"|"+id.Value), "Location", loc, id)
}

// device is the Device entry of the record's device, located at the
// Location entry locURL.
func (e *Encoder) device(r record.Record, locURL string) entry {
	id := deviceIdentifier(r)
	dev := &device{
		ResourceType: "Device",
		Identifier:   []identifier{id},
		SerialNumber: r.Device.Serial,
		ModelNumber:  r.Device.Model,
		Location:     &reference{Reference: locURL, Type: "Location"},
	}
	if r.Device.Model != "" {
		dev.DeviceName = []deviceName{{Name: r.Device.Model, Type: "model-name"}}
	}
	if r.Device.Driver != "" {
		dev.Type = &codeableConcept{
			Coding: []coding{{System: "urn:bedgate:driver", Code: r.Device.Driver}},
			Text:   "device read by the bedgate " + r.Device.Driver + " driver",
		}
	}
	return createEntry(entryURL(e.ns, "Device", id.System+"|"+id.Value), "Device", dev, id)
}

// patientIdentifier returns the identifier of the record's patient, or nil
// when the record has none.
func patientIdentifier(r record.Record, localSystem string) *identifier {
	p := r.Patient
	switch {
	case p == nil:
		return nil
	case p.NHSNumber != "":
		return &identifier{System: NHSNumberSystem, Value: p.NHSNumber}
	case p.LocalID != "":
		if localSystem == "" {
			localSystem = "urn:bedgate:site:" + escapePart(r.Site) + ":patient-id"
		}
		return &identifier{System: localSystem, Value: p.LocalID}
	}
	return nil
}

// obsContext is what every Observation of one record shares.
type obsContext struct {
	r          record.Record
	subject    *reference
	hasPatient bool
}

// newObservation returns an Observation with the fields every Observation
// of c's record shares: identifier, status, subject, times. issued (the
// receive time) is left out when it equals the effective time, as it does
// for a device that sends no time.
func newObservation(c obsContext, id uuid.UUID) *observation {
	obs := &observation{
		ResourceType:      "Observation",
		Identifier:        []identifier{{System: ObservationIdentifierSystem, Value: id.URN()}},
		Status:            "final",
		Subject:           c.subject,
		EffectiveDateTime: effectiveTime(c.r).Format(timeLayout),
	}
	if !c.r.ReceivedAt.Equal(effectiveTime(c.r)) {
		obs.Issued = c.r.ReceivedAt.Format(timeLayout)
	}
	return obs
}

// finish adds what follows the record-level flags: the unassociated tag and
// note, the demo security label.
func finish(c obsContext, obs *observation, demo bool) {
	if c.r.Unassociated {
		if obs.Meta == nil {
			obs.Meta = &meta{}
		}
		obs.Meta.Tag = []coding{{System: AssociationTagSystem, Code: TagUnassociated, Display: "no patient associated"}}
		text := "no patient associated"
		if c.r.AssocReason != "" {
			text += ": " + c.r.AssocReason
		}
		obs.Note = append(obs.Note, annotation{Text: text})
	}
	if demo {
		if obs.Meta == nil {
			obs.Meta = &meta{}
		}
		obs.Meta.Security = []coding{{System: systemActReason, Code: "HTEST", Display: "test health data"}}
	}
}

// vitalCode is the code of a vital sign: its LOINC codings, its SNOMED CT
// coding when the table has one, and the MDC coding; text names the vital.
// The codings carry no display: the code systems define it (the MDC
// RefID too), and every Bundle would repeat it.
func vitalCode(v terminology.Vital) codeableConcept {
	var cc codeableConcept
	for _, c := range v.LOINC {
		cc.Coding = append(cc.Coding, coding{System: c.System, Code: c.Code})
	}
	if !v.SNOMED.IsZero() {
		cc.Coding = append(cc.Coding, coding{System: v.SNOMED.System, Code: v.SNOMED.Code})
	}
	cc.Coding = append(cc.Coding, mdcCoding(v.MDC))
	cc.Text = v.Display
	return cc
}

// mdcCoding is the MDC coding of code, without display.
func mdcCoding(code uint32) coding {
	return coding{System: terminology.SystemMDC, Code: strconv.FormatUint(uint64(code), 10)}
}

// profiles returns the meta of a vital sign with a Patient subject: its
// core profile, then its UK Core profile when it qualifies. nil without a
// patient or a profile.
func (e *Encoder) profiles(c obsContext, v terminology.Vital) *meta {
	if !c.hasPatient || v.Profile == "" {
		return nil
	}
	m := &meta{Profile: []string{terminology.ProfileBase + v.Profile}}
	if !e.opts.DisableUKCore && v.UKCoreProfile != "" && !v.SNOMED.IsZero() {
		m.Profile = append(m.Profile, terminology.UKCoreBase+v.UKCoreProfile)
	}
	return m
}

// value returns the valueQuantity of o, or the dataAbsentReason when it has
// no finite value; exactly one is non-nil.
func value(o record.Observation) (*quantity, *codeableConcept) {
	switch {
	case o.Value != nil && !math.IsNaN(*o.Value) && !math.IsInf(*o.Value, 0):
		return valueQuantity(*o.Value, o.Unit), nil
	case o.Value != nil && math.IsNaN(*o.Value):
		return nil, absentReason("not-a-number")
	case o.Value != nil && math.IsInf(*o.Value, 1):
		return nil, absentReason("positive-infinity")
	case o.Value != nil:
		return nil, absentReason("negative-infinity")
	}
	return nil, absentReason(o.Absent)
}

// flags returns o's interpretations (questionable, calibration-ongoing,
// in-alarm) and notes (the questionable reason, a unit conversion), and
// whether o is demo data.
func flags(o record.Observation) (interp []codeableConcept, notes []string, demo bool) {
	if o.Questionable || o.Status&drivers.Questionable != 0 {
		interp = append(interp, measurementStatus("questionable", "Questionable"))
		if o.Reason != "" {
			notes = append(notes, "questionable: "+o.Reason)
		}
	}
	if o.Status&drivers.Calibrating != 0 {
		interp = append(interp, measurementStatus("calibration-ongoing", "Calibration Ongoing"))
	}
	if o.Status&drivers.AlarmActive != 0 {
		interp = append(interp, measurementStatus("in-alarm", "In Alarm"))
	}
	if o.OriginalValue != nil && o.OriginalUnit != "" && o.Value != nil {
		notes = append(notes, fmt.Sprintf("device sent %s %s; converted to %s %s",
			formatNumber(*o.OriginalValue), o.OriginalUnit, formatNumber(*o.Value), o.Unit))
	}
	return interp, notes, o.Status&drivers.Demo != 0
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// observation builds the Observation for o. See the package documentation
// for the mapping.
func (e *Encoder) observation(c obsContext, o record.Observation, id uuid.UUID) *observation {
	obs := newObservation(c, id)

	v, known := terminology.Lookup(o.MDC)
	vital := known && v.IsVitalSign() && !v.IsPanel()
	if vital && o.Value != nil {
		if _, ok := v.Unit(o.Unit); !ok {
			vital = false
			obs.Note = append(obs.Note, annotation{Text: fmt.Sprintf(
				"unit %q is not a unit of %s (%s): published as a device observation", o.Unit, v.Display, v.LOINC[0].Code)})
		}
	}
	if known && v.IsPanel() {
		obs.Note = append(obs.Note, annotation{Text: v.Display + " is a panel: a single value is published as a device observation"})
	}

	if vital {
		obs.Category = vitalSignsCategory()
		obs.Code = vitalCode(v)
		obs.Meta = e.profiles(c, v)
	} else {
		obs.Code = deviceCode(c.r, o, v, known)
	}
	obs.ValueQuantity, obs.DataAbsentReason = value(o)

	interp, notes, demo := flags(o)
	obs.Interpretation = interp
	for _, n := range notes {
		obs.Note = append(obs.Note, annotation{Text: n})
	}
	finish(c, obs, demo)
	return obs
}

func vitalSignsCategory() []codeableConcept {
	return []codeableConcept{{Coding: []coding{{System: systemObservationCategory, Code: "vital-signs"}}}}
}

// deviceCode is the code of an Observation that is not published as a
// vital sign: the MDC coding, or for a value the driver knows only by the
// device's label, a coding in the driver's parameter system. The MDC
// coding carries the driver's RefID as display only for a code the
// terminology table does not know (text then names the value by its label
// or RefID); a known code is named by text.
func deviceCode(r record.Record, o record.Observation, v terminology.Vital, known bool) codeableConcept {
	var cc codeableConcept
	if o.MDC != 0 {
		c := mdcCoding(o.MDC)
		if !known {
			c.Display = o.Ref
		}
		cc.Coding = []coding{c}
	} else if o.Label != "" {
		cc.Coding = []coding{{System: driverParameterSystem(r.Device.Driver), Code: o.Label}}
	}
	switch {
	case known:
		cc.Text = v.Display
	case o.Label != "":
		cc.Text = o.Label
	default:
		cc.Text = o.Ref
	}
	return cc
}

func valueQuantity(value float64, unit string) *quantity {
	q := &quantity{Value: value}
	if unit == "" {
		return q
	}
	q.Unit, q.System, q.Code = unit, terminology.SystemUCUM, unit
	if u, ok := terminology.UnitByUCUM(unit); ok {
		q.Unit = u.Display
	}
	return q
}

// dataAbsentReasons are the codes of the R4 data-absent-reason code system.
var dataAbsentReasons = [...]string{
	"unknown", "asked-unknown", "temp-unknown", "not-asked", "asked-declined", "masked",
	"not-applicable", "unsupported", "as-text", "error", "not-a-number",
	"negative-infinity", "positive-infinity", "not-performed", "not-permitted",
}

// absentReason codes why a value is missing. A code outside the R4 code
// system becomes "unknown" with the original text kept.
func absentReason(code string) *codeableConcept {
	for _, c := range dataAbsentReasons {
		if c == code {
			return &codeableConcept{Coding: []coding{{System: systemDataAbsentReason, Code: c}}}
		}
	}
	cc := &codeableConcept{Coding: []coding{{System: systemDataAbsentReason, Code: "unknown"}}}
	if code != "" {
		cc.Text = code
	}
	return cc
}

func measurementStatus(code, display string) codeableConcept {
	return codeableConcept{Coding: []coding{{System: systemMeasurementStatus, Code: code, Display: display}}}
}

// effectiveTime is the device's time of the reading, or the gateway's
// receive time when the device sends none.
func effectiveTime(r record.Record) time.Time {
	if r.DeviceTime.IsZero() {
		return r.ReceivedAt
	}
	return r.DeviceTime
}
