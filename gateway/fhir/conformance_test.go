package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/conformancetest"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// encodeAll encodes records as the outbox would, with sequence numbers
// from 1, and returns one Bundle per record.
func encodeAll(t *testing.T, records ...record.Record) [][]byte {
	t.Helper()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	bundles := make([][]byte, len(records))
	for i, r := range records {
		if bundles[i], err = e.Encode(r, uint64(i+1)); err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
	}
	return bundles
}

// validateFHIR runs validate-fhir once over files, each holding its Bundles
// one per line, and returns its output (file names without the temporary
// directory), the number of problems it reports and the number of
// resources written (each Bundle and its entries). It skips the test when
// the validators are not available.
func validateFHIR(t *testing.T, files map[string][][]byte) (string, int, int) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	resources := 0
	for name, bundles := range files {
		var buf bytes.Buffer
		for i, b := range bundles {
			var doc struct{ Entry []json.RawMessage }
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s Bundle %d: %v", name, i+1, err)
			}
			resources += 1 + len(doc.Entry)
			buf.Write(b)
			buf.WriteByte('\n')
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	slices.Sort(paths)
	out, problems := conformancetest.Validate(t, conformancetest.FHIR, paths...)
	return out, problems, resources
}

// expectProblems fails the test unless validate-fhir's output reports
// exactly the problems want (each a prefix of one reported line, in the
// order of the sorted output) and a summary counting resources and them.
func expectProblems(t *testing.T, out string, problems, resources int, want ...string) {
	t.Helper()
	noun := " problems"
	if len(want) == 1 {
		noun = " problem"
	}
	wantSummary := strconv.Itoa(resources) + " resources, " + strconv.Itoa(len(want)) + noun
	var got []string
	summary := ""
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, ".jsonl:") {
			got = append(got, line)
		} else {
			summary = line
		}
	}
	slices.Sort(got)
	ok := problems == len(want) && summary == wantSummary && len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Fatalf("validate-fhir found %d problems, summary %q; want %q and exactly these problems:\n  %s\ngot:\n%s",
			problems, summary, wantSummary, strings.Join(want, "\n  "), out)
	}
}

// contextOf is the context record the gateway stores before r: r's bed
// and device with the metrics r's Bundle refers to.
func contextOf(t *testing.T, r record.Record) record.Record {
	t.Helper()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return record.Record{
		Kind: record.KindContext, Gateway: r.Gateway, Site: r.Site, Ward: r.Ward, Bed: r.Bed, Topic: r.Topic,
		Device: r.Device, DeviceKey: r.DeviceKey, ReceivedAt: r.ReceivedAt, Metrics: e.Metrics(r),
	}
}

// withContexts returns each record preceded by its context record, as the
// gateway stores them after a start.
func withContexts(t *testing.T, records ...record.Record) []record.Record {
	t.Helper()
	var out []record.Record
	for _, r := range records {
		out = append(out, contextOf(t, r), r)
	}
	return out
}

// damage decodes bundle, applies edit to the resource of each entry index
// it names (0-based, as the validator counts) and encodes it again.
func damage(t *testing.T, bundle []byte, edits map[int]func(resource map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(bundle, &doc); err != nil {
		t.Fatal(err)
	}
	entries := doc["entry"].([]any)
	for i, edit := range edits {
		edit(entries[i].(map[string]any)["resource"].(map[string]any))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConformance runs the independent validators (three base R4
// validators, the core vital-signs profiles, the project's rules) over
// three files of encoded Bundles.
//
// valid.jsonl holds every kind of record the encoder claims is valid: vital
// signs with and without a patient, absent, questionable and demo values, a
// local patient number, blood-pressure panels (NIBP and invasive arterial;
// complete, without a mean, partly and wholly absent, questionable and
// converted parts; a lone systolic value that forms no panel), a record
// with no patient associated, converted values, values that are not vital
// signs (perfusion index, SpCO, a value known only by the device's label),
// and the DeviceMetric of every Observation. It must get 0 problems,
// including the core profiles and the UK Core rules the Observations claim
// (bp and UK Core BloodPressure by the validator's own rules: medplum cannot
// run the bp profile). The validator holds Observations that are not vital
// signs to its base rules only (README, Blind spots), and the encoder keeps
// them out of the vital-signs category.
//
// broken.jsonl proves the base rules are applied to those device
// observations: the same device Bundle with the perfusion index's effective
// time removed and the SpCO's unit replaced by a code that is not UCUM must
// get exactly those two reports.
func TestConformance(t *testing.T) {
	valid := encodeAll(t, withContexts(t,
		recordtest.PulseOximetry(), recordtest.MonitorNoPatient(), recordtest.MonitorWithPatient(),
		recordtest.SensorOff(), recordtest.Questionable(), localPatient(), demo(),
		bpComplete(), bpNoMean(), bpSystolicOnly(), bpAbsent(), bpPartlyAbsent(), bpQuestionable(),
		arterial(), arterialWithPatient(), unassociated(), converted(), deviceObservations(),
	)...)
	// deviceObservations: the SpO2, then the perfusion index, SpCO and PVI
	// at entries 1 to 3.
	device := encodeAll(t, deviceObservations())[0]
	broken := damage(t, device, map[int]func(map[string]any){
		1: func(pi map[string]any) {
			if _, ok := pi["effectiveDateTime"]; !ok {
				t.Fatalf("entry 1 has no effectiveDateTime to remove: %v", pi)
			}
			delete(pi, "effectiveDateTime")
		},
		2: func(spco map[string]any) { spco["valueQuantity"].(map[string]any)["code"] = "percent" },
	})
	out, problems, resources := validateFHIR(t, map[string][][]byte{"valid.jsonl": valid, "broken.jsonl": {broken}})
	expectProblems(t, out, problems, resources,
		"broken.jsonl:1: Bundle/entry[1].resource.effective[x]: [observation] missing",
		"broken.jsonl:1: Bundle/entry[2].resource.valueQuantity.code: [ucum] \"percent\" is not a valid UCUM code",
	)
}
