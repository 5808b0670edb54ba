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

// validateFHIR runs validate-fhir once over files, each holding the
// Bundles of its records one per line, and returns its output (file names
// without the temporary directory), the number of problems it reports and
// the number of resources written (each Bundle and its entries). It skips
// the test when the validators are not available.
func validateFHIR(t *testing.T, files map[string][]record.Record) (string, int, int) {
	t.Helper()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	resources := 0
	for name, records := range files {
		var buf bytes.Buffer
		for i, r := range records {
			b, err := e.Encode(r, uint64(i+1))
			if err != nil {
				t.Fatalf("%s record %d: %v", name, i+1, err)
			}
			var doc struct{ Entry []json.RawMessage }
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s record %d: %v", name, i+1, err)
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

// TestConformance runs the independent validators (three base R4
// validators, the core vital-signs profiles, the project's rules) over two
// files of encoded Bundles.
//
// valid.jsonl holds every kind of record the encoder claims is valid: vital
// signs with and without a patient, absent, questionable and demo values, a
// local patient number, blood-pressure panels (NIBP and invasive arterial;
// complete, without a mean, partly and wholly absent, questionable and
// converted parts; a lone systolic value that forms no panel), a record
// with no patient associated, converted values, and the DeviceMetric of
// every Observation. It must get 0 problems, including the core profiles and
// the UK Core rules the Observations claim (bp and UK Core BloodPressure by
// the validator's own rules: medplum cannot run the bp profile).
//
// device.jsonl documents what the validator says about values that are not
// vital signs. Its rules hold every Observation to the vital-sign rules
// (README, Blind spots), and the encoder deliberately keeps device
// observations out of the vital-signs category, so each gets "missing the
// vital-signs category"; the value known only by the device's label (MDC
// code 0) also has neither a LOINC nor an MDC coding. Nothing else may be
// reported: the SpO2 next to them, the Bundle and the quantities are valid.
func TestConformance(t *testing.T) {
	valid := []record.Record{
		recordtest.PulseOximetry(), recordtest.MonitorNoPatient(), recordtest.MonitorWithPatient(),
		recordtest.SensorOff(), recordtest.Questionable(), localPatient(), demo(),
		bpComplete(), bpNoMean(), bpSystolicOnly(), bpAbsent(), bpPartlyAbsent(), bpQuestionable(),
		arterial(), arterialWithPatient(), unassociated(), converted(),
	}
	device := []record.Record{deviceObservations()}
	out, problems, resources := validateFHIR(t, map[string][]record.Record{"valid.jsonl": valid, "device.jsonl": device})

	// deviceObservations: Location, Device, four DeviceMetrics, then the
	// SpO2 and the three device observations at entries 7 to 9.
	want := []string{
		"device.jsonl:1: Bundle/entry[7].resource.category: [vital-signs] missing the vital-signs category",
		"device.jsonl:1: Bundle/entry[8].resource.category: [vital-signs] missing the vital-signs category",
		"device.jsonl:1: Bundle/entry[9].resource.category: [vital-signs] missing the vital-signs category",
		"device.jsonl:1: Bundle/entry[9].resource.code.coding: [vital-signs] needs a LOINC vital-sign coding",
	}
	wantSummary := strconv.Itoa(resources) + " resources, " + strconv.Itoa(len(want)) + " problems"

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
