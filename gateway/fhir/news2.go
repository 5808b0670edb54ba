package fhir

// NEWS2 scores (record.KindNEWS2).
//
// Encode turns a KindNEWS2 record into one transaction Bundle with the same
// Bundle.identifier (gateway sequence) as observation Bundles, and entries:
//
//   - Location, the bed, as for observations;
//   - Device, as for observations, only when the record has a DeviceKey (a
//     score derives from several devices and nurse entries, so the gateway
//     may leave it empty);
//   - one Observation, a conditional create on its identifier
//     {urn:ietf:rfc:3986, "urn:uuid:<NEWS2.ID>"}.
//
// The Observation follows the UK Core NEWS2 example
// (UKCore-Bundle-NEWS2Observations-Example): code SNOMED CT 1104051000000101
// "Royal College of Physicians NEWS2 (National Early Warning Score 2) total
// score"; category survey; valueQuantity the total as {ScoreOf}
// (http://unitsofmeasure.org, unit "ScoreOf"); one component per sub-score,
// in the record's (chart) order, coded with its SNOMED CT sub-score code and
// valued as {ScoreOf}. No profile is claimed: UK Core publishes no NEWS2
// profile.
//
//   - subject: the patient by identifier (NHS number, else local number) as
//     for observations, else the bed Location.
//   - effectiveDateTime: NEWS2.Effective, the time of the newest input;
//     issued and Bundle.timestamp: ReceivedAt (Effective when zero).
//   - derivedFrom: the device observations the score used, as logical
//     references {type Observation, identifier {urn:ietf:rfc:3986,
//     urn:uuid:<id>}}: they were published in earlier Bundles with exactly
//     that identifier. A systolic pressure read in a panel
//     (NEWS2SubScore.Panel) was published as the panel's component, so the
//     reference names the panel Observation (PanelID of the panel, the
//     systolic and the diastolic). Consciousness and air-or-oxygen come from nurse or
//     EPR entries, which are not Observations this encoder wrote, so they
//     are named (with the entry id) in a note instead.
//   - interpretation: the clinical-risk band, {NEWS2RiskSystem, band}, text
//     "<band> (advisory)"; note: the record's advisory text, then the
//     charted value of every sub-score with the time of its input and the
//     SpO2 scale; method: how and
//     by what the score was computed, "advisory".
//   - status final. The score is computed once from final observations and
//     is never revised (a new input set gives a new score with a new
//     identifier), so preliminary, which promises a later final version,
//     would be wrong; that it is advisory is said in interpretation, note
//     and method. The conformance validator accepts either.
//
// A Scale 2 score carries the Scale 2 sub-score code 1104321000000108,
// which the conformance validator's NEWS2 code list lacks; it reports that
// component (the tests pin exactly that report).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// NEWS2RiskSystem codes the clinical-risk band of a NEWS2 score in
// Observation.interpretation: "low", "low-medium", "medium" or "high"
// (RCP NEWS2 2017, chart 2). No published code system holds the bands.
const NEWS2RiskSystem = "urn:bedgate:news2:clinical-risk"

// news2Displays are the SNOMED CT displays of the NEWS2 total and
// sub-score codes, as the UK Core NEWS2 example writes them; the Scale 2
// display follows their pattern.
var news2Displays = map[string]string{
	news2.CodeTotal:              "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
	news2.CodeRespRateScore:      "Royal College of Physicians NEWS2 (National Early Warning Score 2) - respiration rate score",
	news2.CodeSpO2Scale1Score:    "Royal College of Physicians NEWS2 (National Early Warning Score 2) - oxygen saturation scale 1 score",
	news2.CodeSpO2Scale2Score:    "Royal College of Physicians NEWS2 (National Early Warning Score 2) - oxygen saturation scale 2 score",
	news2.CodeAirOrOxygenScore:   "Royal College of Physicians NEWS2 (National Early Warning Score 2) - air or oxygen score",
	news2.CodeSystolicBPScore:    "Royal College of Physicians NEWS2 (National Early Warning Score 2) - systolic blood pressure score",
	news2.CodePulseScore:         "Royal College of Physicians NEWS2 (National Early Warning Score 2) - pulse score",
	news2.CodeConsciousnessScore: "Royal College of Physicians NEWS2 (National Early Warning Score 2) - consciousness score",
	news2.CodeTemperatureScore:   "Royal College of Physicians NEWS2 (National Early Warning Score 2) - temperature score",
}

// news2Bands are the displays of the NEWS2RiskSystem codes.
var news2Bands = map[string]string{
	"low":        "Low clinical risk",
	"low-medium": "Low-medium clinical risk (3 in a single parameter)",
	"medium":     "Medium clinical risk (key threshold for urgent response)",
	"high":       "High clinical risk",
}

// assessedParameters are the NEWS2 parameters a person assesses (nurse or
// EPR entries), not a device: their inputs are not Observations this
// encoder published, so they are named in a note, not in derivedFrom.
var assessedParameters = map[string]bool{
	news2.Consciousness.String(): true,
	news2.AirOrOxygen.String():   true,
}

// scoreUnitDisplay is the human-readable unit of the score quantities, as
// in the UK Core NEWS2 example.
const scoreUnitDisplay = "ScoreOf"

// news2Observation is the FHIR R4 Observation of a NEWS2 score: the
// elements of observation plus method, derivedFrom and component.
type news2Observation struct {
	ResourceType      string            `json:"resourceType"`
	Identifier        []identifier      `json:"identifier"`
	Status            string            `json:"status"`
	Category          []codeableConcept `json:"category"`
	Code              codeableConcept   `json:"code"`
	Subject           *reference        `json:"subject,omitempty"`
	EffectiveDateTime string            `json:"effectiveDateTime"`
	Issued            string            `json:"issued,omitempty"`
	ValueQuantity     *quantity         `json:"valueQuantity"`
	Interpretation    []codeableConcept `json:"interpretation,omitempty"`
	Note              []annotation      `json:"note,omitempty"`
	Method            *codeableConcept  `json:"method,omitempty"`
	Device            *reference        `json:"device,omitempty"`
	DerivedFrom       []reference       `json:"derivedFrom,omitempty"`
	Component         []component       `json:"component"`
}

type component struct {
	Code          codeableConcept `json:"code"`
	ValueQuantity *quantity       `json:"valueQuantity"`
}

// encodeNEWS2 returns the transaction Bundle of a KindNEWS2 record, as
// described at the top of this file.
func (e *Encoder) encodeNEWS2(r record.Record, seq uint64) ([]byte, error) {
	b, err := e.news2Bundle(r, seq)
	if err != nil {
		return nil, err
	}
	return marshalBundle(b, seq)
}

// news2Bundle returns the Bundle of encodeNEWS2.
func (e *Encoder) news2Bundle(r record.Record, seq uint64) (bundle, error) {
	id, err := checkNEWS2(r)
	if err != nil {
		return bundle{}, err
	}
	s := r.NEWS2
	issued := r.ReceivedAt
	if issued.IsZero() {
		issued = s.Effective
	}

	locEntry := e.location(r)
	subject := &reference{Reference: locEntry.FullURL, Type: "Location", Display: r.Bed}
	if p := patientIdentifier(r, e.opts.LocalIDSystem); p != nil {
		subject = &reference{Type: "Patient", Identifier: p}
	}

	b := e.newBundle(r, seq, issued, 3)
	b.Entry = append(b.Entry, locEntry)
	var devRef *reference
	if r.DeviceKey != "" {
		devEntry := e.device(r, locEntry.FullURL)
		b.Entry = append(b.Entry, devEntry)
		devRef = &reference{Reference: devEntry.FullURL, Type: "Device"}
	}

	obs := &news2Observation{
		ResourceType: "Observation",
		Identifier:   []identifier{{System: ObservationIdentifierSystem, Value: id.URN()}},
		Status:       "final",
		Category: []codeableConcept{{Coding: []coding{{
			System: systemObservationCategory, Code: "survey", Display: "Survey"}}}},
		Code: codeableConcept{
			Coding: []coding{{System: news2.SystemSNOMED, Code: news2.CodeTotal, Display: news2Displays[news2.CodeTotal]}},
			Text:   "NEWS2 total score (advisory)",
		},
		Subject:           subject,
		EffectiveDateTime: s.Effective.Format(timeLayout),
		Issued:            issued.Format(timeLayout),
		ValueQuantity:     scoreQuantity(s.Total),
		Interpretation: []codeableConcept{{
			Coding: []coding{{System: NEWS2RiskSystem, Code: s.Band, Display: news2Bands[s.Band]}},
			Text:   news2Bands[s.Band] + " (advisory)",
		}},
		Method: &codeableConcept{Text: "NEWS2 (Royal College of Physicians, 2017) computed by the bedgate gateway " +
			"from device observations and nurse entries; advisory, not a clinical assessment"},
		Device: devRef,
	}
	if s.Advisory != "" {
		obs.Note = append(obs.Note, annotation{Text: s.Advisory})
	}
	obs.Note = append(obs.Note, annotation{Text: chartedNote(s)})

	seen := make(map[string]bool)
	for _, sub := range s.SubScores {
		obs.Component = append(obs.Component, component{
			Code:          codeableConcept{Coding: []coding{{System: news2.SystemSNOMED, Code: sub.Code, Display: news2Displays[sub.Code]}}},
			ValueQuantity: scoreQuantity(sub.Score),
		})
		if assessedParameters[sub.Parameter] {
			continue
		}
		for _, o := range sub.Observations {
			oid := uuid.MustParse(o) // checked by checkNEWS2
			if p := sub.Panel; p != nil {
				// A systolic pressure was published in its panel.
				oid = PanelID(p.MDC, o, p.Diastolic)
			}
			if seen[oid.String()] {
				continue
			}
			seen[oid.String()] = true
			obs.DerivedFrom = append(obs.DerivedFrom, reference{
				Type:       "Observation",
				Identifier: &identifier{System: ObservationIdentifierSystem, Value: oid.URN()},
				Display:    sub.Parameter,
			})
		}
	}

	b.Entry = append(b.Entry, createEntry(entryURL(e.ns, "Observation", id.String()), "Observation", obs, obs.Identifier[0]))
	return b, nil
}

// scoreQuantity is a NEWS2 score as a {ScoreOf} quantity.
func scoreQuantity(score int) *quantity {
	return &quantity{Value: float64(score), Unit: scoreUnitDisplay, System: terminology.SystemUCUM, Code: news2.ScoreUnit}
}

// chartedNote lists the charted value of every sub-score, and for the
// assessed parameters the entry it came from, for people reading the
// score.
func chartedNote(s *record.NEWS2) string {
	parts := make([]string, 0, len(s.SubScores))
	for _, sub := range s.SubScores {
		v := sub.ValueText
		if v == "" && sub.Value != nil {
			v = strconv.FormatFloat(*sub.Value, 'f', -1, 64)
		}
		p := fmt.Sprintf("%s %s scores %d", sub.Parameter, v, sub.Score)
		if assessedParameters[sub.Parameter] && len(sub.Observations) > 0 {
			p += " (entry " + strings.Join(sub.Observations, ", ") + ")"
		}
		if !sub.Time.IsZero() {
			p += " at " + sub.Time.Format(timeLayout)
		}
		parts = append(parts, p)
	}
	scale := "SpO2 scale 1"
	if s.Scale2 {
		scale = "SpO2 scale 2 (prescribed target 88-92%)"
	}
	return "Charted: " + strings.Join(parts, "; ") + ". " + scale + "."
}

// checkNEWS2 reports every way a KindNEWS2 record breaks the record
// contract, and returns the score's id.
func checkNEWS2(r record.Record) (uuid.UUID, error) {
	var errs []error
	if r.Gateway == "" {
		errs = append(errs, errors.New("no gateway id"))
	}
	if r.Bed == "" {
		errs = append(errs, errors.New("no bed"))
	}
	s := r.NEWS2
	if s == nil {
		errs = append(errs, errors.New("NEWS2 record without a score"))
		return uuid.Nil, fmt.Errorf("fhir: invalid record: %w", errors.Join(errs...))
	}
	id, err := uuid.Parse(s.ID)
	if err != nil || len(s.ID) != 36 {
		errs = append(errs, fmt.Errorf("NEWS2 id %q is not a UUID", s.ID))
	}
	if s.Effective.IsZero() {
		errs = append(errs, errors.New("NEWS2 score has no effective time"))
	}
	if _, ok := news2Bands[s.Band]; !ok {
		errs = append(errs, fmt.Errorf("NEWS2 band %q is not low, low-medium, medium or high", s.Band))
	}
	if len(s.SubScores) == 0 {
		errs = append(errs, errors.New("NEWS2 score has no sub-scores"))
	}
	sum := 0
	codes := make(map[string]bool)
	for i, sub := range s.SubScores {
		if _, ok := news2Displays[sub.Code]; !ok || sub.Code == news2.CodeTotal {
			errs = append(errs, fmt.Errorf("NEWS2 sub-score %d (%s): %q is not a NEWS2 sub-score code", i, sub.Parameter, sub.Code))
		} else if codes[sub.Code] {
			errs = append(errs, fmt.Errorf("NEWS2 sub-score %d (%s): code %s appears twice", i, sub.Parameter, sub.Code))
		}
		codes[sub.Code] = true
		if sub.Score < 0 || sub.Score > 3 {
			errs = append(errs, fmt.Errorf("NEWS2 sub-score %d (%s): score %d outside 0-3", i, sub.Parameter, sub.Score))
		}
		sum += sub.Score
		if assessedParameters[sub.Parameter] {
			continue
		}
		for _, o := range sub.Observations {
			if _, err := uuid.Parse(o); err != nil || len(o) != 36 {
				errs = append(errs, fmt.Errorf("NEWS2 sub-score %d (%s): observation id %q is not a UUID", i, sub.Parameter, o))
			}
		}
		if p := sub.Panel; p != nil {
			if _, err := uuid.Parse(p.Diastolic); err != nil || len(p.Diastolic) != 36 || len(sub.Observations) != 1 {
				errs = append(errs, fmt.Errorf("NEWS2 sub-score %d (%s): a panel needs one systolic and a diastolic id that is a UUID, not %q", i, sub.Parameter, p.Diastolic))
			}
		}
	}
	if s.Total < 0 || s.Total > 20 {
		errs = append(errs, fmt.Errorf("NEWS2 total %d outside 0-20", s.Total))
	}
	if len(s.SubScores) > 0 && sum != s.Total {
		errs = append(errs, fmt.Errorf("NEWS2 total %d is not the sum of its sub-scores (%d)", s.Total, sum))
	}
	if err := errors.Join(errs...); err != nil {
		return uuid.Nil, fmt.Errorf("fhir: invalid record: %w", err)
	}
	return id, nil
}
