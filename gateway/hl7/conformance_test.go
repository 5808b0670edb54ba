package hl7

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/conformancetest"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// validateHL7 writes messages into one file, each ended by a carriage
// return, runs validate-hl7 on it and returns its output (file names
// without the temporary directory) and the number of problems it reports.
// It skips the test when the validator is not available.
func validateHL7(t *testing.T, messages [][]byte) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range messages {
		buf.Write(m)
		buf.WriteByte('\r')
	}
	path := filepath.Join(t.TempDir(), "messages.hl7")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return conformancetest.Validate(t, conformancetest.HL7, path)
}

// TestConformance runs the independent PCD-01 validator (two HL7 parsers
// that must agree, and the project's PCD-01 rules) over messages for every
// kind of record: vital signs with and without a patient, a local hospital
// number and names that need escaping, absent values (sensor off, NaN,
// infinity), questionable, calibrating and demo values, device observations
// including values known only by the device's label, with default options
// in British Summer Time and with every option set. Every message must
// pass.
//
// A last message, for a patient whose NHS number fails its check digit,
// shows that the validator reads the messages as meant: it must report
// exactly that PID-3.
func TestConformance(t *testing.T) {
	records := []record.Record{
		recordtest.PulseOximetry(), recordtest.MonitorNoPatient(), recordtest.MonitorWithPatient(), recordtest.SensorOff(),
		recordtest.Questionable(), localPatient(), deviceObservations(), demo(), specials(),
	}
	e, err := New(Options{
		ReceivingApplication: "EPR",
		ReceivingFacility:    "RXX01^2.16.840.1.113883.2.1.3.2.4.18.48^ISO",
		Location:             recordtest.Zone(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second encoder with every other option, on the same records.
	e2, err := New(Options{
		SendingApplication: "BEDGATE-TEST^1.2.826.0.1.999^ISO", SendingFacility: "RXX01",
		ProcessingID: "T", LocalIDAuthority: "RXX01",
	})
	if err != nil {
		t.Fatal(err)
	}
	var messages [][]byte
	for _, enc := range []*Encoder{e, e2} {
		for i, r := range records {
			if enc == e2 {
				r.Gateway = "gw-training" // MSH-10 is unique per gateway and seq
			}
			b, err := enc.Encode(r, uint64(i+1))
			if err != nil {
				t.Fatalf("record %d: %v", i+1, err)
			}
			messages = append(messages, b)
		}
	}
	bad := recordtest.PulseOximetry()
	bad.Gateway = "gw-control"
	bad.Patient.NHSNumber = "9449305553"
	b, err := e.Encode(bad, 1)
	if err != nil {
		t.Fatal(err)
	}
	messages = append(messages, b)

	out, problems := validateHL7(t, messages)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wantProblem := "messages.hl7:" + strconv.Itoa(len(messages)) + ": gw-control-1/PID-3: [nhs-number]"
	wantSummary := strconv.Itoa(len(messages)) + " messages, 1 problem"
	if problems != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], wantProblem) || lines[1] != wantSummary {
		t.Fatalf("validate-hl7 found %d problems; want one problem %q... and %q, got:\n%s", problems, wantProblem, wantSummary, out)
	}
}
