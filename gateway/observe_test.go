package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/hl7"
	"github.com/bedgate/bedgate/gateway/record"
)

func TestObservationIDStable(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	a := ObservationID("gw1", "masimo:123", "150456", at)
	if a != ObservationID("gw1", "masimo:123", "150456", at.In(time.FixedZone("X", 3600))) {
		t.Error("same instant in another zone gave another id")
	}
	for name, other := range map[string]string{
		"gateway": ObservationID("gw2", "masimo:123", "150456", at),
		"device":  ObservationID("gw1", "masimo:124", "150456", at),
		"code":    ObservationID("gw1", "masimo:123", "149530", at),
		"label":   ObservationID("gw1", "masimo:123", CodeKey(0, "PVI"), at),
		"time":    ObservationID("gw1", "masimo:123", "150456", at.Add(time.Second)),
	} {
		if other == a {
			t.Errorf("changing the %s did not change the id", name)
		}
	}
	if len(a) != 36 || a[14] != '5' {
		t.Errorf("id %q is not a version 5 UUID", a)
	}
}

// TestObservationIDUnchanged pins identifiers made by earlier versions
// (an EPR files a reading delivered again once only if its identifiers
// are the same) and holds ObservationID to uuid.NewSHA1 of the same name,
// including names longer than its stack buffer, and to a bounded number of
// allocations.
func TestObservationIDUnchanged(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.FixedZone("BST", 3600))
	for _, tt := range []struct{ gateway, key, code, want string }{
		{"gw1", "masimo:123", "150456", "fbf9a04d-fb12-5e08-8c97-47ec69c9e918"},
		{"ward-7-gw", "intellivue:ABC-123", CodeKey(0, "PVI"), "ef6cc5a1-9f68-5b19-94ec-8fc531799821"},
	} {
		when := at
		if tt.gateway != "gw1" {
			when = at.Add(-time.Hour)
		}
		if got := ObservationID(tt.gateway, tt.key, tt.code, when); got != tt.want {
			t.Errorf("ObservationID(%q, %q, %q) = %s, want %s as before", tt.gateway, tt.key, tt.code, got, tt.want)
		}
	}
	long := strings.Repeat("device-key-", 30)
	for _, key := range []string{"", "nonin:502", "Bett 3 \u00e9\u00e8", long} {
		name := "gw\x00" + key + "\x00150456\x00" + at.UTC().Format(time.RFC3339Nano)
		want := uuid.NewSHA1(observationNamespace, []byte(name)).String()
		if got := ObservationID("gw", key, "150456", at); got != want {
			t.Errorf("key %q: %s, want uuid.NewSHA1's %s", key, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { ObservationID("gw1", "masimo:123", "150456", at) }); n > 1 {
		t.Errorf("ObservationID allocates %v times, want 1 (its string)", n)
	}
}

func TestObserveJudgesValues(t *testing.T) {
	bed := Bed{Gateway: "gw1", Site: "s", Ward: "w", Name: "bed1", Device: "mon1"}
	dev := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	recv := dev.Add(1500 * time.Millisecond)
	tests := []struct {
		name         string
		v            drivers.Value
		wantValue    *float64
		wantAbsent   string
		questionable bool
	}{
		{"valid", drivers.Value{MDC: 150456, Value: drivers.Float(97), Unit: "%"}, drivers.Float(97), "", false},
		{"no value", drivers.Value{MDC: 150456, Status: drivers.Unavailable, Unit: "%"}, nil, "unknown", false},
		{"sensor off", drivers.Value{MDC: 150456, Status: drivers.SensorOff | drivers.Unavailable, Unit: "%"}, nil, "not-performed", false},
		{"invalid with number", drivers.Value{MDC: 150456, Value: drivers.Float(12), Status: drivers.Invalid, Unit: "%"}, nil, "error", false},
		{"NaN", drivers.Value{MDC: 150456, Value: drivers.Float(math.NaN()), Unit: "%"}, nil, "not-a-number", false},
		{"+Inf", drivers.Value{MDC: 150456, Value: drivers.Float(math.Inf(1)), Unit: "%"}, nil, "positive-infinity", false},
		{"questionable", drivers.Value{MDC: 150456, Value: drivers.Float(88), Status: drivers.Questionable, Unit: "%"}, drivers.Float(88), "", true},
		{"demo", drivers.Value{MDC: 150456, Value: drivers.Float(99), Status: drivers.Demo, Unit: "%"}, drivers.Float(99), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := drivers.Reading{Device: drivers.DeviceID{Driver: "masimo"}, DeviceTime: dev, ReceivedAt: recv, Values: []drivers.Value{tt.v}}
			rec := bed.Observe(r)
			if len(rec.Observations) != 1 {
				t.Fatalf("got %d observations", len(rec.Observations))
			}
			o := rec.Observations[0]
			if (o.Value == nil) != (tt.wantValue == nil) || (o.Value != nil && *o.Value != *tt.wantValue) {
				t.Errorf("value = %v, want %v", o.Value, tt.wantValue)
			}
			if o.Absent != tt.wantAbsent {
				t.Errorf("absent = %q, want %q", o.Absent, tt.wantAbsent)
			}
			if o.Questionable != tt.questionable {
				t.Errorf("questionable = %v, want %v", o.Questionable, tt.questionable)
			}
			if o.ID != ObservationID("gw1", "bed:s/w/mon1", "150456", dev) {
				t.Errorf("id %q not derived from device time and bed device key", o.ID)
			}
			if rec.ClockOffset != -1500*time.Millisecond {
				t.Errorf("clock offset = %v", rec.ClockOffset)
			}
			if rec.Topic != "bedgate/v1/s/w/bed1/obs" {
				t.Errorf("topic = %q", rec.Topic)
			}
		})
	}
}

func TestDeviceKeyPrefersSerial(t *testing.T) {
	bed := Bed{Site: "s", Ward: "w", Device: "mon1"}
	if k := bed.DeviceKey(drivers.DeviceID{Driver: "masimo", Serial: "0000093112"}); k != "masimo:0000093112" {
		t.Errorf("key = %q", k)
	}
	if k := bed.DeviceKey(drivers.DeviceID{Driver: "masimo"}); k != "bed:s/w/mon1" {
		t.Errorf("key = %q", k)
	}
}

func TestObserveWithoutDeviceTimeUsesReceiveTime(t *testing.T) {
	bed := Bed{Gateway: "gw1", Site: "s", Ward: "w", Name: "b", Device: "d"}
	recv := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := bed.Observe(drivers.Reading{ReceivedAt: recv, Values: []drivers.Value{{MDC: 1, Value: drivers.Float(1)}}})
	if rec.ClockOffset != 0 || rec.Observations[0].ID != ObservationID("gw1", "bed:s/w/d", "1", recv) {
		t.Errorf("record without device time: offset %v id %s", rec.ClockOffset, rec.Observations[0].ID)
	}
}

func TestObserveCodelessValuesGetDistinctIDs(t *testing.T) {
	bed := Bed{Gateway: "gw1", Site: "s", Ward: "w", Name: "b", Device: "d"}
	rec := bed.Observe(drivers.Reading{
		DeviceTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Values:     []drivers.Value{{Label: "PVI", Value: drivers.Float(12)}, {Label: "SPOC", Value: drivers.Float(3)}},
	})
	if rec.Observations[0].ID == rec.Observations[1].ID {
		t.Errorf("two values without an MDC code share the id %s", rec.Observations[0].ID)
	}
}

func TestObserveUnmeasuredParameters(t *testing.T) {
	bed := Bed{Gateway: "gw1", Site: "s", Ward: "w", Name: "b", Device: "d"}
	rec := bed.Observe(drivers.Reading{
		DeviceTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Values: []drivers.Value{
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Status: drivers.Unavailable, Unit: "%"}, // vital: forwarded as absent
			{MDC: 160128, Ref: "MDC_CONC_HB_CO_GEN", Status: drivers.Unavailable, Unit: "%"},   // not measured
			{Label: "PVI", Status: drivers.Unavailable},                                        // not measured, no code
			{Label: "PVI2", Status: drivers.Unavailable | drivers.SensorOff},                   // flagged: forwarded
			{Label: "SPOC", Value: drivers.Float(3)},                                           // a value: forwarded
		},
	})
	var got []string
	for _, o := range rec.Observations {
		got = append(got, CodeKey(o.MDC, o.Label))
	}
	want := []string{"150456", "label:PVI2", "label:SPOC"}
	if len(got) != len(want) {
		t.Fatalf("observations %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("observations %v, want %v", got, want)
		}
	}
	if len(rec.Unmeasured) != 2 || rec.Unmeasured[0] != "MDC_CONC_HB_CO_GEN" || rec.Unmeasured[1] != "PVI" {
		t.Errorf("unmeasured = %v", rec.Unmeasured)
	}
}

func TestObserveRepeatedCodesGetDistinctIDs(t *testing.T) {
	bed := Bed{Gateway: "gw1", Site: "s", Ward: "w", Name: "b", Device: "d"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := bed.Observe(drivers.Reading{DeviceTime: at, ReceivedAt: at, Values: []drivers.Value{
		{MDC: 150084, Label: "P1", Value: drivers.Float(12)},
		{MDC: 150084, Label: "P2", Value: drivers.Float(14)},
		{MDC: 150084, Label: "P2", Value: drivers.Float(15)},
		{MDC: 150456, Label: "SpO2", Value: drivers.Float(97)},
	}})
	seen := map[string]bool{}
	for _, o := range rec.Observations {
		if seen[o.ID] {
			t.Fatalf("id %s repeated in one reading", o.ID)
		}
		seen[o.ID] = true
	}
	if rec.Observations[0].ID != ObservationID("gw1", "bed:s/w/d", "150084", at) {
		t.Error("the first of a repeated code lost its plain identifier")
	}
	if err := rec.Check(); err != nil {
		t.Errorf("record with repeated codes does not meet the record contract: %v", err)
	}
}

// TestObserveInvalidUTF8: the text a device sent is valid UTF-8 in its
// record, each invalid byte U+FFFD, so a record kept as JSON while held
// reads back equal and encodes to the same HL7 message as one sent at
// once; identifiers are still made from the bytes as sent.
func TestObserveInvalidUTF8(t *testing.T) {
	bed := Bed{Gateway: "gw1", Site: "s", Ward: "w", Name: "b", Device: "d"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := bed.Observe(drivers.Reading{
		Device:       drivers.DeviceID{Driver: "masimo", Model: "Rad\xfe7", Serial: "SN\xff1"},
		DeviceTime:   at,
		ReceivedAt:   at.Add(time.Second),
		DeviceStatus: "EXC=\xff",
		Values: []drivers.Value{
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Label: "Sp\xffO2", Value: drivers.Float(97), Unit: "%"},
			{Label: "PVI\xff\xfe", Value: drivers.Float(12), Unit: "%\xc3"},
			{Label: "SPOC\xff", Status: drivers.Unavailable},
		},
	})
	if got, want := rec.Observations[1].Label, "PVI\ufffd\ufffd"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	if got, want := rec.Device.Serial, "SN\ufffd1"; got != want {
		t.Errorf("serial %q, want %q", got, want)
	}
	if len(rec.Unmeasured) != 1 || rec.Unmeasured[0] != "SPOC\ufffd" {
		t.Errorf("unmeasured %q, want [SPOC\ufffd]", rec.Unmeasured)
	}
	if got, want := rec.Observations[1].ID, ObservationID("gw1", "masimo:SN\xff1", "label:PVI\xff\xfe", at); got != want {
		t.Errorf("id %s, want %s (made from the bytes as sent)", got, want)
	}

	data, err := json.Marshal(rec) // as the hold keeps it
	if err != nil {
		t.Fatal(err)
	}
	var back record.Record
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rec) {
		t.Fatalf("held and read back:\n%+v\nwant\n%+v", back, rec)
	}
	enc, err := hl7.New(hl7.Options{Incarnation: "0123456789ab"})
	if err != nil {
		t.Fatal(err)
	}
	now, err := enc.Encode(rec, 7)
	if err != nil {
		t.Fatal(err)
	}
	held, err := enc.Encode(back, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(now, held) {
		t.Errorf("HL7 of the reading sent at once:\n%q\nheld:\n%q", now, held)
	}
}
