package intellivue

import "math"

// Float is the Data Export FLOAT-Type, the IEEE 11073 32-bit FLOAT: the
// high byte is a signed 8-bit exponent e, the low 24 bits a signed
// (two's complement) mantissa m, and the value is m·10^e [DEI "FLOATType"].
// The exponent is the most significant byte (one peer reads it from the
// least significant byte; that is wrong).
type Float uint32

// The special values of a Float [DEI "FLOATType"]. They have exponent 0.
const (
	FloatNaN    Float = 0x007FFFFF // not a number
	FloatNRes   Float = 0x00800000 // not at this resolution
	FloatPosInf Float = 0x007FFFFE // positive infinity
	FloatNegInf Float = 0x00800002 // negative infinity
)

// maxMantissa bounds the mantissa of an ordinary value that NewFloat
// produces; with exponent 0 it keeps clear of the special patterns.
const (
	maxMantissa   = 1<<23 - 1
	maxMantissaE0 = 1<<23 - 3
)

// Special says whether a Float is an ordinary number or one of the special
// values.
type Special uint8

// The kinds of Float.
const (
	NotSpecial    Special = iota // an ordinary number
	SpecialNaN                   // FloatNaN
	SpecialNRes                  // FloatNRes
	SpecialPosInf                // FloatPosInf
	SpecialNegInf                // FloatNegInf
)

// String returns "", "NaN", "NRes", "+INF" or "-INF".
func (s Special) String() string {
	switch s {
	case SpecialNaN:
		return "NaN"
	case SpecialNRes:
		return "NRes"
	case SpecialPosInf:
		return "+INF"
	case SpecialNegInf:
		return "-INF"
	}
	return ""
}

// Exponent returns the signed exponent (the high byte).
func (f Float) Exponent() int { return int(int8(f >> 24)) }

// Mantissa returns the signed 24-bit mantissa.
func (f Float) Mantissa() int { return int(int32(uint32(f)<<8) >> 8) }

// Special reports which special value f is, or NotSpecial.
func (f Float) Special() Special {
	switch f {
	case FloatNaN:
		return SpecialNaN
	case FloatNRes:
		return SpecialNRes
	case FloatPosInf:
		return SpecialPosInf
	case FloatNegInf:
		return SpecialNegInf
	}
	return NotSpecial
}

// Float64 returns the value of f: m·10^e for an ordinary number, NaN for
// FloatNaN and FloatNRes, and ±Inf for the infinities. A negative exponent
// divides by an exact power of ten, so 0xFFFFFFF7 is exactly -0.9 as
// float64 parses it, not -0.9000000000000001.
func (f Float) Float64() float64 {
	switch f.Special() {
	case SpecialNaN, SpecialNRes:
		return math.NaN()
	case SpecialPosInf:
		return math.Inf(1)
	case SpecialNegInf:
		return math.Inf(-1)
	}
	m, e := float64(f.Mantissa()), f.Exponent()
	if e < 0 {
		return m / math.Pow10(-e)
	}
	return m * math.Pow10(e)
}

// NewFloat encodes v as a Float with the most precision the 24-bit
// mantissa allows, then without trailing zero digits below the unit
// (0.43 is 43·10^-2, 60 is 60·10^0). NaN gives FloatNaN, ±Inf and values
// too large give the infinities, and values too small give zero.
func NewFloat(v float64) Float {
	switch {
	case math.IsNaN(v):
		return FloatNaN
	case math.IsInf(v, 1):
		return FloatPosInf
	case math.IsInf(v, -1):
		return FloatNegInf
	case v == 0:
		return 0
	}
	// The smallest exponent whose mantissa fits.
	e := int(math.Floor(math.Log10(math.Abs(v)))) - 6
	e = max(e, -128)
	var m float64
	for ; e <= 127; e++ {
		m = math.Round(scale(v, e))
		if limit := mantissaLimit(e); math.Abs(m) <= limit {
			break
		}
	}
	if e > 127 {
		if v > 0 {
			return FloatPosInf
		}
		return FloatNegInf
	}
	mi := int64(m)
	for e < 0 && mi != 0 && mi%10 == 0 {
		mi /= 10
		e++
	}
	if mi == 0 {
		return 0
	}
	return Float(uint32(uint8(int8(e)))<<24 | uint32(mi)&0xFFFFFF)
}

// mantissaLimit is the largest magnitude of an ordinary mantissa with
// exponent e.
func mantissaLimit(e int) float64 {
	if e == 0 {
		return maxMantissaE0
	}
	return maxMantissa
}

// scale returns v / 10^e, using an exact power of ten where possible.
func scale(v float64, e int) float64 {
	if e < 0 {
		return v * math.Pow10(-e)
	}
	return v / math.Pow10(e)
}
