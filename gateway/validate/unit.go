package validate

import (
	"fmt"
	"math"
	"strings"
)

// pascalPerMMHg is the conventional millimetre of mercury in pascals:
// 13.5951 g/cm³ × 9.80665 m/s² × 1 mm (BS 350).
const pascalPerMMHg = 133.322387415

// UnitError reports a value whose unit does not convert to the unit its
// vital is published in.
type UnitError struct {
	From, To string
}

// Error returns "validate: unit X not convertible to Y".
func (e *UnitError) Error() string { return "validate: " + e.text() }

func (e *UnitError) text() string {
	from := e.From
	if from == "" {
		from = `""`
	}
	return fmt.Sprintf("unit %s not convertible to %s", from, e.To)
}

// conversion converts a value from one unit to another.
type conversion struct {
	apply func(float64) float64 // nil: the same unit spelled differently
	// statement is the factor or formula, for the observation's Reason.
	statement string
}

// conversions is keyed by canonical unit, then by source unit.
var conversions = map[string]map[string]conversion{
	"mm[Hg]": {
		"kPa": {func(v float64) float64 { return v * 1000 / pascalPerMMHg }, "1 kPa = 7.50061683 mm[Hg]"},
	},
	"kPa": {
		"mm[Hg]": {func(v float64) float64 { return v * pascalPerMMHg / 1000 }, "1 mm[Hg] = 0.133322387 kPa"},
	},
	"Cel": {
		"[degF]": {func(v float64) float64 { return (v - 32) * 5 / 9 }, "Cel = ([degF] - 32) × 5/9"},
		"K":      {func(v float64) float64 { return v - 273.15 }, "Cel = K - 273.15"},
	},
	"%": {
		"1": {func(v float64) float64 { return v * 100 }, "fraction 1 = 100 %"},
	},
	"/min": {
		"1/min": {nil, "1/min = /min"},
	},
}

// decimals is the number of decimal places a converted value is rounded
// to, per canonical unit.
var decimals = map[string]int{
	"mm[Hg]": 1,
	"kPa":    2,
	"Cel":    2,
	"%":      1,
	"/min":   1,
}

// Convert returns v, measured in unit from, in unit to, and a statement of
// the conversion applied. A value already in unit to is returned unchanged
// with an empty statement, and a value in another spelling of unit to
// ("1/min", "{beats}/min" for "/min") unchanged with a statement; any other
// converted value is rounded half away from zero to the resolution of unit
// to (see the package documentation). Units are
// UCUM codes, compared exactly (case-sensitive, as UCUM is); "{annotation}/min"
// counts as /min. A pair with no conversion returns a *[UnitError].
func Convert(v float64, from, to string) (float64, string, error) {
	if from == to {
		return v, "", nil
	}
	if to == "/min" && isAnnotatedPerMin(from) {
		return v, from + " = /min", nil // the same unit: not rounded
	}
	c, ok := conversions[to][from]
	if !ok {
		return 0, "", &UnitError{From: from, To: to}
	}
	if c.apply == nil { // the same unit, spelled differently: not rounded
		return v, c.statement, nil
	}
	x := c.apply(v)
	if d, ok := decimals[to]; ok {
		p := math.Pow(10, float64(d))
		x = math.Round(x*p) / p
	}
	return x, c.statement, nil
}

// isAnnotatedPerMin reports a UCUM "{annotation}/min", which UCUM defines
// as /min: annotations have no unit meaning.
func isAnnotatedPerMin(u string) bool {
	rest, ok := strings.CutSuffix(u, "}/min")
	return ok && strings.HasPrefix(rest, "{") && !strings.ContainsAny(rest[1:], "{}")
}
