package hl7

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/record"
)

// conformanceDir is the project's shared conformance folder, next to the
// repository: <repo>/../shared/conformance.
var conformanceDir = filepath.Join("..", "..", "..", "shared", "conformance")

// validateHL7 writes messages into one file, each followed by a blank
// line, runs validate-hl7 on it and returns its exit status and
// output with the temporary directory removed from file names. It skips the
// test when the validator is not available, and runs setup first when the
// validator says setup has not been run.
func validateHL7(t *testing.T, messages [][]byte) (int, string) {
	t.Helper()
	tool := filepath.Join(conformanceDir, "validate-hl7")
	if _, err := os.Stat(tool); err != nil {
		t.Skipf("conformance validators not found at %s (the shared folder next to the repository): %v", conformanceDir, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH: the conformance validators need Node.js >= 20.19")
	}
	var buf bytes.Buffer
	for _, m := range messages {
		buf.Write(m)
		buf.WriteByte('\r')
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "messages.hl7")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, tool, path)
	if code == 2 && strings.Contains(out, "setup") {
		t.Logf("validator asks for setup; running %s/setup", conformanceDir)
		if c, o := run(t, filepath.Join(conformanceDir, "setup")); c != 0 {
			t.Skipf("conformance setup failed (it needs the npm registry), exit %d:\n%s", c, o)
		}
		code, out = run(t, tool, path)
	}
	if code == 2 {
		t.Fatalf("validate-hl7 could not run (exit 2):\n%s", out)
	}
	return code, strings.ReplaceAll(out, dir+string(filepath.Separator), "")
}

func run(t *testing.T, name string, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("run %s: %v", name, err)
	return 0, ""
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
		pulseOximetry(), monitorNoPatient(), monitorWithPatient(), sensorOff(),
		questionable(), localPatient(), deviceObservations(), demo(), specials(),
	}
	e, err := New(Options{
		ReceivingApplication: "EPR",
		ReceivingFacility:    "RXX01^2.16.840.1.113883.2.1.3.2.4.18.48^ISO",
		Location:             bst,
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
	bad := pulseOximetry()
	bad.Gateway = "gw-control"
	bad.Patient.NHSNumber = "9449305553"
	b, err := e.Encode(bad, 1)
	if err != nil {
		t.Fatal(err)
	}
	messages = append(messages, b)

	code, out := validateHL7(t, messages)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wantProblem := "messages.hl7:" + strconv.Itoa(len(messages)) + ": gw-control-1/PID-3: [nhs-number]"
	wantSummary := strconv.Itoa(len(messages)) + " messages, 1 problem"
	if code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], wantProblem) || lines[1] != wantSummary {
		t.Fatalf("validate-hl7 exit %d; want exit 1, one problem %q... and %q, got:\n%s", code, wantProblem, wantSummary, out)
	}
}
