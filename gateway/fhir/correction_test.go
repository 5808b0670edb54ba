package fhir

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// correctionBundle is what the tests read of a correction Bundle.
type correctionBundle struct {
	Type  string
	Entry []struct {
		Resource struct {
			ResourceType string
			Status       string
			Identifier   []identifier
			Subject      reference
			Meta         *meta
		}
		Request request
	}
}

// TestCorrectionBundles encodes corrections (to another patient, to nobody
// filed unassociated, to nobody quarantined, from an unassociated filing to
// a patient; a blood-pressure panel among them; a NEWS2 score computed from
// corrected readings, struck out alone) and checks each struck-out
// Observation keeps its identifier and subject as filed, with status
// entered-in-error and a conditional update on its identifier, and that the
// refiling names the right subject under new identifiers. validate-fhir
// must find 0 problems in them.
func TestCorrectionBundles(t *testing.T) {
	p2 := &record.Patient{NHSNumber: "9434765870"}
	withPatient := recordtest.MonitorWithPatient()
	bp := bpComplete()
	bp.Patient = withPatient.Patient
	unassoc := unassociated()
	cases := []struct {
		name  string
		wrong record.Record
		right *record.Record
	}{
		{"to another patient", withPatient, ptr(filed.Refiled(withPatient, p2, ""))},
		{"blood pressure to another patient", bp, ptr(filed.Refiled(bp, p2, ""))},
		{"to nobody, forwarded", withPatient, ptr(filed.Refiled(withPatient, nil, "no patient associated with the bed at the reading time"))},
		{"to nobody, quarantined", withPatient, nil},
		{"from nobody to a patient", unassoc, ptr(filed.Refiled(unassoc, p2, ""))},
		{"a NEWS2 score struck out", news2Record(t, news2Medium), nil},
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var all [][]byte
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := e.EncodeCorrection(tc.wrong, tc.right, uint64(i+1))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, body)
			wrongBundle, err := e.Encode(tc.wrong, 1)
			if err != nil {
				t.Fatal(err)
			}
			var filedB, got correctionBundle
			if err := json.Unmarshal(wrongBundle, &filedB); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			filedSubject := map[string]reference{}
			for _, en := range filedB.Entry {
				if en.Resource.ResourceType == "Observation" {
					filedSubject[en.Resource.Identifier[0].Value] = en.Resource.Subject
				}
			}
			struck, refiled := 0, 0
			for _, en := range got.Entry {
				if en.Resource.ResourceType != "Observation" {
					continue
				}
				id := en.Resource.Identifier[0].Value
				switch en.Resource.Status {
				case "entered-in-error":
					struck++
					if want, ok := filedSubject[id]; !ok || !reflect.DeepEqual(en.Resource.Subject, want) {
						t.Errorf("struck-out %s: subject %+v, filed with %+v (filed: %v)", id, en.Resource.Subject, want, ok)
					}
					if en.Request.Method != "PUT" || en.Request.URL != "Observation?"+ifNoneExist(en.Resource.Identifier[0]) {
						t.Errorf("struck-out %s: request %+v, want a conditional update on its identifier", id, en.Request)
					}
					if en.Resource.Meta != nil && len(en.Resource.Meta.Profile) > 1 {
						t.Errorf("struck-out %s still claims %v", id, en.Resource.Meta.Profile)
					}
				case "final":
					refiled++
					if _, ok := filedSubject[id]; ok {
						t.Errorf("refiled %s under an identifier already filed", id)
					}
					if en.Request.Method != "POST" || en.Request.IfNoneExist == "" {
						t.Errorf("refiled %s: request %+v, want a conditional create", id, en.Request)
					}
					wantType := "Location"
					if tc.right.Patient != nil {
						wantType = "Patient"
						if en.Resource.Subject.Identifier == nil || en.Resource.Subject.Identifier.Value != tc.right.Patient.NHSNumber {
							t.Errorf("refiled %s: subject %+v, want the right patient", id, en.Resource.Subject)
						}
					}
					if got := referenceType(en.Resource.Subject); got != wantType {
						t.Errorf("refiled %s: subject %+v refers to a %q, want a %s", id, en.Resource.Subject, got, wantType)
					}
				default:
					t.Errorf("%s: status %q", id, en.Resource.Status)
				}
			}
			if struck != len(filedSubject) {
				t.Errorf("%d Observations struck out, %d were filed", struck, len(filedSubject))
			}
			if want := len(filedSubject); (tc.right == nil && refiled != 0) || (tc.right != nil && refiled != want) {
				t.Errorf("%d Observations refiled (right %v), want %d", refiled, tc.right != nil, want)
			}
		})
	}
	out, problems, resources := validateFHIR(t, map[string][][]byte{"corrections.jsonl": all})
	expectProblems(t, out, problems, resources)
}

func ptr[T any](v T) *T { return &v }

// referenceType is the resource type a reference names: its type, or the
// type a relative or conditional reference begins with.
func referenceType(r reference) string {
	if r.Type != "" {
		return r.Type
	}
	kind, _, _ := strings.Cut(r.Reference, "?")
	kind, _, _ = strings.Cut(kind, "/")
	return kind
}
