package masimo

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

// referencePath is the project's research notes, outside the repository.
const referencePath = "../../../shared/reference/device-protocols.md"

// TestReferenceSamples parses the real device lines quoted in the research
// notes, read at run time (they are not copied into the repository).
func TestReferenceSamples(t *testing.T) {
	doc, err := os.ReadFile(referencePath)
	if err != nil {
		t.Skipf("reference notes not available (%v); the in-code samples cover the same forms", err)
	}
	quoted := regexp.MustCompile("`(\\d\\d/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d [^`]*)`")
	matches := quoted.FindAllStringSubmatch(string(doc), -1)
	if len(matches) < 3 {
		t.Fatalf("found %d sample lines in %s, want at least 3", len(matches), referencePath)
	}
	for _, m := range matches {
		// The notes wrap long lines; a wrap is one space on the wire.
		line := strings.Join(strings.Fields(m[1]), " ")
		r, err := ParseLine([]byte(line), nil)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", line, err)
			continue
		}
		exc := regexp.MustCompile(`EXC=\S+`).FindString(line)
		if !strings.Contains(r.DeviceStatus, exc) {
			t.Errorf("%q: DeviceStatus %q lacks %q", line, r.DeviceStatus, exc)
		}
		for _, v := range r.Values {
			if strings.Contains(line, "EXC=000001") && v.Status&drivers.SensorOff == 0 {
				t.Errorf("%q: %s is %v, want sensor-off (no sensor)", line, v.Label, v.Status)
			}
		}
	}
}
