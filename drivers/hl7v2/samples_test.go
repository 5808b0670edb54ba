package hl7v2

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleDir holds the HL7 samples of the shared conformance kit. They are
// read at test time and never copied into this repository.
var sampleDir = filepath.Join("..", "..", "..", "shared", "conformance", "samples", "hl7")

// samples returns the shared HL7 sample messages (MLLP framing and blank
// lines split messages), by file, or nil when the kit is absent.
func samples(tb testing.TB) map[string][][]byte {
	files, _ := filepath.Glob(filepath.Join(sampleDir, "*"))
	if len(files) == 0 {
		return nil
	}
	out := map[string][][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = splitMessages(data)
	}
	return out
}

// splitMessages splits a file of messages at MLLP frame bytes, blank lines
// and each new MSH at the start of a line.
func splitMessages(data []byte) [][]byte {
	data = []byte(strings.NewReplacer("\x0b", "\n\n", "\x1c\r", "\n\n", "\x1c", "\n\n").Replace(string(data)))
	var msgs [][]byte
	for _, part := range bytes.Split(bytes.ReplaceAll(data, []byte("\r"), []byte("\n")), []byte("\n\n")) {
		if len(bytes.TrimSpace(part)) > 0 {
			msgs = append(msgs, part)
		}
	}
	return msgs
}

func TestSharedSamples(t *testing.T) {
	s := samples(t)
	if s == nil {
		t.Skipf("shared HL7 samples not found in %s", sampleDir)
	}
	values := 0
	for name, msgs := range s {
		for i, m := range msgs {
			oru, err := ParseORU(m, Options{})
			switch {
			case strings.HasPrefix(name, "good-") && err != nil:
				t.Errorf("%s message %d: %v", name, i+1, err)
			case name == "bad-not-hl7.hl7" && err == nil:
				t.Errorf("%s: accepted", name)
			case err == nil:
				for _, r := range oru.Readings {
					values += len(r.Values)
					for _, v := range r.Values {
						if v.Value == nil && v.Status == 0 {
							t.Errorf("%s message %d: absent value without a status", name, i+1)
						}
					}
				}
			}
		}
	}
	if values == 0 {
		t.Fatal("no value read from any sample")
	}
	t.Logf("%d sample files, %d values", len(s), values)
}
