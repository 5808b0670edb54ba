package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// issue12Target is the size issue 12 asks of a Masimo reading's Bundle on
// the wire. The Bundles below do not meet it: see TestMasimoReadingSize.
const issue12Target = 2048

// TestMasimoReadingSize measures the Bundle of one Masimo reading (SpO2,
// pulse rate, perfusion index) on the wire and stored (the S2-compressed
// outbox envelope), with and without a patient, holds each to its budget,
// and logs where the bytes go: per Bundle element and per Observation
// element summed over the entries, which must account for every byte.
//
// The budgets are the sizes this encoder gives, so that no change adds
// bytes unnoticed. They are above issue 12's 2048 bytes: three
// Observations that each keep what an EPR needs to file them (identifier
// and conditional create, fullUrl, vital-signs category, LOINC, SNOMED CT
// and MDC codes, subject, effective time, UCUM quantity, device reference)
// do not fit in it even without the optional elements withoutOptional
// removes, which the test checks (see the package documentation).
func TestMasimoReadingSize(t *testing.T) {
	noPatient := recordtest.MasimoReading()
	noPatient.Patient = nil
	tests := []struct {
		name   string
		record record.Record
		budget int // bytes on the wire
	}{
		{"no patient: Location subject", noPatient, 3258},
		{"NHS number: Patient subject, core and UK Core profiles", recordtest.MasimoReading(), 3616},
	}
	e, err := New(Options{Incarnation: "0123456789ab"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := e.Encode(tt.record, 123456)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(body), `"resourceType":"Observation"`); n != 3 {
				t.Fatalf("%d Observations, want SpO2, pulse rate and perfusion index:\n%s", n, body)
			}
			parts := byteShares(t, body)
			t.Logf("%d B on the wire (issue 12 asks %d), %d B stored; by element: %s",
				len(body), issue12Target, len(publish.Envelope(tt.record.Topic, body)), parts)
			// The package documentation says leaving these out would not
			// reach issue 12's target either.
			floor := len(withoutOptional(t, body))
			t.Logf("without the vital signs' code.text, issued, unit names, LOINC 59408-5 and identifier.system: %d B", floor)
			if floor <= issue12Target {
				t.Errorf("without the optional elements the Bundle is %d bytes, within issue 12's %d: the package documentation says it is not", floor, issue12Target)
			}
			if len(body) > tt.budget {
				t.Errorf("Bundle is %d bytes, over its budget of %d:\n%s", len(body), tt.budget, body)
			}
		})
	}
}

// byteShares splits a compact Bundle into the bytes of each element
// ("key":value plus its comma; Bundle elements by name, entry elements as
// entry.<name>, Observation elements as obs.<name>, summed over the
// entries) and the JSON punctuation around them, largest first, and fails
// unless the shares add up to len(body).
func byteShares(t *testing.T, body []byte) string {
	t.Helper()
	shares := map[string]int{}
	add := func(prefix string, obj []byte) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(obj, &m); err != nil {
			t.Fatal(err)
		}
		shares["{},"] += 2 // braces
		for k, v := range m {
			shares[prefix+k] += len(`"`+k+`":`) + len(v) + 1 // with its comma
		}
		shares["{},"]-- // no comma after the last element
		return m
	}
	bundle := add("", body)
	var entries []json.RawMessage
	if err := json.Unmarshal(bundle["entry"], &entries); err != nil {
		t.Fatal(err)
	}
	shares["entry"] -= len(bundle["entry"]) // counted as entry.*
	shares["{},"] += 2 + len(entries) - 1   // the entry array's brackets and commas
	for _, en := range entries {
		m := add("entry.", en)
		shares["entry.resource"] -= len(m["resource"]) // counted as obs.*
		add("obs.", m["resource"])
	}
	total := 0
	for _, n := range shares {
		total += n
	}
	if total != len(body) {
		t.Fatalf("the shares add up to %d bytes, the Bundle is %d", total, len(body))
	}
	keys := slices.SortedFunc(maps.Keys(shares), func(a, b string) int {
		if shares[a] != shares[b] {
			return shares[b] - shares[a]
		}
		return strings.Compare(a, b)
	})
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d, ", k, shares[k])
	}
	return strings.TrimSuffix(b.String(), ", ")
}

// withoutOptional returns the Bundle with the optional elements of its
// Observations that an EPR does not file by removed: a vital sign's
// code.text, issued, the quantity's unit name (the UCUM code instead), the
// second SpO2 LOINC code and the identifier's system. It measures how far
// leaving them out would go.
func withoutOptional(t *testing.T, body []byte) []byte {
	t.Helper()
	var full map[string]any
	if err := json.Unmarshal(body, &full); err != nil {
		t.Fatal(err)
	}
	for _, en := range full["entry"].([]any) {
		obs := en.(map[string]any)["resource"].(map[string]any)
		delete(obs, "issued")
		code := obs["code"].(map[string]any)
		if _, vital := obs["category"]; vital {
			delete(code, "text")
		}
		code["coding"] = slices.DeleteFunc(code["coding"].([]any), func(c any) bool {
			return c.(map[string]any)["code"] == "59408-5"
		})
		if q, ok := obs["valueQuantity"].(map[string]any); ok {
			q["unit"] = q["code"]
		}
		for _, id := range obs["identifier"].([]any) {
			delete(id.(map[string]any), "system")
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(full); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
