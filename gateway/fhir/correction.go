package fhir

import (
	"slices"
	"strings"

	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// EnteredInErrorNote is the note on an Observation struck out by a
// correction. It names no patient.
const EnteredInErrorNote = "entered in error: filed for a subject who was not in the bed at this time " +
	"(the admission record changed after filing); the reading is filed again for the right subject"

// EnteredInErrorScoreNote is the note on a NEWS2 score struck out because
// readings it was computed from were corrected.
const EnteredInErrorScoreNote = "entered in error: computed from readings filed for a subject who was not in the bed " +
	"(the admission record changed after filing)"

// EncodeCorrection returns one transaction Bundle that corrects a reading
// filed for the wrong subject: every Observation of wrong (the record as it
// was filed: the same identifiers and subject) with status
// entered-in-error, each a conditional update on its identifier
// (PUT Observation?identifier=...), and, unless right is nil (nothing is to
// be filed, the reading goes to quarantine), right's Observations filed as
// Encode files them (conditional create; right carries new identifiers).
// One Bundle, so that the EPR applies both or neither: the reading is never
// on two subjects' records, or on none, in between. The struck-out
// Observations no longer claim UK Core profiles, which fix status to final.
// wrong may be a NEWS2 score (record.KindNEWS2, right nil): its score
// Observation is struck out the same way.
func (e *Encoder) EncodeCorrection(wrong record.Record, right *record.Record, seq uint64) ([]byte, error) {
	filing := e.observations
	if wrong.Kind == record.KindNEWS2 {
		filing = e.news2Bundle
	}
	struck, err := filing(wrong, seq)
	if err != nil {
		return nil, err
	}
	b := struck
	if right != nil {
		if b, err = e.observations(*right, seq); err != nil {
			return nil, err
		}
	} else {
		// The Location, Device and DeviceMetrics the struck-out ones refer to.
		b.Entry = slices.DeleteFunc(slices.Clone(b.Entry), func(en entry) bool { return en.Request.URL == "Observation" })
	}
	for _, en := range struck.Entry {
		var id identifier
		switch obs := en.Resource.(type) {
		case *observation:
			obs.Status, obs.Note = "entered-in-error", append(obs.Note, annotation{Text: EnteredInErrorNote})
			if obs.Meta != nil {
				obs.Meta.Profile = slices.DeleteFunc(obs.Meta.Profile, func(p string) bool {
					return strings.HasPrefix(p, terminology.UKCoreBase)
				})
			}
			id = obs.Identifier[0]
		case *news2Observation:
			obs.Status, obs.Note = "entered-in-error", append(obs.Note, annotation{Text: EnteredInErrorScoreNote})
			id = obs.Identifier[0]
		default:
			continue
		}
		en.Request = &request{Method: "PUT", URL: "Observation?" + ifNoneExist(id)}
		b.Entry = append(b.Entry, en)
	}
	return marshalBundle(b, seq)
}
