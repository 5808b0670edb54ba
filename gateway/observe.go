package gateway

import (
	"crypto/sha1"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/terminology"
	"github.com/bedgate/bedgate/gateway/topic"
)

// observationNamespace is the UUIDv5 namespace of observation identifiers.
// It never changes: identifiers must stay stable across versions.
var observationNamespace = uuid.MustParse("5f2b9a3e-1c47-4d8e-9b6a-2e0c7d1f4a90")

// ObservationID returns the stable identifier of one value: a UUIDv5 of the
// gateway id, the device key, the value's code (see CodeKey) and the
// reading's time, so a reading delivered twice carries the same identifier
// and the EPR files it once.
//
// It is called for every value read, so the name is hashed from a buffer on
// the stack (RFC 9562 section 5.5: SHA-1 of the namespace and the name, the
// version and variant bits set), which uuid.NewSHA1 would allocate.
func ObservationID(gateway, deviceKey, code string, at time.Time) string {
	var buf [160]byte
	name := append(buf[:0], observationNamespace[:]...)
	name = append(name, gateway...)
	name = append(name, 0)
	name = append(name, deviceKey...)
	name = append(name, 0)
	name = append(name, code...)
	name = append(name, 0)
	name = at.UTC().AppendFormat(name, time.RFC3339Nano)
	sum := sha1.Sum(name)
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // the RFC 4122 variant
	return id.String()
}

// CodeKey names a value within a reading: its MDC code in decimal, or, for
// a value the driver knows only by the device's label (MDC 0), "label:"
// and the label, so that two such values never share an identifier.
func CodeKey(mdc uint32, label string) string {
	if mdc == 0 {
		return "label:" + label
	}
	return strconv.FormatUint(uint64(mdc), 10)
}

// Bed is where a reading was taken: the static facts the supervisor adds to
// each reading.
type Bed struct {
	Gateway, Site, Ward, Name string
	// Device names the device when it reports no serial number.
	Device string
	// ForwardEvery is the bed's charting cadence (see cadence); 0
	// forwards every reading.
	ForwardEvery time.Duration
}

// bedOf returns the bed of a configured one.
func bedOf(cfg *config.Config, b config.Bed) Bed {
	return Bed{Gateway: cfg.Gateway.ID, Site: cfg.Gateway.Site, Ward: cfg.Gateway.Ward, Name: b.Name, Device: b.Device,
		ForwardEvery: b.Cadence(cfg.Gateway.ForwardEvery)}
}

// ObsTopic is the bed's observation topic.
func (b Bed) ObsTopic() string {
	return topic.Bed(b.Site, b.Ward, b.Name, topic.Obs)
}

// DeviceTopic is the bed's retained device status topic.
func (b Bed) DeviceTopic() string {
	return topic.Bed(b.Site, b.Ward, b.Name, topic.Device)
}

// RejectedTopic is the bed's quarantine topic: values not forwarded, with
// their reasons.
func (b Bed) RejectedTopic() string {
	return topic.Bed(b.Site, b.Ward, b.Name, topic.Rejected)
}

// StatusTopic is the gateway's retained status topic.
func StatusTopic(site, gatewayID string) string {
	return topic.Status(site, gatewayID)
}

// DeviceKey is the stable name of the device a reading came from: the
// driver and serial number when the device reports one, else the bed's
// configured device name.
func (b Bed) DeviceKey(d drivers.DeviceID) string {
	if d.Serial != "" {
		return d.Driver + ":" + d.Serial
	}
	return "bed:" + b.Site + "/" + b.Ward + "/" + b.Device
}

// Observe turns a device reading into a record: every value is kept, with
// a stable identifier; a value the device flagged or did not send becomes
// an absent value with its reason, never a number; a questionable value is
// forwarded with a flag.
func (b Bed) Observe(r drivers.Reading) record.Record {
	return b.observe(r, r.DeviceTime)
}

// observe is Observe of r reported by the device at its time reported:
// the clock offset is reported minus r.ReceivedAt (zero when reported is
// zero). An episodic measurement split off a reading (see measurements)
// has the measurement's time as r.DeviceTime and the reading's as
// reported.
func (b Bed) observe(r drivers.Reading, reported time.Time) record.Record {
	at := r.DeviceTime
	var offset time.Duration
	if at.IsZero() {
		at = r.ReceivedAt
	}
	if !reported.IsZero() {
		offset = reported.Sub(r.ReceivedAt)
	}
	key := b.DeviceKey(r.Device)
	rec := record.Record{
		Gateway:      b.Gateway,
		Site:         b.Site,
		Ward:         b.Ward,
		Bed:          b.Name,
		Topic:        b.ObsTopic(),
		Device:       r.Device,
		DeviceKey:    key,
		DeviceTime:   r.DeviceTime,
		ReceivedAt:   r.ReceivedAt,
		ClockOffset:  offset,
		DeviceStatus: r.DeviceStatus,
		Observations: make([]record.Observation, 0, len(r.Values)),
	}
	codes := make(map[string]int, len(r.Values))
	for _, v := range r.Values {
		if unmeasured(v) {
			name := v.Ref
			if name == "" {
				name = v.Label
			}
			rec.Unmeasured = append(rec.Unmeasured, name)
			continue
		}
		o := record.Observation{
			ID:     ObservationID(b.Gateway, key, uniqueCode(codes, v), at),
			MDC:    v.MDC,
			Ref:    v.Ref,
			Label:  v.Label,
			Unit:   v.Unit,
			Status: v.Status,
		}
		o.Value, o.Absent = judge(v)
		if o.Absent == "" && v.Status&(drivers.Questionable|drivers.Demo|drivers.Calibrating|drivers.OutOfRange) != 0 {
			o.Questionable = true
			o.Reason = "device status: " + v.Status.String()
		}
		rec.Observations = append(rec.Observations, o)
	}
	validText(&rec)
	return rec
}

// validText makes the text a device sent valid UTF-8 in rec (its model,
// serial and device key, status word, values' references, labels and
// units, the names of what it does not measure), each invalid byte
// replaced by U+FFFD as JSON does. A held reading is kept as JSON and read
// back: without this a label with an invalid byte would reach the encoders
// changed when held and unchanged when not, and an HL7 code made from it
// would differ between the two. Identifiers are made before, from the
// bytes as sent, so they do not change.
func validText(rec *record.Record) {
	for _, s := range []*string{&rec.Device.Driver, &rec.Device.Model, &rec.Device.Serial, &rec.DeviceKey, &rec.DeviceStatus} {
		*s = validUTF8(*s)
	}
	for i := range rec.Unmeasured {
		rec.Unmeasured[i] = validUTF8(rec.Unmeasured[i])
	}
	for i := range rec.Observations {
		o := &rec.Observations[i]
		o.Ref, o.Label, o.Unit = validUTF8(o.Ref), validUTF8(o.Label), validUTF8(o.Unit)
	}
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // an invalid byte is utf8.RuneError, one byte wide
		b.WriteRune(r)
	}
	return b.String()
}

// uniqueCode is the value's CodeKey, made unique within its reading: a
// device may report one code twice (two pressure channels both labelled
// with a generic pressure code, say). The second and later get the label,
// then their place, appended, so every value keeps an identifier of its
// own and the first keeps the plain one.
func uniqueCode(seen map[string]int, v drivers.Value) string {
	code := CodeKey(v.MDC, v.Label)
	n := seen[code]
	seen[code]++
	switch {
	case n == 0:
		return code
	case v.MDC != 0 && v.Label != "" && seen[code+"/"+v.Label] == 0:
		seen[code+"/"+v.Label]++
		return code + "/" + v.Label
	default:
		return code + "/" + strconv.Itoa(n)
	}
}

// unmeasured reports a value the device listed without a number and
// without any status flag, for a parameter that is not a vital sign: a
// parameter the device does not measure. A vital sign without a value is
// always forwarded (as an absent value), since its absence is clinical
// information.
func unmeasured(v drivers.Value) bool {
	if v.Value != nil || v.Status != drivers.Unavailable {
		return false
	}
	vital, known := terminology.Lookup(v.MDC)
	return !known || !vital.IsVitalSign()
}

// judge returns the value to forward, or the FHIR data-absent-reason code
// for why there is none.
func judge(v drivers.Value) (*float64, string) {
	switch {
	case v.Value == nil && v.Status&drivers.SensorOff != 0:
		return nil, "not-performed"
	case v.Value == nil:
		return nil, "unknown"
	case math.IsNaN(*v.Value):
		return nil, "not-a-number"
	case math.IsInf(*v.Value, 1):
		return nil, "positive-infinity"
	case math.IsInf(*v.Value, -1):
		return nil, "negative-infinity"
	case v.Status&drivers.Invalid != 0:
		return nil, "error"
	case v.Status&(drivers.SensorOff|drivers.Unavailable) != 0:
		return nil, "not-performed"
	}
	x := *v.Value
	return &x, ""
}
