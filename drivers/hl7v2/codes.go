package hl7v2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/intellivue"
)

// CodeTable maps a vendor's own OBX-3 codes to MDC terms, for senders that
// do not use MDC. A key is "SYSTEM:CODE" (OBX-3.3 and OBX-3.1, for example
// "99GE:HR"), or "CODE" alone for rows that name no coding system. Keys
// are compared without regard to case (configuration files lower-case them)
// and are written in lower case.
type CodeTable map[string]Code

// Code is the MDC term of a vendor code.
type Code struct {
	MDC uint32 // IEEE 11073-10101 code, for example 147842
	Ref string // reference id, for example "MDC_ECG_HEART_RATE"
	// Unit is the UCUM unit of values sent without OBX-6; empty means
	// no unit.
	Unit string
}

// mdcSystem reports whether a coding system name means IEEE 11073-10101.
func mdcSystem(s string) bool { return s == "MDC" || s == "ISO11073-10101" }

// code reads OBX-3: an MDC code in the first or the alternate triple, a
// vendor code from the table (keys compared without case), or else the code passed through under the
// label "SYSTEM:CODE" (or "CODE") with MDC 0.
func code(seg Segment, codes CodeTable) drivers.Value {
	for _, first := range []int{1, 4} {
		c, text, sys := seg.C(3, first), seg.C(3, first+1), seg.C(3, first+2)
		if !mdcSystem(sys) {
			continue
		}
		if n, err := strconv.ParseUint(c, 10, 32); err == nil && n > 0 {
			v := drivers.Value{MDC: uint32(n)}
			if strings.HasPrefix(text, "MDC_") {
				v.Ref = text
			}
			return v
		}
	}
	c, sys := seg.C(3, 1), seg.C(3, 3)
	label := c
	if sys != "" {
		label = sys + ":" + c
	}
	if k, ok := codes[strings.ToLower(label)]; ok {
		return drivers.Value{MDC: k.MDC, Ref: k.Ref, Label: label, Unit: k.Unit}
	}
	if label == "" {
		label = seg.C(3, 2) // a row with text only
	}
	return drivers.Value{Label: label}
}

// unit reads OBX-6 as UCUM: an MDC dimension code (partition 4) through
// the MDC unit table (an unknown one as "mdc-dim:<code>"), any other code
// as sent.
func unit(seg Segment) string {
	c, text, sys := seg.C(6, 1), seg.C(6, 2), seg.C(6, 3)
	if mdcSystem(sys) {
		if n, err := strconv.ParseUint(c, 10, 32); err == nil && n>>16 == 4 {
			return intellivue.UnitUCUM(uint16(n))
		}
		return "mdc-dim:" + c
	}
	if c == "" {
		return text
	}
	return c
}

// resultStatus maps OBX-11 (HL7 table 0085) to status flags: F (final), R
// (not verified, what devices send) and an empty status are valid; C
// (corrected), P (preliminary), S (partial) and any status not in the
// table are Questionable; X (cannot be obtained), I (pending), N (not
// asked) and O (order detail) are Unavailable; D (deleted) and W (wrong)
// are Invalid.
func resultStatus(s string) drivers.Status {
	switch s {
	case "", "F", "R":
		return 0
	case "X", "I", "N", "O":
		return drivers.Unavailable
	case "D", "W":
		return drivers.Invalid
	}
	return drivers.Questionable
}

// abnormalFlags maps one OBX-8 repetition to status flags. The IHE PCD
// measurement-status codes: INV invalid, QUES questionable, NAV not
// available, CAL calibrating, TEST and DEMO demonstration data; "<" and ">"
// (off the instrument's scale) are OutOfRange. The clinical range flags of
// HL7 table 0078 (L, H, LL, HH, N, A, AA) say nothing of the measurement
// and set no flag. Any other code is Questionable: a device's verdict the
// gateway does not understand is never taken as valid.
func abnormalFlags(s string) drivers.Status {
	switch s {
	case "", "L", "H", "LL", "HH", "N", "A", "AA":
		return 0
	case "INV":
		return drivers.Invalid
	case "QUES":
		return drivers.Questionable
	case "NAV":
		return drivers.Unavailable
	case "CAL":
		return drivers.Calibrating
	case "TEST", "DEMO":
		return drivers.Demo
	case "<", ">":
		return drivers.OutOfRange
	}
	return drivers.Questionable
}

// number parses an HL7 NM value: an optional sign, digits and an optional
// decimal point, nothing else (no exponent, no hex, no spaces). An empty
// value, or NaN or infinity spelt out, is Unavailable; anything else that
// is not a number is Invalid. The value is nil whenever the status is not
// zero.
func number(s string) (*float64, drivers.Status) {
	switch strings.ToLower(s) {
	case "":
		return nil, drivers.Unavailable
	case "nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity":
		return nil, drivers.Unavailable
	}
	digits, dot := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dot++
		case (c == '+' || c == '-') && i == 0:
		default:
			return nil, drivers.Invalid
		}
	}
	if digits == 0 || dot > 1 {
		return nil, drivers.Invalid
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) {
		return nil, drivers.Invalid
	}
	return &x, 0
}

// ParseTime parses an HL7 DTM (or TS first component):
// YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]. Without an offset the
// time is in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("time %s: %s", clip(s), why)
	}
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	frac := ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		body, frac = body[:i], body[i+1:]
		if len(body) != 14 || len(frac) < 1 || len(frac) > 4 || !allDigits(frac) {
			return bad("a fraction needs seconds and 1 to 4 digits")
		}
	}
	if !allDigits(body) || len(body) < 4 || len(body) > 14 || len(body)%2 != 0 {
		return bad("want YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]")
	}
	layout := "20060102150405"[:len(body)]
	if zone != "" {
		if len(zone) != 5 || !allDigits(zone[1:]) {
			return bad("offset must be +HHMM or -HHMM")
		}
		layout += "-0700"
		body += zone
	}
	t, err := time.ParseInLocation(layout, body, loc)
	if err != nil {
		return bad("not a date and time")
	}
	if frac != "" {
		n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		t = t.Add(time.Duration(n))
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
