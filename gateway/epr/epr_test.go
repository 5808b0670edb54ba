package epr_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/record"
)

// testRecord is a Masimo reading at one bed: a valid SpO2, a pulse rate the
// device could not measure, a questionable perfusion index and a value the
// driver knows only by its label.
func testRecord(deviceTime time.Time) record.Record {
	received := time.Date(2026, 11, 26, 10, 0, 1, 250_000_000, time.UTC)
	id := func(n int) string {
		return uuid.NewSHA1(uuid.NameSpaceURL, []byte{byte(n)}).String()
	}
	return record.Record{
		Gateway:    "gw-test",
		Site:       "rxh",
		Ward:       "ward7",
		Bed:        "bed03",
		Topic:      "bedgate/v1/rxh/ward7/bed03/obs",
		Device:     drivers.DeviceID{Driver: "masimo", Serial: "0000412345"},
		DeviceKey:  "0000412345",
		DeviceTime: deviceTime,
		ReceivedAt: received,
		Observations: []record.Observation{
			{ID: id(1), MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Label: "SPO2", Value: drivers.Float(97), Unit: "%"},
			{ID: id(2), MDC: 149530, Ref: "MDC_PULS_OXIM_PULS_RATE", Label: "BPM", Unit: "/min",
				Status: drivers.Unavailable | drivers.SensorOff | drivers.Invalid, Absent: "error"},
			{ID: id(3), MDC: 150448, Ref: "MDC_PULS_OXIM_PERF_REL", Label: "PI", Value: drivers.Float(1.27), Unit: "%",
				Status: drivers.Questionable, Questionable: true, Reason: "low signal IQ"},
			{ID: id(4), Label: "PVI", Value: drivers.Float(14), Unit: "%"},
		},
	}
}

func encode(t *testing.T, r record.Record, seq uint64) []byte {
	t.Helper()
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.Encode(r, seq)
	if err != nil {
		t.Fatalf("fhir Encode: %v", err)
	}
	return b
}

func TestParseEncodedBundle(t *testing.T) {
	london := time.FixedZone("BST", 3600)
	tests := []struct {
		name       string
		deviceTime time.Time
		seq        uint64
	}{
		{"device time with offset", time.Date(2026, 6, 1, 9, 59, 58, 0, london), 42},
		{"device time UTC", time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), 1},
		{"no device time", time.Time{}, 18446744073709551615},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testRecord(tt.deviceTime)
			got, err := epr.Parse(encode(t, rec, tt.seq))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(got) != len(rec.Observations) {
				t.Fatalf("Parse gave %d observations, want %d (Location and Device entries skipped): %+v",
					len(got), len(rec.Observations), got)
			}
			wantTime := tt.deviceTime
			if wantTime.IsZero() {
				wantTime = rec.ReceivedAt
			}
			for i, o := range got {
				ro := rec.Observations[i]
				if o.Seq != tt.seq {
					t.Errorf("obs %d: Seq = %d, want %d", i, o.Seq, tt.seq)
				}
				if o.ID != ro.ID || strings.HasPrefix(o.ID, "urn:") {
					t.Errorf("obs %d: ID = %q, want %q", i, o.ID, ro.ID)
				}
				if o.MDC != ro.MDC {
					t.Errorf("obs %d: MDC = %d, want %d", i, o.MDC, ro.MDC)
				}
				if o.Ref != ro.Ref {
					t.Errorf("obs %d: Ref = %q, want %q", i, o.Ref, ro.Ref)
				}
				switch {
				case ro.Value == nil && o.Value != nil:
					t.Errorf("obs %d: Value = %v, want none", i, *o.Value)
				case ro.Value != nil && (o.Value == nil || *o.Value != *ro.Value):
					t.Errorf("obs %d: Value = %v, want %v", i, o.Value, *ro.Value)
				}
				if ro.Value != nil && o.Unit != ro.Unit {
					t.Errorf("obs %d: Unit = %q, want %q", i, o.Unit, ro.Unit)
				}
				if o.Absent != ro.Absent {
					t.Errorf("obs %d: Absent = %q, want %q", i, o.Absent, ro.Absent)
				}
				if !o.Time.Equal(wantTime) {
					t.Errorf("obs %d: Time = %v, want %v", i, o.Time, wantTime)
				}
				_, offset := o.Time.Zone()
				if _, want := wantTime.Zone(); offset != want {
					t.Errorf("obs %d: Time offset = %ds, want the device's %ds", i, offset, want)
				}
				if want := ro.Questionable; o.Flagged != want {
					t.Errorf("obs %d: Flagged = %v, want %v", i, o.Flagged, want)
				}
				if o.Display == "" {
					t.Errorf("obs %d: no Display", i)
				}
			}
			// A value known only by its label is named by the label.
			if last := got[len(got)-1]; last.Display != "PVI" || last.MDC != 0 || last.Ref != "" {
				t.Errorf("label-only value: Display %q MDC %d Ref %q, want PVI, 0, empty", last.Display, last.MDC, last.Ref)
			}
		})
	}
}

func TestParseFlagsCalibratingAndAlarm(t *testing.T) {
	rec := testRecord(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	rec.Observations = rec.Observations[:1]
	for _, st := range []drivers.Status{drivers.Calibrating, drivers.AlarmActive, drivers.Questionable, drivers.Demo} {
		rec.Observations[0].Status = st
		got, err := epr.Parse(encode(t, rec, 7))
		if err != nil {
			t.Fatal(err)
		}
		// Demo values are labelled as test data, not interpreted.
		if want := st != drivers.Demo; len(got) != 1 || got[0].Flagged != want {
			t.Errorf("status %v: Parse = %+v, want Flagged %v", st, got, want)
		}
	}
}

// mutate decodes an encoded Bundle, lets change edit it, and encodes it again.
func mutate(t *testing.T, payload []byte, change func(b map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(payload, &b); err != nil {
		t.Fatal(err)
	}
	change(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// firstObservation returns the first Observation resource of a decoded Bundle.
func firstObservation(t *testing.T, b map[string]any) map[string]any {
	t.Helper()
	for _, e := range b["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		if r["resourceType"] == "Observation" {
			return r
		}
	}
	t.Fatal("no Observation in the Bundle")
	return nil
}

// mdcCoding returns the MDC coding of an Observation resource.
func mdcCoding(t *testing.T, obs map[string]any) map[string]any {
	t.Helper()
	for _, c := range obs["code"].(map[string]any)["coding"].([]any) {
		if c := c.(map[string]any); c["system"] == epr.MDCSystem {
			return c
		}
	}
	t.Fatal("no MDC coding")
	return nil
}

func TestParseErrors(t *testing.T) {
	good := encode(t, testRecord(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)), 5)
	// The first Observation is entry 0: the Location, Device and
	// DeviceMetrics are in the bed's context Bundle.
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"empty", nil, "not JSON"},
		{"not JSON", []byte("SPO2=097%"), "not JSON"},
		{"truncated", good[:len(good)/2], "not JSON"},
		{"JSON array", []byte(`[1,2]`), "not JSON"},
		{"an Observation", []byte(`{"resourceType":"Observation"}`), `resourceType "Observation", want Bundle`},
		{"no resourceType", []byte(`{"type":"transaction"}`), `resourceType "", want Bundle`},
		{"sequence not a number", mutate(t, good, func(b map[string]any) {
			b["identifier"].(map[string]any)["value"] = "five"
		}), `bundle identifier "five"`},
		{"negative sequence", mutate(t, good, func(b map[string]any) {
			b["identifier"].(map[string]any)["value"] = "-5"
		}), `bundle identifier "-5"`},
		{"MDC code not a number", mutate(t, good, func(b map[string]any) {
			mdcCoding(t, firstObservation(t, b))["code"] = "SpO2"
		}), `entry 0: MDC code "SpO2"`},
		{"MDC code too large", mutate(t, good, func(b map[string]any) {
			mdcCoding(t, firstObservation(t, b))["code"] = "4294967296"
		}), `MDC code "4294967296"`},
		{"effectiveDateTime not RFC 3339", mutate(t, good, func(b map[string]any) {
			firstObservation(t, b)["effectiveDateTime"] = "11/26/26 10:00:00"
		}), "entry 0: effectiveDateTime"},
		{"effectiveDateTime without zone", mutate(t, good, func(b map[string]any) {
			firstObservation(t, b)["effectiveDateTime"] = "2026-11-26T10:00:00"
		}), "effectiveDateTime"},
		{"entry resource not an object", mutate(t, good, func(b map[string]any) {
			b["entry"].([]any)[3].(map[string]any)["resource"] = 17
		}), "entry 3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := epr.Parse(tt.payload)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", got)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "epr: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("Parse error = %q, want the epr: prefix and %q", msg, tt.want)
			}
		})
	}
}

func TestParseWithoutSequence(t *testing.T) {
	payload := mutate(t, encode(t, testRecord(time.Time{}), 9), func(b map[string]any) {
		delete(b, "identifier")
	})
	got, err := epr.Parse(payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Seq != 0 {
		t.Errorf("Parse without a Bundle identifier = %+v, want Seq 0", got)
	}
}

func TestBedOf(t *testing.T) {
	tests := []struct{ topic, want string }{
		{"bedgate/v1/rxh/ward7/bed03/obs", "bed03"},
		{"bedgate/v1/demo/ward1/bed1/obs", "bed1"},
		{"bedgate/v1/rxh/ward7/bed03/status", "bedgate/v1/rxh/ward7/bed03/status"},
		{"other/v1/rxh/ward7/bed03/obs", "other/v1/rxh/ward7/bed03/obs"},
		{"bedgate/v1/rxh/bed03/obs", "bedgate/v1/rxh/bed03/obs"},
		{"bedgate/v1/rxh/ward7/bay2/bed03/obs", "bedgate/v1/rxh/ward7/bay2/bed03/obs"},
		{"bed03", "bed03"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := epr.BedOf(tt.topic); got != tt.want {
			t.Errorf("BedOf(%q) = %q, want %q", tt.topic, got, tt.want)
		}
	}
}

func TestLine(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		o    epr.Observation
		want []string // the fields of the line, in order
		not  string   // a field the line must not have
	}{
		{"value with display",
			epr.Observation{Seq: 7, Ref: "MDC_PULS_OXIM_SAT_O2", Display: "Oxygen saturation", Value: drivers.Float(97), Unit: "%", Time: at},
			[]string{"bed03", "10:04:05", "Oxygen", "saturation", "97", "%", "seq=7"}, "MDC_PULS_OXIM_SAT_O2"},
		{"ref when no display",
			epr.Observation{Seq: 8, Ref: "MDC_PULS_OXIM_PERF_REL", Value: drivers.Float(1.27), Unit: "%", Time: at, Flagged: true},
			[]string{"bed03", "10:04:05", "MDC_PULS_OXIM_PERF_REL", "1.27", "%", "seq=8", "[flagged]"}, ""},
		{"questionable",
			epr.Observation{Seq: 8, Display: "SpO2", Value: drivers.Float(88), Unit: "%", Time: at, Flagged: true, Interpretation: []string{"questionable"}},
			[]string{"bed03", "10:04:05", "SpO2", "88", "%", "seq=8", "[questionable]"}, "flagged"},
		{"absent",
			epr.Observation{Seq: 9, Display: "Pulse rate", Absent: "error", Time: at},
			[]string{"bed03", "10:04:05", "Pulse", "rate", "(error)", "seq=9"}, "[flagged]"},
		{"no value and no reason",
			epr.Observation{Seq: 10, Display: "PVI", Time: at},
			[]string{"bed03", "10:04:05", "PVI", "—", "seq=10"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := epr.Line("bed03", tt.o)
			if got := strings.Fields(line); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("Line = %q, want the fields %q", line, tt.want)
			}
			if tt.not != "" && strings.Contains(line, tt.not) {
				t.Errorf("Line = %q, must not contain %q", line, tt.not)
			}
		})
	}
}

// TestLineOfParsed checks that a parsed Bundle prints with its bed and sequence.
func TestLineOfParsed(t *testing.T) {
	rec := testRecord(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	got, err := epr.Parse(encode(t, rec, 321))
	if err != nil {
		t.Fatal(err)
	}
	line := epr.Line(epr.BedOf(rec.Topic), got[1])
	for _, w := range []string{"bed03", "10:00:00", "(error)", "seq=321"} {
		if !strings.Contains(line, w) {
			t.Errorf("Line = %q, want it to contain %q", line, w)
		}
	}
}

// TestParseBloodPressurePanel: the encoder publishes an NIBP reading as one
// panel Observation; Parse reports each part with its own observation id,
// code, value and flag, so every value can still be matched.
func TestParseBloodPressurePanel(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	r := testRecord(at)
	id := func(n int) string { return uuid.NewSHA1(uuid.NameSpaceURL, []byte{byte(n)}).String() }
	r.Observations = []record.Observation{
		{ID: id(11), MDC: 149546, Ref: "MDC_PULS_RATE_NON_INV", Value: drivers.Float(66), Unit: "/min"},
		{ID: id(12), MDC: 150021, Ref: "MDC_PRESS_BLD_NONINV_SYS", Value: drivers.Float(231), Unit: "mm[Hg]",
			Questionable: true, Reason: "questionable-high"},
		{ID: id(13), MDC: 150022, Ref: "MDC_PRESS_BLD_NONINV_DIA", Value: drivers.Float(101), Unit: "mm[Hg]"},
		{ID: id(14), MDC: 150023, Ref: "MDC_PRESS_BLD_NONINV_MEAN", Unit: "mm[Hg]", Status: drivers.Unavailable, Absent: "not-performed"},
	}
	b := encode(t, r, 9)
	if !strings.Contains(string(b), `"85354-9"`) || !strings.Contains(string(b), fhir.ComponentIDExtension) {
		t.Fatalf("the encoder did not publish a panel with component ids:\n%s", b)
	}
	if fhir.ComponentIDExtension != epr.ComponentIDExtension {
		t.Fatalf("extension URLs differ: fhir %q, epr %q", fhir.ComponentIDExtension, epr.ComponentIDExtension)
	}
	got, err := epr.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(r.Observations) {
		t.Fatalf("Parse returned %d observations, want %d: %+v", len(got), len(r.Observations), got)
	}
	for i, o := range r.Observations {
		g := got[i]
		var wantValue, gotValue float64 = -1, -1
		if o.Value != nil {
			wantValue = *o.Value
		}
		if g.Value != nil {
			gotValue = *g.Value
		}
		if g.ID != o.ID || g.MDC != o.MDC || g.Ref != o.Ref || gotValue != wantValue || g.Unit != o.Unit && o.Value != nil ||
			g.Absent != o.Absent || g.Flagged != o.Questionable || g.Seq != 9 || !g.Time.Equal(at) {
			t.Errorf("observation %d = %+v (value %v), want %+v", i, g, gotValue, o)
		}
	}
}

// TestParseNEWS2ReportsTheTotal: a NEWS2 score Observation has a value of
// its own (the total) and its sub-scores as components: the EPR view is the
// total, not the sub-scores.
func TestParseNEWS2ReportsTheTotal(t *testing.T) {
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	score := &record.NEWS2{ID: "0b5c3c44-6f0c-5c55-9b1e-5d3f1e6a7b80", Total: 3, Band: "low-medium", Effective: at, Advisory: "advisory"}
	for _, p := range []news2.Parameter{news2.RespRate, news2.SpO2Scale1, news2.AirOrOxygen, news2.SystolicBP, news2.Pulse, news2.Consciousness, news2.Temperature} {
		sub := record.NEWS2SubScore{Parameter: p.String(), Code: p.ScoreCode()}
		switch p {
		case news2.RespRate:
			sub.Score, sub.Value = 3, new(float64)
			*sub.Value = 26
		case news2.AirOrOxygen:
			sub.ValueText = "air"
		case news2.Consciousness:
			sub.ValueText = "A"
		default:
			sub.Value = new(float64)
		}
		score.SubScores = append(score.SubScores, sub)
	}
	r := record.Record{Gateway: "gw1", Site: "s", Ward: "w", Bed: "bed1", Topic: "bedgate/v1/s/w/bed1/obs",
		ReceivedAt: at, Kind: record.KindNEWS2, NEWS2: score}
	body, err := enc.Encode(r, 9)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := epr.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Value == nil || *obs[0].Value != 3 || obs[0].Seq != 9 {
		t.Fatalf("parsed %+v, want one observation: the total 3 at seq 9", obs)
	}
	line := epr.Line("bed1", obs[0])
	if !strings.HasPrefix(line, "bed1") || !strings.Contains(line, "NEWS2 score (advisory)") || strings.Contains(line, "flagged") {
		t.Errorf("line %q: want the bed and NEWS2 labelled advisory, not flagged", line)
	}
	if band := score.Band; !strings.Contains(line, "["+band+" risk]") {
		t.Errorf("line %q: want the risk band %q", line, band)
	}
}

// contextFor is the context record the gateway stores before r.
func contextFor(t *testing.T, r record.Record) record.Record {
	t.Helper()
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return record.Record{Kind: record.KindContext, Gateway: r.Gateway, Site: r.Site, Ward: r.Ward, Bed: r.Bed,
		Topic: r.Topic, Device: r.Device, DeviceKey: r.DeviceKey, ReceivedAt: r.ReceivedAt, Metrics: enc.Metrics(r)}
}

// TestContexts files context and observation Bundles in different orders
// and on different topics, as an EPR would: references resolve only to a
// context published earlier on the same topic.
func TestContexts(t *testing.T) {
	r := testRecord(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	ctx, err := epr.ParseMessage(encode(t, contextFor(t, r), 1))
	if err != nil {
		t.Fatal(err)
	}
	obs, err := epr.ParseMessage(encode(t, r, 2))
	if err != nil {
		t.Fatal(err)
	}
	if !ctx.IsContext() || obs.IsContext() || ctx.Seq != 1 || obs.Seq != 2 {
		t.Fatalf("context %v seq %d, observations %v seq %d", ctx.IsContext(), ctx.Seq, obs.IsContext(), obs.Seq)
	}
	// Location, Device, then a DeviceMetric per metric; every
	// Observation's device and (without a patient) subject among them.
	if len(ctx.Creates) != 2+len(contextFor(t, r).Metrics) || len(obs.References()) == 0 {
		t.Fatalf("context creates %q; observations refer to %q", ctx.Creates, obs.References())
	}
	for _, o := range obs.Observations {
		if !strings.HasPrefix(o.Device, "DeviceMetric?identifier=") {
			t.Errorf("observation %s: device %q is not a conditional reference to a DeviceMetric", o.ID, o.Device)
		}
	}
	const bed, other = "bedgate/v1/s/w/bed1/obs", "bedgate/v1/s/w/bed2/obs"
	tests := []struct {
		name       string
		topics     []string
		msgs       []epr.Message
		unresolved []int // per message, how many references do not resolve
	}{
		{"context first", []string{bed, bed}, []epr.Message{ctx, obs}, []int{0, 0}},
		{"observations first", []string{bed, bed, bed}, []epr.Message{obs, ctx, obs}, []int{len(obs.References()), 0, 0}},
		{"context on another topic", []string{other, bed}, []epr.Message{ctx, obs}, []int{0, len(obs.References())}},
		{"no context", []string{bed}, []epr.Message{obs}, []int{len(obs.References())}},
	}
	for _, tt := range tests {
		var c epr.Contexts
		for i, m := range tt.msgs {
			if got := c.Add(tt.topics[i], m); len(got) != tt.unresolved[i] {
				t.Errorf("%s: message %d: unresolved %q, want %d", tt.name, i, got, tt.unresolved[i])
			}
		}
	}
}
