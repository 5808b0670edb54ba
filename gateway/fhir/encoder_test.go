package fhir

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// get walks decoded JSON by a dotted path; numeric parts index arrays.
// It returns nil when the path does not exist.
func get(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

func encode(t *testing.T, opts Options, r record.Record, seq uint64) (map[string]any, []byte) {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode(r, seq)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	return doc, b
}

// entriesOf returns the Bundle entries whose resource is of type kind, in
// order.
func entriesOf(doc map[string]any, kind string) []any {
	var out []any
	entries, _ := get(doc, "entry").([]any)
	for _, e := range entries {
		if get(e, "resource.resourceType") == kind {
			out = append(out, e)
		}
	}
	return out
}

// observations returns the Observation resources of a Bundle, in order.
func observations(doc map[string]any) []any {
	var out []any
	for _, e := range entriesOf(doc, "Observation") {
		out = append(out, get(e, "resource"))
	}
	return out
}

// conditionalRef matches a conditional reference to a resource of a bed's
// context Bundle.
var conditionalRef = regexp.MustCompile(`^(Location|Device|DeviceMetric)\?identifier=[^|?&=]+\|[^|?&=]+$`)

// checkStructure is the Go-side structural check every encoded Bundle must
// pass: unique urn:uuid fullUrls, references that resolve (urn:uuid in the
// Bundle, or conditional references to a context resource), conditional
// creates that match an identifier the resource carries, value xor
// dataAbsentReason.
func checkStructure(t *testing.T, doc map[string]any) {
	t.Helper()
	if get(doc, "resourceType") != "Bundle" || get(doc, "type") != "transaction" {
		t.Fatalf("not a transaction Bundle: %v %v", get(doc, "resourceType"), get(doc, "type"))
	}
	entries, _ := get(doc, "entry").([]any)
	urls := map[string]bool{}
	for i, e := range entries {
		u, _ := get(e, "fullUrl").(string)
		if !strings.HasPrefix(u, "urn:uuid:") || urls[u] {
			t.Errorf("entry %d: fullUrl %q not a unique urn:uuid", i, u)
		}
		urls[u] = true
	}
	for i, e := range entries {
		res := get(e, "resource")
		kind, _ := get(res, "resourceType").(string)
		if get(e, "request.method") != "POST" || get(e, "request.url") != kind {
			t.Errorf("entry %d: request %v, want POST %s", i, get(e, "request"), kind)
		}
		q, _ := get(e, "request.ifNoneExist").(string)
		sys, val := get(res, "identifier.0.system").(string), get(res, "identifier.0.value").(string)
		if want := ifNoneExist(identifier{sys, val}); q != want || sys == "" || val == "" {
			t.Errorf("entry %d: ifNoneExist %q, want %q", i, q, want)
		}
		for _, ref := range []string{"subject.reference", "device.reference", "location.reference", "source.reference"} {
			r, ok := get(res, ref).(string)
			switch {
			case !ok:
			case strings.HasPrefix(r, "urn:uuid:"):
				if !urls[r] {
					t.Errorf("entry %d: %s %q does not resolve in the Bundle", i, ref, r)
				}
			case !conditionalRef.MatchString(r):
				t.Errorf("entry %d: %s %q is neither an entry nor a conditional reference to a context resource", i, ref, r)
			}
		}
		comps, _ := get(res, "component").([]any)
		switch {
		case kind != "Observation":
		case get(res, "code.coding.0.code") == "85354-9": // a blood-pressure panel
			if get(res, "valueQuantity") != nil || get(res, "dataAbsentReason") != nil {
				t.Errorf("entry %d: a panel carries its values in components only", i)
			}
			for j, c := range comps {
				if (get(c, "valueQuantity") == nil) == (get(c, "dataAbsentReason") == nil) {
					t.Errorf("entry %d component %d: needs exactly one of valueQuantity and dataAbsentReason", i, j)
				}
			}
		case (get(res, "valueQuantity") == nil) == (get(res, "dataAbsentReason") == nil):
			t.Errorf("entry %d: needs exactly one of valueQuantity and dataAbsentReason", i)
		}
	}
}

func TestBundleEnvelope(t *testing.T) {
	r := recordtest.PulseOximetry()
	ctx, _ := encode(t, Options{}, contextOf(t, r), 4710)
	doc, _ := encode(t, Options{}, r, 4711)
	checkStructure(t, ctx)
	checkStructure(t, doc)
	conditional := func(path string) string {
		return get(ctx, path+".request.url").(string) + "?" + get(ctx, path+".request.ifNoneExist").(string)
	}
	tests := []struct {
		doc  map[string]any
		path string
		want any
	}{
		{ctx, "identifier.system", "urn:bedgate:gateway:gw-ward7:seq"},
		{ctx, "identifier.value", "4710"},
		{ctx, "entry.0.resource.resourceType", "Location"},
		{ctx, "entry.0.resource.identifier.0.system", LocationIdentifierSystem},
		{ctx, "entry.0.resource.identifier.0.value", "St Elsewhere/Ward 7/Bed 3"},
		{ctx, "entry.0.resource.name", "Bed 3"},
		{ctx, "entry.0.resource.description", "Bed 3, Ward 7, St Elsewhere"},
		{ctx, "entry.0.request.ifNoneExist", "identifier=urn:bedgate:location|St%20Elsewhere/Ward%207/Bed%203"},
		{ctx, "entry.1.resource.resourceType", "Device"},
		{ctx, "entry.1.resource.identifier.0.system", "urn:bedgate:device:masimo:serial"},
		{ctx, "entry.1.resource.identifier.0.value", "1000123456"},
		{ctx, "entry.1.resource.serialNumber", "1000123456"},
		{ctx, "entry.1.resource.modelNumber", "Radical-7"},
		{ctx, "entry.1.resource.type.coding.0.code", "masimo"},
		{ctx, "entry.1.resource.location.reference", get(ctx, "entry.0.fullUrl")},
		{ctx, "entry.2.resource.resourceType", "DeviceMetric"},
		{ctx, "entry.2.resource.identifier.0.system", "urn:bedgate:device:masimo:serial:metric"},
		{ctx, "entry.2.resource.identifier.0.value", "1000123456/150456"},
		{ctx, "entry.2.request.ifNoneExist", "identifier=urn:bedgate:device:masimo:serial:metric|1000123456/150456"},
		{ctx, "entry.2.resource.type.coding.0.system", "urn:iso:std:iso:11073:10101"},
		{ctx, "entry.2.resource.type.coding.0.code", "150456"},
		{ctx, "entry.2.resource.unit.coding.0.code", "262688"},
		{ctx, "entry.2.resource.unit.coding.0.display", "MDC_DIM_PERCENT"},
		{ctx, "entry.2.resource.source.reference", get(ctx, "entry.1.fullUrl")},
		{ctx, "entry.2.resource.category", "measurement"},
		{ctx, "entry.3.resource.resourceType", "DeviceMetric"},
		{ctx, "entry.3.resource.type.coding.0.code", "149530"},
		{ctx, "entry.3.resource.unit.coding.0.display", "MDC_DIM_BEAT_PER_MIN"},
		{ctx, "entry.4", nil},

		{doc, "identifier.system", "urn:bedgate:gateway:gw-ward7:seq"},
		{doc, "identifier.value", "4711"},
		{doc, "timestamp", "2026-06-11T08:15:01.250Z"},
		{doc, "entry.0.resource.resourceType", "Observation"},
		{doc, "entry.0.fullUrl", "urn:uuid:" + r.Observations[0].ID},
		{doc, "entry.0.resource.device.reference", conditional("entry.2")},
		{doc, "entry.0.resource.device.reference", "DeviceMetric?identifier=urn:bedgate:device:masimo:serial:metric|1000123456/150456"},
		{doc, "entry.1.resource.resourceType", "Observation"},
		{doc, "entry.1.resource.device.reference", conditional("entry.3")},
		{doc, "entry.2", nil},
	}
	for _, tt := range tests {
		if got := get(tt.doc, tt.path); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s = %#v, want %#v", get(tt.doc, "identifier.value"), tt.path, got, tt.want)
		}
	}
}

func TestObservationShape(t *testing.T) {
	withDemo := recordtest.PulseOximetry()
	withDemo.Observations[0].Status = drivers.Demo
	nan := recordtest.PulseOximetry()
	nan.Observations[0].Value = recordtest.Float(math.NaN())
	badUnit := recordtest.PulseOximetry()
	badUnit.Observations[1].Unit = "{beats}/min"
	oddAbsent := recordtest.SensorOff()
	oddAbsent.Observations[0].Absent = "probe-off"

	tests := []struct {
		name   string
		opts   Options
		record record.Record
		want   map[string]any // path under obs -> value (nil: absent)
	}{
		{"SpO2 with a patient claims oxygensat and UK Core", Options{}, recordtest.PulseOximetry(), map[string]any{
			"status":                    "final",
			"category.0.coding.0.code":  "vital-signs",
			"code.coding.0.system":      "http://loinc.org",
			"code.coding.0.code":        "2708-6",
			"code.coding.1.code":        "59408-5",
			"code.coding.2.system":      "http://snomed.info/sct",
			"code.coding.2.code":        "431314004",
			"code.coding.3.system":      "urn:iso:std:iso:11073:10101",
			"code.coding.3.code":        "150456",
			"code.coding.3.display":     nil,
			"meta.profile.0":            "http://hl7.org/fhir/StructureDefinition/oxygensat",
			"meta.profile.1":            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation-VitalSigns-OxygenSaturation",
			"subject.type":              "Patient",
			"subject.identifier.system": "https://fhir.nhs.uk/Id/nhs-number",
			"subject.identifier.value":  recordtest.NHSNumber,
			"subject.reference":         nil,
			"effectiveDateTime":         "2026-06-11T09:15:00.000+01:00",
			"issued":                    "2026-06-11T08:15:01.250Z",
			"valueQuantity.value":       97.0,
			"valueQuantity.unit":        "percent",
			"valueQuantity.system":      "http://unitsofmeasure.org",
			"valueQuantity.code":        "%",
			"dataAbsentReason":          nil,
			"interpretation":            nil,
			"identifier.0.system":       "urn:ietf:rfc:3986",
			"identifier.0.value":        "urn:uuid:" + recordtest.PulseOximetry().Observations[0].ID,
		}},
		{"UK Core claim can be turned off", Options{DisableUKCore: true}, recordtest.PulseOximetry(), map[string]any{
			"meta.profile.0": "http://hl7.org/fhir/StructureDefinition/oxygensat",
			"meta.profile.1": nil,
		}},
		{"no patient, no device time: Location subject, no profile claimed, receive time as effective, no issued", Options{}, recordtest.MonitorNoPatient(), map[string]any{
			"meta":                       nil,
			"issued":                     nil,
			"subject.reference":          "Location?identifier=urn:bedgate:location|St%20Elsewhere/Ward%207/Bed%203",
			"code.coding.0.code":         "8867-4",
			"code.coding.1.code":         "364075005",
			"code.coding.2.code":         "147842",
			"effectiveDateTime":          "2026-06-11T08:15:01.250Z",
			"valueQuantity.code":         "/min",
			"valueQuantity.unit":         "per minute",
			"category.0.coding.0.system": "http://terminology.hl7.org/CodeSystem/observation-category",
		}},
		{"absent value: dataAbsentReason, no quantity", Options{}, recordtest.SensorOff(), map[string]any{
			"valueQuantity":                    nil,
			"dataAbsentReason.coding.0.system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
			"dataAbsentReason.coding.0.code":   "error",
			"status":                           "final",
		}},
		{"unknown absent reason becomes unknown, text kept", Options{}, oddAbsent, map[string]any{
			"dataAbsentReason.coding.0.code": "unknown",
			"dataAbsentReason.text":          "probe-off",
		}},
		{"questionable: PoCD measurement-status interpretation and a note", Options{}, recordtest.Questionable(), map[string]any{
			"status":                           "final",
			"interpretation.0.coding.0.system": "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status",
			"interpretation.0.coding.0.code":   "questionable",
			"interpretation.1.coding.0.code":   "in-alarm",
			"note.0.text":                      "questionable: device reports low perfusion",
			"valueQuantity.value":              91.0,
		}},
		{"demo data is labelled as test data", Options{}, withDemo, map[string]any{
			"meta.security.0.system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
			"meta.security.0.code":   "HTEST",
		}},
		{"NaN is not a number", Options{}, nan, map[string]any{
			"valueQuantity":                  nil,
			"dataAbsentReason.coding.0.code": "not-a-number",
		}},
		{"local hospital number with the default system", Options{}, localPatient(), map[string]any{
			"subject.identifier.system": "urn:bedgate:site:St%20Elsewhere:patient-id",
			"subject.identifier.value":  "RX1234567",
		}},
		{"local hospital number with a configured system", Options{LocalIDSystem: "https://fhir.example-trust.nhs.uk/Id/mrn"}, localPatient(), map[string]any{
			"subject.identifier.system": "https://fhir.example-trust.nhs.uk/Id/mrn",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := encode(t, tt.opts, tt.record, 1)
			checkStructure(t, doc)
			obs := observations(doc)[0]
			for path, want := range tt.want {
				if got := get(obs, path); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}

	t.Run("unit not allowed for the vital: published as a device observation", func(t *testing.T) {
		doc, _ := encode(t, Options{}, badUnit, 1)
		pr := observations(doc)[1]
		for path, want := range map[string]any{
			"category":             nil,
			"meta":                 nil,
			"code.coding.0.system": "urn:iso:std:iso:11073:10101",
			"code.coding.0.code":   "149530",
			"code.coding.1":        nil,
			"valueQuantity.code":   "{beats}/min",
			"valueQuantity.unit":   "{beats}/min",
		} {
			if got := get(pr, path); !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", path, got, want)
			}
		}
		if note, _ := get(pr, "note.0.text").(string); !strings.Contains(note, `"{beats}/min"`) {
			t.Errorf("note %q does not explain the unit", note)
		}
	})
}

func TestDeviceObservations(t *testing.T) {
	doc, _ := encode(t, Options{}, deviceObservations(), 1)
	checkStructure(t, doc)
	tests := []struct {
		name  string
		entry int
		want  map[string]any
	}{
		{"SpO2 stays a vital sign without a patient", 0, map[string]any{
			"category.0.coding.0.code": "vital-signs", "code.coding.0.code": "2708-6", "meta": nil,
		}},
		{"perfusion index: MDC coding only, no vital-signs category", 1, map[string]any{
			"category": nil, "code.coding.0.code": "150448", "code.coding.0.display": nil,
			"code.coding.1": nil, "code.text": "Perfusion index", "valueQuantity.value": 2.35, "valueQuantity.code": "%",
		}},
		{"unknown MDC code: never dropped, unit as given", 2, map[string]any{
			"category": nil, "code.coding.0.code": "160128", "code.coding.0.display": "MDC_CONC_HB_CO_GEN",
			"code.text": "MDC_CONC_HB_CO_GEN", "valueQuantity.code": "%", "valueQuantity.value": 1.5,
		}},
		{"no MDC code: the driver's parameter label", 3, map[string]any{
			"category": nil, "code.coding.0.system": "urn:bedgate:driver:masimo:parameter",
			"code.coding.0.code": "PVI", "code.text": "PVI", "valueQuantity.value": 14.0,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := observations(doc)[tt.entry]
			for path, want := range tt.want {
				if got := get(res, path); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}

func TestDeviceIdentifierWithoutSerial(t *testing.T) {
	doc, _ := encode(t, Options{}, contextOf(t, recordtest.MonitorNoPatient()), 1)
	dev := get(doc, "entry.1.resource")
	if got := get(dev, "identifier.0.system"); got != "urn:bedgate:gateway:gw-ward7:device" {
		t.Errorf("system = %v", got)
	}
	if got := get(dev, "identifier.0.value"); got != "bed:St Elsewhere/Ward 7/bed3-monitor" {
		t.Errorf("value = %v", got)
	}
	if get(dev, "serialNumber") != nil || get(dev, "deviceName") != nil {
		t.Errorf("serial or name invented: %v", dev)
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	e, _ := New(Options{})
	for name, r := range map[string]record.Record{
		"pulse oximetry": recordtest.PulseOximetry(), "monitor": recordtest.MonitorWithPatient(), "device": deviceObservations(),
	} {
		a, err1 := e.Encode(r, 7)
		b, err2 := e.Encode(r, 7)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: two encodings differ (%v, %v)", name, err1, err2)
		}
		if bytes.ContainsAny(a, "\n\t") {
			t.Errorf("%s: output is not compact", name)
		}
		// Another sequence number changes only Bundle.identifier.value.
		c, _ := e.Encode(r, 8)
		if want := bytes.Replace(a, []byte(`"value":"7"`), []byte(`"value":"8"`), 1); !bytes.Equal(c, want) {
			t.Errorf("%s: seq 8 changes more than the Bundle identifier", name)
		}
	}
	// A re-delivered observation in another record keeps its fullUrl.
	r1, r2 := recordtest.PulseOximetry(), recordtest.PulseOximetry()
	r2.Observations = r2.Observations[1:]
	d1, _ := encode(t, Options{}, r1, 1)
	d2, _ := encode(t, Options{}, r2, 2)
	if get(entriesOf(d1, "Observation")[1], "fullUrl") != get(entriesOf(d2, "Observation")[0], "fullUrl") {
		t.Error("fullUrl of the same observation differs between records")
	}
}

func TestEncodeRejectsBrokenRecords(t *testing.T) {
	dup := recordtest.PulseOximetry()
	dup.Observations[1].ID = dup.Observations[0].ID
	tests := []struct {
		name   string
		change func(*record.Record)
		want   string
	}{
		{"no gateway", func(r *record.Record) { r.Gateway = "" }, "no gateway id"},
		{"no bed", func(r *record.Record) { r.Bed = "" }, "no bed"},
		{"no device key", func(r *record.Record) { r.DeviceKey = "" }, "no device key"},
		{"no receive time", func(r *record.Record) { r.ReceivedAt = time.Time{} }, "no receive time"},
		{"observation id not a UUID", func(r *record.Record) { r.Observations[0].ID = "obs-1" }, `id "obs-1" is not a UUID`},
		{"duplicate observation id", func(r *record.Record) { *r = dup }, "appears twice"},
	}
	e, _ := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recordtest.PulseOximetry()
			tt.change(&r)
			_, err := e.Encode(r, 1)
			if err == nil || !strings.HasPrefix(err.Error(), "fhir: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	for _, tt := range []struct {
		system string
		ok     bool
	}{
		{"", true},
		{"https://fhir.example-trust.nhs.uk/Id/mrn", true},
		{"urn:oid:2.16.840.1.113883.2.1.4.1", true},
		{"mrn", false},
		{"https://example.org/a b", false},
		{"https://example.org/a|b", false},
	} {
		_, err := New(Options{LocalIDSystem: tt.system})
		if (err == nil) != tt.ok {
			t.Errorf("LocalIDSystem %q: err = %v, want ok %v", tt.system, err, tt.ok)
		}
	}
	e, _ := New(Options{})
	if e.ContentType() != "application/fhir+json" {
		t.Errorf("ContentType = %q", e.ContentType())
	}
}

// TestIncarnationInBundleIdentifier: the outbox incarnation is part of the
// identifier's system; the value stays the bare sequence number.
func TestIncarnationInBundleIdentifier(t *testing.T) {
	doc, _ := encode(t, Options{Incarnation: "3f9a0c12b7e4"}, recordtest.PulseOximetry(), 4711)
	if got := get(doc, "identifier.system"); got != "urn:bedgate:gateway:gw-ward7:seq:3f9a0c12b7e4" {
		t.Errorf("identifier.system = %v", got)
	}
	if got := get(doc, "identifier.value"); got != "4711" {
		t.Errorf("identifier.value = %v", got)
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct{ in, incarnation, seq, query string }{
		{"gw-1", "", "urn:bedgate:gateway:gw-1:seq", "identifier=urn:bedgate:gateway:gw-1:seq|1"},
		{"gw-1", "3f9a0c12b7e4", "urn:bedgate:gateway:gw-1:seq:3f9a0c12b7e4", "identifier=urn:bedgate:gateway:gw-1:seq:3f9a0c12b7e4|1"},
		{"ward 7:a/b", "", "urn:bedgate:gateway:ward%207%3Aa%2Fb:seq", "identifier=urn:bedgate:gateway:ward%25207%253Aa%252Fb:seq|1"},
		{"a|b&c", "", "urn:bedgate:gateway:a%7Cb%26c:seq", "identifier=urn:bedgate:gateway:a%257Cb%2526c:seq|1"},
	}
	for _, tt := range tests {
		if got := SequenceSystem(tt.in, tt.incarnation); got != tt.seq {
			t.Errorf("SequenceSystem(%q, %q) = %q, want %q", tt.in, tt.incarnation, got, tt.seq)
		}
		if got := ifNoneExist(identifier{SequenceSystem(tt.in, tt.incarnation), "1"}); got != tt.query {
			t.Errorf("ifNoneExist = %q, want %q", got, tt.query)
		}
	}
}

// TestReferencesResolveToContext: every conditional reference of a
// record's Observations (subject without a patient, device) names a
// resource its context Bundle creates, and the context Bundle creates
// nothing an Observation does not need besides the Location and Device.
func TestReferencesResolveToContext(t *testing.T) {
	for name, r := range map[string]record.Record{
		"pulse oximetry": recordtest.PulseOximetry(), "no patient": recordtest.MonitorNoPatient(),
		"sensor off": recordtest.SensorOff(), "device observations": deviceObservations(),
		"bp panel": bpComplete(), "systolic only": bpSystolicOnly(), "arterial": arterial(),
		"unassociated": unassociated(), "converted": converted(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, _ := encode(t, Options{}, contextOf(t, r), 1)
			doc, _ := encode(t, Options{}, r, 2)
			creates := map[string]bool{}
			for _, e := range get(ctx, "entry").([]any) {
				creates[get(e, "request.url").(string)+"?"+get(e, "request.ifNoneExist").(string)] = true
			}
			used := map[string]bool{}
			for i, o := range observations(doc) {
				for _, path := range []string{"subject.reference", "device.reference"} {
					ref, _ := get(o, path).(string)
					if ref == "" {
						continue
					}
					if !creates[ref] {
						t.Errorf("Observation %d %s %q: no entry of the context Bundle creates it", i, path, ref)
					}
					used[ref] = true
				}
			}
			if get(observations(doc)[0], "device.reference") == nil {
				t.Error("Observation 0 has no device reference")
			}
			for ref := range creates {
				if !used[ref] && !strings.HasPrefix(ref, "Location?") && !strings.HasPrefix(ref, "Device?") {
					t.Errorf("context creates %q, which no Observation refers to", ref)
				}
			}
		})
	}
}
