package conformancetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSummaryProblems(t *testing.T) {
	tests := []struct {
		out    string
		want   int
		wantOK bool
	}{
		{"3 messages, 0 problems\n", 0, true},
		{"a.hl7:2: X-1/PID-3: [nhs-number] bad\n2 messages, 1 problem\n", 1, true},
		{"f.json:1: Observation/code: [ucum] x\nf.json:1: Observation/code: [vital-signs] y\n2 resources, 2 problems", 2, true},
		{"1 resource, 12 problems\n\n", 12, true},
		{"", 0, false},
		{"setup has not been run: run ./setup\n", 0, false},
		{"2 resources, 2 problems\nTypeError: boom\n", 0, false}, // a crash after the summary
	}
	for _, tt := range tests {
		got, ok := summaryProblems(tt.out)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("summaryProblems(%q) = %d, %v; want %d, %v", tt.out, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestValidate runs each validator over the shared folder's own samples
// (read at run time), copied into a temporary directory whose name must
// not appear in the output.
func TestValidate(t *testing.T) {
	samples := filepath.Join(Dir(t), "samples")
	if _, err := os.Stat(samples); err != nil {
		t.Skipf("conformance samples not found at %s (the shared folder next to the repository): %v", samples, err)
	}
	tests := []struct {
		validator    string
		files        []string // under samples
		wantProblems int
		wantPrefixes []string // output lines, in order
	}{
		{FHIR, []string{"fhir/good-bp-panel.json", "fhir/bad-unit-bpm.json"}, 2, []string{
			`bad-unit-bpm.json:1: Observation/valueQuantity.code: [ucum] "bpm"`,
			`bad-unit-bpm.json:1: Observation/valueQuantity.code: [vital-signs] "bpm"`,
		}},
		{HL7, []string{"hl7/bad-nhs-number.hl7"}, 1, []string{"bad-nhs-number.hl7:1: BG-BAD-008/PID-3: [nhs-number]"}},
	}
	for _, tt := range tests {
		t.Run(tt.validator, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for _, f := range tt.files {
				b, err := os.ReadFile(filepath.Join(samples, f))
				if err != nil {
					t.Skipf("conformance sample missing: %v", err)
				}
				p := filepath.Join(dir, filepath.Base(f))
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			out, problems := Validate(t, tt.validator, paths...)
			if problems != tt.wantProblems {
				t.Errorf("%d problems, want %d:\n%s", problems, tt.wantProblems, out)
			}
			if strings.Contains(out, dir) {
				t.Errorf("output names the temporary directory %s:\n%s", dir, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(tt.wantPrefixes)+1 {
				t.Fatalf("%d output lines, want %d problems and a summary:\n%s", len(lines), len(tt.wantPrefixes), out)
			}
			for i, p := range tt.wantPrefixes {
				if !strings.HasPrefix(lines[i], p) {
					t.Errorf("line %d = %q, want it to start %q", i+1, lines[i], p)
				}
			}
		})
	}
}
