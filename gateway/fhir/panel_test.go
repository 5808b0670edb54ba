package fhir

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// codes returns the codes of an Observation's code, or of a component's.
func codes(v any) []string {
	var out []string
	cs, _ := get(v, "code.coding").([]any)
	for _, c := range cs {
		out = append(out, get(c, "code").(string))
	}
	return out
}

func TestBloodPressurePanel(t *testing.T) {
	r := bpComplete()
	doc, _ := encode(t, Options{}, r, 1)
	checkStructure(t, doc)
	obs := observations(doc)
	if len(obs) != 2 {
		t.Fatalf("%d Observations, want the pulse rate and one panel", len(obs))
	}
	if got := codes(obs[0]); !reflect.DeepEqual(got, []string{"8867-4", "78564009", "149546"}) {
		t.Errorf("first Observation codes %v, want the NIBP pulse rate", got)
	}
	panel := obs[1]
	sys, dia, mean := r.Observations[1], r.Observations[2], r.Observations[3]
	wantID := uuid.NewSHA1(uuid.MustParse(panelNamespace), []byte("150020\x00"+sys.ID+"\x00"+dia.ID))
	for path, want := range map[string]any{
		"identifier.0.system":      "urn:ietf:rfc:3986",
		"identifier.0.value":       wantID.URN(),
		"status":                   "final",
		"category.0.coding.0.code": "vital-signs",
		"meta.profile.0":           "http://hl7.org/fhir/StructureDefinition/bp",
		"meta.profile.1":           "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation-VitalSigns-BloodPressure",
		"code.coding.0.system":     "http://loinc.org",
		"code.coding.0.code":       "85354-9",
		"code.coding.1.code":       "75367002",
		"code.coding.2.code":       "150020",
		"code.coding.2.display":    nil,
		"valueQuantity":            nil,
		"dataAbsentReason":         nil,
		"subject.identifier.value": recordtest.NHSNumber,
		"effectiveDateTime":        "2026-06-11T09:15:00.000+01:00",
		"device.reference":         "DeviceMetric?identifier=urn:bedgate:device:welchallyn:serial:metric|CX-100/150020",
		"note":                     nil,
	} {
		if got := get(panel, path); !reflect.DeepEqual(got, want) {
			t.Errorf("panel %s = %#v, want %#v", path, got, want)
		}
	}
	wantComps := []struct {
		codes []string
		id    string
		value float64
	}{
		{[]string{"8480-6", "271649006", "150021"}, sys.ID, 122},
		{[]string{"8462-4", "271650006", "150022"}, dia.ID, 78},
		{[]string{"8478-0", "150023"}, mean.ID, 93},
	}
	comps, _ := get(panel, "component").([]any)
	if len(comps) != len(wantComps) {
		t.Fatalf("%d components, want %d", len(comps), len(wantComps))
	}
	for i, w := range wantComps {
		c := comps[i]
		if got := codes(c); !reflect.DeepEqual(got, w.codes) {
			t.Errorf("component %d codes %v, want %v", i, got, w.codes)
		}
		if get(c, "extension.0.url") != ComponentIDExtension || get(c, "extension.0.valueIdentifier.value") != "urn:uuid:"+w.id ||
			get(c, "extension.0.valueIdentifier.system") != ObservationIdentifierSystem {
			t.Errorf("component %d extension %v, want the observation id %s", i, get(c, "extension"), w.id)
		}
		if get(c, "valueQuantity.value") != w.value || get(c, "valueQuantity.code") != "mm[Hg]" || get(c, "valueQuantity.unit") != "millimeter of mercury" {
			t.Errorf("component %d value %v", i, get(c, "valueQuantity"))
		}
	}
	// The panel's DeviceMetric is the compound NIBP metric.
	for _, m := range entriesOf(doc, "DeviceMetric") {
		if get(m, "fullUrl") == get(panel, "device.reference") {
			if got := get(m, "resource.type.coding.0.code"); got != "150020" {
				t.Errorf("panel DeviceMetric type %v, want 150020", got)
			}
			if got := get(m, "resource.unit.coding.0.display"); got != "MDC_DIM_MMHG" {
				t.Errorf("panel DeviceMetric unit %v", got)
			}
		}
	}
}

func TestBloodPressurePanelCases(t *testing.T) {
	noPatient := bpComplete()
	noPatient.Patient = nil
	twoSystolic := bpComplete()
	extra := recordtest.Obs(twoSystolic, 150021, "MDC_PRESS_BLD_NONINV_SYS", recordtest.Float(120), "mm[Hg]")
	extra.ID = recordtest.ObsID("other", "key", 150021, recordtest.DeviceTime())
	twoSystolic.Observations = append(twoSystolic.Observations, extra)
	kPa := bpComplete()
	kPa.Observations[2].Value, kPa.Observations[2].Unit = recordtest.Float(10.4), "kPa"

	tests := []struct {
		name   string
		record record.Record
		// codes of each Observation's code, in order
		observations [][]string
		// panel: index of the panel Observation, -1 for none
		panel int
		want  map[string]any // paths under the panel
	}{
		{"no mean: two components", bpNoMean(), [][]string{{"8867-4", "78564009", "149546"}, {"85354-9", "75367002", "150020"}}, 1,
			map[string]any{"component.2": nil, "component.1.valueQuantity.value": 74.0}},
		{"systolic only: single Observations, no bp profile", bpSystolicOnly(),
			[][]string{{"8867-4", "78564009", "149546"}, {"8480-6", "271649006", "150021"}}, -1, nil},
		{"all absent: dataAbsentReason on every component", bpAbsent(), nil, 1, map[string]any{
			"valueQuantity": nil, "dataAbsentReason": nil,
			"component.0.dataAbsentReason.coding.0.code": "error", "component.0.valueQuantity": nil,
			"component.1.dataAbsentReason.coding.0.code": "error",
			"component.2.dataAbsentReason.coding.0.code": "error",
		}},
		{"mean absent", bpPartlyAbsent(), nil, 1, map[string]any{
			"component.0.valueQuantity.value":            140.0,
			"component.2.dataAbsentReason.coding.0.code": "not-performed",
		}},
		{"questionable and converted parts: flags per component, notes on the panel", bpQuestionable(), nil, 1, map[string]any{
			"component.0.interpretation.0.coding.0.code":   "questionable",
			"component.0.interpretation.0.coding.0.system": "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status",
			"component.1.interpretation.0.coding.0.code":   "in-alarm",
			"component.2.interpretation":                   nil,
			"interpretation":                               nil,
			"component.0.valueQuantity.value":              225.0,
			"component.0.valueQuantity.code":               "mm[Hg]",
			"note.0.text":                                  "systolic: questionable: questionable-high: above the plausible 220 mm[Hg]",
			"note.1.text":                                  "systolic: device sent 30 kPa; converted to 225 mm[Hg]",
			"note.2":                                       nil,
		}},
		{"no patient: no profile, Location subject", noPatient, nil, 1, map[string]any{
			"meta": nil, "subject.reference": "Location?identifier=urn:bedgate:location|St%20Elsewhere/Ward%207/Bed%203", "category.0.coding.0.code": "vital-signs",
		}},
		{"two systolic values: no panel", twoSystolic, [][]string{
			{"8867-4", "78564009", "149546"}, {"8480-6", "271649006", "150021"}, {"8462-4", "271650006", "150022"},
			{"8478-0", "150023"}, {"8480-6", "271649006", "150021"}}, -1, nil},
		{"a part in kPa: no panel, that part a device observation", kPa, [][]string{
			{"8867-4", "78564009", "149546"}, {"8480-6", "271649006", "150021"}, {"150022"}, {"8478-0", "150023"}}, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := encode(t, Options{}, tt.record, 1)
			checkStructure(t, doc)
			obs := observations(doc)
			if tt.observations != nil {
				var got [][]string
				for _, o := range obs {
					got = append(got, codes(o))
				}
				if !reflect.DeepEqual(got, tt.observations) {
					t.Fatalf("Observations coded %v, want %v", got, tt.observations)
				}
			}
			for i, o := range obs {
				isPanel := get(o, "component") != nil
				if isPanel != (i == tt.panel) {
					t.Errorf("Observation %d: panel %v, want %v", i, isPanel, i == tt.panel)
				}
				for _, p := range []any{get(o, "meta.profile.0"), get(o, "meta.profile.1")} {
					if i != tt.panel && p != nil && strings.HasSuffix(p.(string), "/bp") {
						t.Errorf("Observation %d claims bp without being a panel", i)
					}
				}
			}
			if tt.panel < 0 {
				return
			}
			for path, want := range tt.want {
				if got := get(obs[tt.panel], path); !reflect.DeepEqual(got, want) {
					t.Errorf("panel %s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}

func TestArterialAndNIBPPanels(t *testing.T) {
	r := arterialWithPatient()
	doc, _ := encode(t, Options{}, r, 1)
	checkStructure(t, doc)
	var got [][]string
	for _, o := range observations(doc) {
		got = append(got, codes(o))
	}
	want := [][]string{
		{"8867-4", "364075005", "147842"}, {"9279-1", "86290005", "151562"}, {"8310-5", "386725007", "150364"},
		{"85354-9", "75367002", "150020"}, {"19891-1", "250790007", "151708"}, {"85354-9", "150032"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Observations coded %v, want %v", got, want)
	}
	art := observations(doc)[5]
	if p := get(art, "meta.profile"); !reflect.DeepEqual(p, []any{"http://hl7.org/fhir/StructureDefinition/bp"}) {
		t.Errorf("arterial panel profiles %v: bp only (no SNOMED coding, no UK Core)", p)
	}
	if c := codes(get(art, "component.0")); !reflect.DeepEqual(c, []string{"8480-6", "150033"}) {
		t.Errorf("arterial systolic component codes %v", c)
	}
	if a, n := get(art, "identifier.0.value"), get(observations(doc)[3], "identifier.0.value"); a == n {
		t.Error("the two panels share an identifier")
	}
}

func TestFlags(t *testing.T) {
	t.Run("unassociated: tag and note on every Observation", func(t *testing.T) {
		doc, _ := encode(t, Options{}, unassociated(), 1)
		checkStructure(t, doc)
		for i, o := range observations(doc) {
			for path, want := range map[string]any{
				"meta.tag.0.system": AssociationTagSystem,
				"meta.tag.0.code":   TagUnassociated,
				"meta.profile":      nil,
				"note.0.text":       "no patient associated: bed has no admitted patient",
				"subject.reference": "Location?identifier=urn:bedgate:location|St%20Elsewhere/Ward%207/Bed%203",
			} {
				if got := get(o, path); !reflect.DeepEqual(got, want) {
					t.Errorf("Observation %d %s = %#v, want %#v", i, path, got, want)
				}
			}
		}
	})
	t.Run("no patient without the flag: no tag", func(t *testing.T) {
		doc, _ := encode(t, Options{}, recordtest.MonitorNoPatient(), 1)
		for i, o := range observations(doc) {
			if get(o, "meta.tag") != nil || get(o, "note") != nil {
				t.Errorf("Observation %d: tag %v note %v", i, get(o, "meta.tag"), get(o, "note"))
			}
		}
	})
	t.Run("converted values: a note, one value", func(t *testing.T) {
		doc, b := encode(t, Options{}, converted(), 1)
		checkStructure(t, doc)
		obs := observations(doc)
		for i, want := range []struct {
			note  string
			value float64
			code  string
		}{
			{"device sent 98.6 [degF]; converted to 37 Cel", 37, "Cel"},
			{"device sent 5 kPa; converted to 37.5 mm[Hg]", 37.5, "mm[Hg]"},
		} {
			if got := get(obs[i], "note.0.text"); got != want.note {
				t.Errorf("Observation %d note %#v, want %q", i, got, want.note)
			}
			if get(obs[i], "valueQuantity.value") != want.value || get(obs[i], "valueQuantity.code") != want.code || get(obs[i], "interpretation") != nil {
				t.Errorf("Observation %d value %v interpretation %v", i, get(obs[i], "valueQuantity"), get(obs[i], "interpretation"))
			}
		}
		if bytes.Contains(b, []byte("98.6,")) || bytes.Contains(b, []byte(`"value":98.6`)) {
			t.Error("the device's value is published as a value")
		}
	})
}

func TestDeviceMetrics(t *testing.T) {
	r := deviceObservations()
	doc, _ := encode(t, Options{}, r, 1)
	checkStructure(t, doc)
	ctx, _ := encode(t, Options{}, contextOf(t, r), 2)
	checkStructure(t, ctx)
	metrics := entriesOf(ctx, "DeviceMetric")
	wantValues := []string{"1000123456/150456", "1000123456/150448", "1000123456/160128", "1000123456/label:PVI"}
	if len(metrics) != len(wantValues) {
		t.Fatalf("%d DeviceMetrics, want %d", len(metrics), len(wantValues))
	}
	for i, m := range metrics {
		if got := get(m, "resource.identifier.0.value"); got != wantValues[i] {
			t.Errorf("DeviceMetric %d identifier %v, want %s", i, got, wantValues[i])
		}
		want := "DeviceMetric?" + get(m, "request.ifNoneExist").(string)
		if o := observations(doc)[i]; get(o, "device.reference") != want {
			t.Errorf("Observation %d device %v, want DeviceMetric %v", i, get(o, "device.reference"), want)
		}
	}
	if got := get(metrics[3], "resource.type.coding.0.system"); got != "urn:bedgate:driver:masimo:parameter" {
		t.Errorf("label metric type system %v", got)
	}
	if get(metrics[2], "resource.unit") != nil {
		t.Errorf("unknown MDC code: unit %v invented", get(metrics[2], "resource.unit"))
	}

	// One DeviceMetric per metric type, however many values share it.
	twice := recordtest.PulseOximetry()
	again := twice.Observations[0]
	again.ID = recordtest.ObsID("gw-ward7", "other", 150456, recordtest.DeviceTime())
	twice.Observations = append(twice.Observations, again)
	doc, _ = encode(t, Options{}, twice, 1)
	ctx, _ = encode(t, Options{}, contextOf(t, twice), 2)
	if n := len(entriesOf(ctx, "DeviceMetric")); n != 2 {
		t.Errorf("%d DeviceMetrics for two metric types", n)
	}
	obs := observations(doc)
	if get(obs[0], "device.reference") != get(obs[2], "device.reference") {
		t.Error("two SpO2 values refer to different DeviceMetrics")
	}
}

func TestPanelEncodingIsDeterministic(t *testing.T) {
	e, _ := New(Options{})
	for name, r := range map[string]record.Record{
		"complete": bpComplete(), "absent": bpAbsent(), "questionable": bpQuestionable(),
		"arterial": arterial(), "converted": converted(), "unassociated": unassociated(),
	} {
		first, err := e.Encode(r, 3)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for range 20 {
			if b, _ := e.Encode(r, 3); !bytes.Equal(b, first) {
				t.Fatalf("%s: re-encoding differs", name)
			}
		}
	}
	// A re-delivery with the mean missing keeps the panel identifier: it
	// derives from the systolic and diastolic ids only.
	a, b := bpComplete(), bpNoMean()
	b.Observations[1].ID, b.Observations[2].ID = a.Observations[1].ID, a.Observations[2].ID
	da, _ := encode(t, Options{}, a, 1)
	db, _ := encode(t, Options{}, b, 2)
	if get(observations(da)[1], "identifier") == nil ||
		!reflect.DeepEqual(get(observations(da)[1], "identifier"), get(observations(db)[1], "identifier")) {
		t.Error("panel identifier depends on the mean")
	}
	if get(entriesOf(da, "Observation")[1], "fullUrl") != get(entriesOf(db, "Observation")[1], "fullUrl") {
		t.Error("panel fullUrl differs between deliveries")
	}
}
