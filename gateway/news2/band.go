package news2

import (
	"fmt"
	"strconv"
)

// Band is a NEWS2 clinical-risk band [RCP NEWS2 2017, chart 2 and
// chart 4]. The zero value is no band.
type Band int

// The clinical-risk bands, in increasing order of risk.
const (
	// BandLow is an aggregate of 0–4 with no parameter scoring 3.
	BandLow Band = iota + 1
	// BandLowMedium is an aggregate of 0–4 with 3 in a single parameter
	// (a "red score").
	BandLowMedium
	// BandMedium is an aggregate of 5–6, the key threshold for an urgent
	// response, whether or not a parameter scores 3.
	BandMedium
	// BandHigh is an aggregate of 7 or more.
	BandHigh
)

// BandOf returns the band of an aggregate total, where red says whether any
// single parameter scored 3. A red score raises a total of 0–4 to
// BandLowMedium and does not change higher totals.
func BandOf(total int, red bool) Band {
	switch {
	case total >= 7:
		return BandHigh
	case total >= 5:
		return BandMedium
	case red:
		return BandLowMedium
	default:
		return BandLow
	}
}

// String returns "low", "low-medium", "medium" or "high".
func (b Band) String() string {
	switch b {
	case BandLow:
		return "low"
	case BandLowMedium:
		return "low-medium"
	case BandMedium:
		return "medium"
	case BandHigh:
		return "high"
	}
	return "Band(" + strconv.Itoa(int(b)) + ")"
}

// advisory paraphrases the chart 4 response to a total in band b.
func advisory(total int, b Band) string {
	var s string
	switch {
	case b == BandHigh:
		s = "high clinical risk: emergency assessment by a team with critical-care competencies; continuous monitoring of vital signs"
	case b == BandMedium:
		s = "medium clinical risk (key threshold): urgent assessment by a clinician competent in acute illness; observations at least hourly"
	case b == BandLowMedium:
		s = "low-medium clinical risk (3 in a single parameter): urgent ward-based review by a clinician; observations at least hourly"
	case total == 0:
		s = "low clinical risk: routine observations at least every 12 hours"
	default:
		s = "low clinical risk: registered nurse to assess; observations at least every 4-6 hours"
	}
	return fmt.Sprintf("NEWS2 %d, %s. Advisory only: follow local escalation policy and clinical judgement.", total, s)
}
