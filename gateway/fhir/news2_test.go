package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// news2Inputs is one bedside set: device values with the ids of the
// observations they came from, and the nurse's entries.
type news2Inputs struct {
	resp, spo2, sys, pulse, temp float64
	acvpu                        news2.ACVPU
	air                          news2.Breathing
	scale2                       bool
}

// news2Record scores in with package news2 and wraps the result in a
// KindNEWS2 record the way the gateway does.
func news2Record(t *testing.T, in news2Inputs) record.Record {
	t.Helper()
	r := recordtest.Base()
	r.DeviceKey = ""
	r.Device.Serial = ""
	r.Kind = record.KindNEWS2
	at := recordtest.DeviceTime()
	ids := map[news2.Parameter]string{
		news2.RespRate:      recordtest.ObsID(r.Gateway, "monitor", 151562, at),
		news2.SpO2Scale1:    recordtest.ObsID(r.Gateway, "oximeter", 150456, at),
		news2.SpO2Scale2:    recordtest.ObsID(r.Gateway, "oximeter", 150456, at),
		news2.SystolicBP:    recordtest.ObsID(r.Gateway, "monitor", 150021, at.Add(-4*time.Minute)),
		news2.Pulse:         recordtest.ObsID(r.Gateway, "oximeter", 149530, at),
		news2.Temperature:   recordtest.ObsID(r.Gateway, "monitor", 150364, at.Add(-2*time.Minute)),
		news2.Consciousness: "epr-acvpu-0042",
		news2.AirOrOxygen:   "epr-air-0042",
	}
	f := func(v float64, d time.Duration) *news2.Observation[float64] {
		return &news2.Observation[float64]{Value: v, Time: at.Add(d)}
	}
	set := news2.Set{
		RespRate:      f(in.resp, 0),
		SpO2:          f(in.spo2, 0),
		AirOrOxygen:   &news2.Observation[news2.Breathing]{Value: in.air, Time: at.Add(-time.Minute)},
		SystolicBP:    f(in.sys, -4*time.Minute),
		Pulse:         f(in.pulse, 0),
		Consciousness: &news2.Observation[news2.ACVPU]{Value: in.acvpu, Time: at.Add(-time.Minute)},
		Temperature:   f(in.temp, -2*time.Minute),
	}
	res, err := news2.Score(set, news2.Options{Scale2: in.scale2})
	if err != nil {
		t.Fatal(err)
	}
	s := &record.NEWS2{
		ID:        uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(in))).String(),
		Total:     res.Total,
		Band:      res.Band.String(),
		Scale2:    in.scale2,
		Effective: res.Newest,
		Advisory:  res.Advisory,
	}
	for _, it := range res.Items {
		sub := record.NEWS2SubScore{Parameter: it.Parameter.String(), Code: it.Parameter.ScoreCode(), Score: it.Score,
			Observations: []string{ids[it.Parameter]}, Time: it.Time}
		switch it.Parameter {
		case news2.Consciousness:
			sub.ValueText = in.acvpu.String()
		case news2.AirOrOxygen:
			sub.ValueText = in.air.String()
		default:
			v := it.Charted
			sub.Value = &v
		}
		s.SubScores = append(s.SubScores, sub)
	}
	r.NEWS2 = s
	return r
}

var (
	news2Low    = news2Inputs{resp: 16, spo2: 97, sys: 121, pulse: 72, temp: 37.2, acvpu: news2.Alert, air: news2.Air}
	news2Medium = news2Inputs{resp: 22, spo2: 96, sys: 118, pulse: 95, temp: 38.4, acvpu: news2.Alert, air: news2.Oxygen}
	news2Red    = news2Inputs{resp: 16, spo2: 97, sys: 121, pulse: 72, temp: 37.2, acvpu: news2.Voice, air: news2.Air}
	news2Scale2 = news2Inputs{resp: 18, spo2: 90, sys: 130, pulse: 80, temp: 37.0, acvpu: news2.Alert, air: news2.Oxygen, scale2: true}
)

func TestEncodeNEWS2Fields(t *testing.T) {
	r := news2Record(t, news2Medium)
	doc, raw := encode(t, Options{}, r, 42)
	checkStructure(t, doc)

	entries := get(doc, "entry").([]any)
	if len(entries) != 2 || get(entries[0], "resource.resourceType") != "Location" {
		t.Fatalf("entries: want Location and Observation (no device key, no Device), got %d:\n%s", len(entries), raw)
	}
	if get(doc, "identifier.system") != SequenceSystem(r.Gateway, "") || get(doc, "identifier.value") != "42" {
		t.Errorf("Bundle.identifier = %v", get(doc, "identifier"))
	}
	obs := get(entries[1], "resource")
	want := map[string]any{
		"resourceType":                      "Observation",
		"status":                            "final",
		"identifier.0.system":               ObservationIdentifierSystem,
		"identifier.0.value":                "urn:uuid:" + r.NEWS2.ID,
		"category.0.coding.0.system":        systemObservationCategory,
		"category.0.coding.0.code":          "survey",
		"code.coding.0.system":              news2.SystemSNOMED,
		"code.coding.0.code":                news2.CodeTotal,
		"code.coding.0.display":             "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
		"subject.type":                      "Patient",
		"subject.identifier.system":         NHSNumberSystem,
		"subject.identifier.value":          recordtest.NHSNumber,
		"effectiveDateTime":                 r.NEWS2.Effective.Format(timeLayout),
		"issued":                            recordtest.ReceivedAt().Format(timeLayout),
		"valueQuantity.value":               float64(r.NEWS2.Total),
		"valueQuantity.system":              "http://unitsofmeasure.org",
		"valueQuantity.code":                "{ScoreOf}",
		"interpretation.0.coding.0.system":  NEWS2RiskSystem,
		"interpretation.0.coding.0.code":    "medium",
		"note.0.text":                       r.NEWS2.Advisory,
		"component.0.code.coding.0.code":    news2.CodeRespRateScore,
		"component.0.valueQuantity.value":   2.0,
		"component.0.valueQuantity.code":    "{ScoreOf}",
		"component.1.code.coding.0.code":    news2.CodeSpO2Scale1Score,
		"component.2.code.coding.0.code":    news2.CodeAirOrOxygenScore,
		"component.2.valueQuantity.value":   2.0,
		"component.6.code.coding.0.code":    news2.CodeTemperatureScore,
		"component.6.valueQuantity.value":   1.0,
		"derivedFrom.0.type":                "Observation",
		"derivedFrom.0.identifier.system":   ObservationIdentifierSystem,
		"derivedFrom.0.identifier.value":    "urn:uuid:" + r.NEWS2.SubScores[0].Observations[0],
		"derivedFrom.0.display":             "resp-rate",
		"derivedFrom.4.display":             "temperature",
		"interpretation.0.coding.0.display": "Medium clinical risk (key threshold for urgent response)",
		"component.5.valueQuantity.value":   0.0,
		"component.5.code.coding.0.code":    news2.CodeConsciousnessScore,
		"component.3.code.coding.0.code":    news2.CodeSystolicBPScore,
		"component.4.code.coding.0.code":    news2.CodePulseScore,
		"component.4.valueQuantity.value":   1.0,
		"component.1.valueQuantity.value":   0.0,
		"component.3.valueQuantity.value":   0.0,
		"interpretation.0.text":             "Medium clinical risk (key threshold for urgent response) (advisory)",
		"valueQuantity.unit":                "ScoreOf",
		"component.0.valueQuantity.unit":    "ScoreOf",
		"component.0.valueQuantity.system":  "http://unitsofmeasure.org",
		"code.text":                         "NEWS2 total score (advisory)",
		"derivedFrom.5":                     nil,
		"component.7":                       nil,
		"meta":                              nil,
		"device":                            nil,
		"dataAbsentReason":                  nil,
		"component.6.code.coding.0.system":  news2.SystemSNOMED,
		"component.6.code.coding.0.display": "Royal College of Physicians NEWS2 (National Early Warning Score 2) - temperature score",
		"category.0.coding.0.display":       "Survey",
		"interpretation.1":                  nil,
		"subject.reference":                 nil,
		"derivedFrom.1.display":             "spo2-scale1",
		"derivedFrom.2.display":             "systolic-bp",
		"derivedFrom.3.display":             "pulse",
		"derivedFrom.3.identifier.value":    "urn:uuid:" + r.NEWS2.SubScores[4].Observations[0],
		"component.2.code.coding.0.display": "Royal College of Physicians NEWS2 (National Early Warning Score 2) - air or oxygen score",
	}
	for path, w := range want {
		if got := get(obs, path); got != w {
			t.Errorf("Observation.%s = %#v, want %#v", path, got, w)
		}
	}
	if r.NEWS2.Total != 6 || r.NEWS2.Band != "medium" {
		t.Fatalf("fixture scored %d %s, want 6 medium", r.NEWS2.Total, r.NEWS2.Band)
	}
	if got := get(entries[1], "request.ifNoneExist"); got != "identifier=urn:ietf:rfc:3986|urn:uuid:"+r.NEWS2.ID {
		t.Errorf("ifNoneExist = %v", got)
	}
	charted, _ := get(obs, "note.1.text").(string)
	for _, s := range []string{"resp-rate 22 scores 2 at 2026-06-11T09:15:00.000+01:00", "air-or-oxygen oxygen scores 2 (entry epr-air-0042) at 2026-06-11T09:14:00.000+01:00",
		"consciousness A scores 0 (entry epr-acvpu-0042)", "systolic-bp 118 scores 0 at 2026-06-11T09:11:00.000+01:00", "temperature 38.4 scores 1", "SpO2 scale 1"} {
		if !strings.Contains(charted, s) {
			t.Errorf("charted note %q lacks %q", charted, s)
		}
	}
	if bytes.Contains(raw, []byte("epr-acvpu-0042\"")) {
		t.Errorf("nurse entry id used as an identifier value:\n%s", raw)
	}
}

func TestEncodeNEWS2Context(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*record.Record)
		entries     []string
		subjectType string
		device      bool
	}{
		{"no device key, patient", func(*record.Record) {}, []string{"Location", "Observation"}, "Patient", false},
		{"device key", func(r *record.Record) { r.DeviceKey = "bed3-monitor" }, []string{"Location", "Device", "Observation"}, "Patient", true},
		{"no patient", func(r *record.Record) { r.Patient = nil; r.Unassociated = true }, []string{"Location", "Observation"}, "Location", false},
		{"local patient", func(r *record.Record) { r.Patient = &record.Patient{LocalID: "RX1"} }, []string{"Location", "Observation"}, "Patient", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := news2Record(t, news2Low)
			tt.edit(&r)
			doc, _ := encode(t, Options{}, r, 1)
			checkStructure(t, doc)
			entries := get(doc, "entry").([]any)
			var kinds []string
			for _, e := range entries {
				kinds = append(kinds, get(e, "resource.resourceType").(string))
			}
			if !slices.Equal(kinds, tt.entries) {
				t.Fatalf("entries %v, want %v", kinds, tt.entries)
			}
			obs := get(entries[len(entries)-1], "resource")
			if got := get(obs, "subject.type"); got != tt.subjectType {
				t.Errorf("subject.type = %v, want %v", got, tt.subjectType)
			}
			if tt.subjectType == "Location" && get(obs, "subject.reference") != get(entries[0], "fullUrl") {
				t.Errorf("subject %v does not reference the Location entry", get(obs, "subject"))
			}
			if tt.device != (get(obs, "device.reference") != nil) || (tt.device && get(obs, "device.reference") != get(entries[1], "fullUrl")) {
				t.Errorf("device = %v, want a reference to the Device entry: %v", get(obs, "device"), tt.device)
			}
		})
	}
}

func TestEncodeNEWS2Deterministic(t *testing.T) {
	r := news2Record(t, news2Red)
	_, a := encode(t, Options{}, r, 7)
	_, b := encode(t, Options{}, r, 7)
	if !bytes.Equal(a, b) {
		t.Fatalf("two encodings differ:\n%s\n%s", a, b)
	}
	r2 := news2Record(t, news2Low)
	doc1, _ := encode(t, Options{}, r, 7)
	doc2, _ := encode(t, Options{}, r2, 7)
	u1 := get(doc1, "entry.1.fullUrl")
	u2 := get(doc2, "entry.1.fullUrl")
	if u1 == u2 {
		t.Errorf("different scores share the fullUrl %v", u1)
	}
	if get(doc1, "entry.0.fullUrl") != get(doc2, "entry.0.fullUrl") {
		t.Errorf("the bed's Location fullUrl changed between scores")
	}
	if got := get(doc1, "entry.1.resource.interpretation.0.coding.0.code"); got != "low-medium" {
		t.Errorf("red score band = %v, want low-medium", got)
	}
}

func TestEncodeNEWS2Errors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*record.Record)
		want string
	}{
		{"unknown kind", func(r *record.Record) { r.Kind = "vibes" }, `record kind "vibes"`},
		{"rejected kind", func(r *record.Record) { r.Kind = record.KindRejected }, `record kind "rejected"`},
		{"no score", func(r *record.Record) { r.NEWS2 = nil }, "without a score"},
		{"no gateway", func(r *record.Record) { r.Gateway = "" }, "no gateway id"},
		{"no bed", func(r *record.Record) { r.Bed = "" }, "no bed"},
		{"bad id", func(r *record.Record) { r.NEWS2.ID = "score-1" }, `NEWS2 id "score-1" is not a UUID`},
		{"no effective", func(r *record.Record) { r.NEWS2.Effective = time.Time{} }, "no effective time"},
		{"bad band", func(r *record.Record) { r.NEWS2.Band = "amber" }, `band "amber"`},
		{"total not sum", func(r *record.Record) { r.NEWS2.Total++ }, "is not the sum of its sub-scores"},
		{"sub-score range", func(r *record.Record) { r.NEWS2.SubScores[0].Score = 4; r.NEWS2.Total += 4 - 2 }, "outside 0-3"},
		{"unknown code", func(r *record.Record) { r.NEWS2.SubScores[1].Code = "86290005" }, `"86290005" is not a NEWS2 sub-score code`},
		{"code twice", func(r *record.Record) { r.NEWS2.SubScores[1].Code = news2.CodeRespRateScore }, "appears twice"},
		{"device id not a UUID", func(r *record.Record) { r.NEWS2.SubScores[3].Observations = []string{"bp-1"} }, `observation id "bp-1" is not a UUID`},
		{"no sub-scores", func(r *record.Record) { r.NEWS2.SubScores = nil; r.NEWS2.Total = 0 }, "no sub-scores"},
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := news2Record(t, news2Medium)
			tt.edit(&r)
			b, err := e.Encode(r, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "fhir: ") {
				t.Fatalf("Encode = %s, %v; want an error containing %q", b, err, tt.want)
			}
		})
	}
	// A nurse entry id need not be a UUID.
	r := news2Record(t, news2Medium)
	if _, err := e.Encode(r, 1); err != nil {
		t.Fatalf("nurse entry ids that are not UUIDs: %v", err)
	}
}

// TestNEWS2Conformance runs the independent validators over NEWS2 Bundles.
// Scores on Scale 1, with and without a patient, with a Device entry and in
// every band must get 0 problems. The validator's NEWS2 code list lacks the
// Scale 2 sub-score code (1104321000000108), so a Scale 2 score gets exactly
// one report, on that component, and nothing else.
func TestNEWS2Conformance(t *testing.T) {
	withDevice := news2Record(t, news2Low)
	withDevice.DeviceKey = "bed3-monitor"
	withDevice.Device.Driver = "intellivue"
	noPatient := news2Record(t, news2Medium)
	noPatient.Patient = nil
	high := news2Record(t, news2Inputs{resp: 26, spo2: 90, sys: 88, pulse: 135, temp: 34.8, acvpu: news2.Pain, air: news2.Oxygen})
	if high.NEWS2.Total != 20 {
		t.Fatalf("fixture scored %d, want the maximum 20", high.NEWS2.Total)
	}
	valid := []record.Record{news2Record(t, news2Low), news2Record(t, news2Medium), news2Record(t, news2Red),
		withDevice, noPatient, high, recordtest.PulseOximetry()}
	scale2 := []record.Record{news2Record(t, news2Scale2)}
	out, problems, resources := validateFHIR(t, map[string][][]byte{"news2.jsonl": encodeAll(t, valid...), "scale2.jsonl": encodeAll(t, scale2...)})
	// Bundle, Location, Device when keyed, the score.
	wantResources := 0
	for _, r := range slices.Concat(valid, scale2) {
		switch {
		case r.Kind == record.KindNEWS2 && r.DeviceKey != "":
			wantResources += 4
		case r.Kind == record.KindNEWS2:
			wantResources += 3
		default: // Bundle and an Observation per value
			wantResources += 1 + len(r.Observations)
		}
	}
	if resources != wantResources {
		t.Errorf("encoded %d resources, want %d", resources, wantResources)
	}
	expectProblems(t, out, problems, resources,
		"scale2.jsonl:1: Bundle/entry[1].resource.component[1].code: [news2] NEWS2 components must be SNOMED CT NEWS2 sub-score codes")
}

// TestNEWS2DerivedFromPanel: a systolic pressure published as a component
// of a blood pressure panel is referenced by the panel Observation's
// identifier, which the EPR received; without Panel the systolic's own.
func TestNEWS2DerivedFromPanel(t *testing.T) {
	monitor := recordtest.MonitorWithPatient()
	sys, dia := monitor.Observations[3], monitor.Observations[4]
	published := map[string]bool{}
	for _, b := range encodeAll(t, monitor) {
		var doc struct {
			Entry []struct {
				Resource struct {
					ResourceType string
					Identifier   []struct{ System, Value string }
				}
			}
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, e := range doc.Entry {
			if e.Resource.ResourceType == "Observation" {
				for _, id := range e.Resource.Identifier {
					published[id.System+"|"+id.Value] = true
				}
			}
		}
	}
	tests := []struct {
		name  string
		panel *record.NEWS2Panel
		want  string // the identifier value of the systolic reference
	}{
		{"in a panel", &record.NEWS2Panel{MDC: 150020, Diastolic: dia.ID}, PanelID(150020, sys.ID, dia.ID).URN()},
		{"on its own", nil, uuid.MustParse(sys.ID).URN()},
	}
	for _, tt := range tests {
		r := news2Record(t, news2Low)
		for i, sub := range r.NEWS2.SubScores {
			if sub.Parameter == news2.SystolicBP.String() {
				r.NEWS2.SubScores[i].Observations = []string{sys.ID}
				r.NEWS2.SubScores[i].Panel = tt.panel
			}
		}
		var obs struct {
			Entry []struct {
				Resource struct {
					ResourceType string
					DerivedFrom  []struct {
						Display    string
						Identifier struct{ System, Value string }
					}
				}
			}
		}
		if err := json.Unmarshal(encodeAll(t, r)[0], &obs); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range obs.Entry {
			for _, d := range e.Resource.DerivedFrom {
				if d.Display == news2.SystolicBP.String() {
					found = true
					if d.Identifier.Value != tt.want || d.Identifier.System != ObservationIdentifierSystem {
						t.Errorf("%s: systolic derivedFrom %+v, want %s", tt.name, d.Identifier, tt.want)
					}
					if tt.panel != nil && !published[d.Identifier.System+"|"+d.Identifier.Value] {
						t.Errorf("%s: systolic derivedFrom %s is no Observation the monitor's Bundle carries", tt.name, d.Identifier.Value)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: no systolic derivedFrom", tt.name)
		}
	}
	// A panel with an id that is not a UUID is refused.
	r := news2Record(t, news2Low)
	for i, sub := range r.NEWS2.SubScores {
		if sub.Parameter == news2.SystolicBP.String() {
			r.NEWS2.SubScores[i].Panel = &record.NEWS2Panel{MDC: 150020, Diastolic: "dia"}
		}
	}
	e, _ := New(Options{})
	if _, err := e.Encode(r, 1); err == nil || !strings.Contains(err.Error(), "panel") {
		t.Errorf("a panel with a bad diastolic id: %v, want an error", err)
	}
}
