package hl7

import (
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// TestCorrectionMessages encodes the two messages of a correction for
// records with a patient, with every kind of absent value (specials) and
// with no patient: the original re-sent with OBX-11 W on every metric row
// and otherwise as filed (PID-3, OBX-3 to OBX-8 and OBX-21; a row without
// a value and without NI or NAV gains NI), then the
// refiling for another patient under new OBX-21 identifiers. validate-hl7
// must find 0 problems in them.
func TestCorrectionMessages(t *testing.T) {
	p2 := &record.Patient{NHSNumber: "9434765870"}
	noValues := specials()
	noValues.Patient = recordtest.MonitorWithPatient().Patient
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var messages [][]byte
	seq := uint64(0)
	for _, wrong := range []record.Record{recordtest.MonitorWithPatient(), recordtest.SensorOff(), noValues, recordtest.MonitorNoPatient()} {
		seq++
		original, err := e.Encode(wrong, seq)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		w, err := e.EncodeWrong(wrong, seq)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		right, err := e.Encode(filed.Refiled(wrong, p2, ""), seq)
		if err != nil {
			t.Fatal(err)
		}
		messages = append(messages, w, right)
		orig, got, refiled := obxRows(original), obxRows(w), obxRows(right)
		if len(got) != len(orig) || len(got) < 2 {
			t.Fatalf("W message has %d OBX rows, the original %d", len(got), len(orig))
		}
		if pid(w) != pid(original) || pid(right) == pid(original) {
			t.Errorf("PID: original %q, W %q, refiled %q", pid(original), pid(w), pid(right))
		}
		for i := 1; i < len(got); i++ {
			o, g := orig[i], got[i]
			if g[11] != "W" {
				t.Errorf("row %d: OBX-11 %q, want W", i, g[11])
			}
			if o[11] == "X" {
				g[8] = strings.TrimSuffix(g[8], "~NI") // PCD-01's rule for a row without a value
			}
			for _, f := range []int{3, 4, 5, 6, 8, 14, 21} {
				if o[f] != g[f] {
					t.Errorf("row %d: OBX-%d %q, filed as %q", i, f, g[f], o[f])
				}
			}
			if refiled[i][21] == o[21] || refiled[i][11] == "W" {
				t.Errorf("row %d refiled with OBX-11 %q, OBX-21 %q (filed %q)", i, refiled[i][11], refiled[i][21], o[21])
			}
		}
	}
	out, problems := validateHL7(t, messages)
	if problems != 0 {
		t.Fatalf("validate-hl7 found %d problems in the correction messages:\n%s", problems, out)
	}
}

// obxRows returns the fields of each OBX segment, indexed by field number.
func obxRows(msg []byte) [][]string {
	var rows [][]string
	for _, seg := range strings.Split(string(msg), "\r") {
		if strings.HasPrefix(seg, "OBX|") {
			rows = append(rows, append(strings.Split(seg, "|"), make([]string, 22)...))
		}
	}
	return rows
}

func pid(msg []byte) string {
	for _, seg := range strings.Split(string(msg), "\r") {
		if strings.HasPrefix(seg, "PID|") {
			return seg
		}
	}
	return ""
}
