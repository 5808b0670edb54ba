package validate

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// Vital names: the keys of [Rules] and of [Config.Ranges], from the mdc
// table.
const (
	VitalPulseRate      = mdc.VitalPulseRate
	VitalSpO2           = mdc.VitalSpO2
	VitalRespRate       = mdc.VitalRespRate
	VitalSystolic       = mdc.VitalSystolic
	VitalDiastolic      = mdc.VitalDiastolic
	VitalMean           = mdc.VitalMean
	VitalTemperature    = mdc.VitalTemperature
	VitalEtCO2          = mdc.VitalEtCO2
	VitalPerfusionIndex = mdc.VitalPerfusionIndex
)

// Range is the plausibility range of a vital, in its canonical unit. Every
// bound is inclusive: a value v is plausible when Min <= v <= Max and
// unremarkable when SoftMin <= v <= SoftMax. A valid Range has
// Min < Max and Min <= SoftMin < SoftMax <= Max.
type Range struct {
	Min, Max         float64
	SoftMin, SoftMax float64
}

// check reports the first problem with r, or nil.
func (r Range) check() error {
	for _, x := range []float64{r.Min, r.Max, r.SoftMin, r.SoftMax} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("bounds must be finite numbers")
		}
	}
	switch {
	case r.Min >= r.Max:
		return fmt.Errorf("min %s must be less than max %s", num(r.Min), num(r.Max))
	case r.SoftMin >= r.SoftMax:
		return fmt.Errorf("soft_min %s must be less than soft_max %s", num(r.SoftMin), num(r.SoftMax))
	case r.SoftMin < r.Min:
		return fmt.Errorf("soft_min %s must not be below min %s (the soft range lies inside the hard range)", num(r.SoftMin), num(r.Min))
	case r.SoftMax > r.Max:
		return fmt.Errorf("soft_max %s must not be above max %s (the soft range lies inside the hard range)", num(r.SoftMax), num(r.Max))
	}
	return nil
}

// Rule is the validation rule of one vital sign.
type Rule struct {
	// Name is the vital's name, for example [VitalSpO2].
	Name string
	// Unit is the canonical UCUM unit values are normalised to.
	Unit string
	// Codes are the MDC codes the rule applies to, in ascending order.
	Codes []uint32
	// Range is the plausibility range, in Unit.
	Range Range
	// Same lists other units a device may report that mean the same scale
	// as Unit, taken without conversion: Philips reports its relative
	// perfusion index dimensionless ("1") on the scale Masimo reports PI in
	// "%".
	Same []string
}

// Rules are the validation rules of every vital the gateway checks, each
// found by MDC code. The zero value has no rules: every value passes
// through unchecked. Rules are immutable; [Rules.Apply] returns a new set.
// They are safe for concurrent use.
type Rules struct {
	byName map[string]Rule
	// byCode holds a range overridden for a single MDC code.
	byCode map[uint32]Range
}

// DefaultRules returns the published default ranges of the mdc table (see
// the package documentation for the table and its sources).
func DefaultRules() Rules {
	vitals := mdc.Vitals()
	rs := Rules{byName: make(map[string]Rule, len(vitals))}
	for _, v := range vitals {
		r := v.Range
		rs.byName[v.Name] = Rule{Name: v.Name, Unit: v.Unit, Codes: slices.Sorted(slices.Values(v.Codes)),
			Range: Range{r.Min, r.Max, r.SoftMin, r.SoftMax}, Same: v.Same}
	}
	return rs
}

// Lookup returns the rule that applies to an MDC code, with the range
// overridden for that code when there is one.
func (rs Rules) Lookup(mdc uint32) (Rule, bool) {
	for _, r := range rs.byName {
		if slices.Contains(r.Codes, mdc) {
			if rg, ok := rs.byCode[mdc]; ok {
				r.Range = rg
			}
			r.Codes = slices.Clone(r.Codes)
			return r, true
		}
	}
	return Rule{}, false
}

// Rule returns the rule of a vital by name.
func (rs Rules) Rule(name string) (Rule, bool) {
	r, ok := rs.byName[strings.ToLower(name)]
	r.Codes = slices.Clone(r.Codes)
	return r, ok
}

// Names returns the names of the vitals the rules cover, sorted.
func (rs Rules) Names() []string {
	return slices.Sorted(maps.Keys(rs.byName))
}

// Config overrides default ranges, as read from the gateway's
// configuration (viper / mapstructure). For example, in YAML:
//
//	validation:
//	  ranges:
//	    spo2: {soft_min: 88}
//	    MDC_PRESS_BLD_ART_SYS: {min: 30, max: 320, soft_min: 30, soft_max: 320}
type Config struct {
	// Ranges maps a vital name ([VitalSpO2], ...), or the RefID
	// (MDC_PRESS_BLD_ART_SYS) or decimal code (150033) of one MDC code a
	// rule covers, to the bounds to change. Keys are case-insensitive
	// (viper lowercases them). A code's override starts from its vital's
	// range after the vital's own override.
	Ranges map[string]RangeConfig `mapstructure:"ranges"`
}

// RangeConfig holds the bounds to change; a nil bound keeps its default.
// Bounds are in the vital's canonical unit (etCO2 in kPa).
type RangeConfig struct {
	Min     *float64 `mapstructure:"min"`
	Max     *float64 `mapstructure:"max"`
	SoftMin *float64 `mapstructure:"soft_min"`
	SoftMax *float64 `mapstructure:"soft_max"`
}

func (c RangeConfig) apply(r Range) Range {
	set := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	set(&r.Min, c.Min)
	set(&r.Max, c.Max)
	set(&r.SoftMin, c.SoftMin)
	set(&r.SoftMax, c.SoftMax)
	return r
}

// Apply returns rs with the overrides of cfg. It reports every key that
// names no vital or covered MDC code and every resulting range that is
// invalid (see [Range]), joined, each prefixed with "validate: ranges.<key>".
func (rs Rules) Apply(cfg Config) (Rules, error) {
	out := Rules{byName: maps.Clone(rs.byName), byCode: maps.Clone(rs.byCode)}
	if out.byName == nil {
		out.byName = map[string]Rule{}
	}
	if out.byCode == nil {
		out.byCode = map[uint32]Range{}
	}
	var errs []error
	codes := map[string]uint32{} // key → code of a per-code override
	seen := map[uint32]string{}  // code → key
	for _, key := range slices.Sorted(maps.Keys(cfg.Ranges)) {
		name := strings.ToLower(key)
		if r, ok := out.byName[name]; ok {
			r.Range = cfg.Ranges[key].apply(r.Range)
			if err := r.Range.check(); err != nil {
				errs = append(errs, fmt.Errorf("validate: ranges.%s: %w", key, err))
				continue
			}
			out.byName[name] = r
			continue
		}
		code, ok := rs.codeOf(name)
		if !ok {
			errs = append(errs, fmt.Errorf("validate: ranges.%s: unknown vital (want one of %s, or the RefID or decimal MDC code of a code they cover)",
				key, strings.Join(rs.Names(), ", ")))
			continue
		}
		if prev, dup := seen[code]; dup {
			errs = append(errs, fmt.Errorf("validate: ranges.%s: MDC code %d is already configured as ranges.%s", key, code, prev))
			continue
		}
		seen[code] = key
		codes[key] = code
	}
	// Code overrides start from the vital's range after its override.
	for _, key := range slices.Sorted(maps.Keys(codes)) {
		code := codes[key]
		r, _ := out.Lookup(code)
		rg := cfg.Ranges[key].apply(r.Range)
		if err := rg.check(); err != nil {
			errs = append(errs, fmt.Errorf("validate: ranges.%s: %w", key, err))
			continue
		}
		out.byCode[code] = rg
	}
	if len(errs) > 0 {
		return rs, errors.Join(errs...)
	}
	return out, nil
}

// NewRules returns [DefaultRules] with the overrides of cfg.
func NewRules(cfg Config) (Rules, error) { return DefaultRules().Apply(cfg) }

// codeOf resolves a lowercased RefID or decimal MDC code to a code a rule
// covers.
func (rs Rules) codeOf(key string) (uint32, bool) {
	var code uint32
	if n, err := strconv.ParseUint(key, 10, 32); err == nil {
		code = uint32(n)
	} else {
		found := false
		for _, r := range rs.byName {
			for _, c := range r.Codes {
				if v, ok := terminology.Lookup(c); ok && strings.EqualFold(v.Ref, key) {
					code, found = c, true
				}
			}
		}
		if !found {
			return 0, false
		}
	}
	_, ok := rs.Lookup(code)
	return code, ok
}

// num formats a number in the shortest form that reads back exactly.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
