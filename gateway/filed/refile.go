package filed

import (
	"slices"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/record"
)

// refileNamespace is the UUIDv5 namespace of refiled observation ids.
var refileNamespace = uuid.MustParse("6a1c0e52-93d4-4f0b-8a3e-2f5c7d9e1b40")

// RefiledID returns the identifier of an observation filed again after a
// correction: a UUIDv5 of the identifier it was filed under, so that a
// correction stored twice (after a crash) files it once, and a second
// correction gets yet another. The struck-out filing keeps its identifier.
func RefiledID(id string) string {
	return uuid.NewSHA1(refileNamespace, []byte(id)).String()
}

// Refiled returns rec with every observation under its RefiledID, ready to
// be filed for patient (nil: for nobody, flagged unassociated with reason).
func Refiled(rec record.Record, patient *record.Patient, reason string) record.Record {
	rec.Observations = slices.Clone(rec.Observations)
	for i := range rec.Observations {
		rec.Observations[i].ID = RefiledID(rec.Observations[i].ID)
	}
	rec.Patient, rec.Unassociated, rec.AssocReason = patient, patient == nil, ""
	if patient == nil {
		rec.AssocReason = reason
	}
	return rec
}
