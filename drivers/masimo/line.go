package masimo

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// MaxLineLength is the longest line, without its CR/LF, that the driver
// accepts. Real lines are under 200 bytes.
const MaxLineLength = 512

// timeLayout is the line's timestamp, MM/DD/YY HH:MM:SS.
const timeLayout = "01/02/06 15:04:05"

// maxDigits bounds the digits of one number, so that every number the
// parser accepts is exact in a float64 and prints back no longer.
const maxDigits = 15

// DriverName is the registry name of this driver and DeviceID.Driver of its
// readings.
const DriverName = "masimo"

// ParseLine parses one ASCII 1 line (without or with its CR/LF) into a
// reading whose DeviceTime is the line's timestamp read in loc (nil means
// UTC). ReceivedAt is left zero. A line that is garbled, truncated or out of
// spec gives a *LineError; see the package documentation for the rules.
func ParseLine(line []byte, loc *time.Location) (drivers.Reading, error) {
	if loc == nil {
		loc = time.UTC
	}
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(line) > MaxLineLength {
		return drivers.Reading{}, &LineError{Offset: MaxLineLength, Reason: "line longer than " + strconv.Itoa(MaxLineLength) + " bytes"}
	}
	for i, c := range line {
		if c < 0x20 || c > 0x7e {
			return drivers.Reading{}, &LineError{Offset: i, Reason: "byte 0x" + strconv.FormatUint(uint64(c), 16) + " is not printable ASCII"}
		}
	}
	if len(line) < len(timeLayout) || (len(line) > len(timeLayout) && line[len(timeLayout)] != ' ') {
		return drivers.Reading{}, &LineError{Field: "time", Reason: "line does not start with a MM/DD/YY HH:MM:SS timestamp"}
	}
	// [Rad-8 manual, serial output] the date is MM/DD/YY.
	t, err := time.ParseInLocation(timeLayout, string(line[:len(timeLayout)]), loc)
	if err != nil {
		return drivers.Reading{}, &LineError{Field: "time", Reason: "timestamp is not a valid MM/DD/YY HH:MM:SS time"}
	}

	r := drivers.Reading{Device: drivers.DeviceID{Driver: DriverName}, DeviceTime: t}
	var (
		status []string
		seen   = make([]string, 0, 16) // on the stack for a usual line
		exc    Exception
		hasExc bool
		// text is the line as a string, converted once (a copy: the
		// caller's buffer is free to be reused): the words, and with them
		// the reading's labels, serial number and status words, are slices
		// of it, so a reading keeps its line (at most MaxLineLength bytes).
		text = string(line)
	)
	for off := len(timeLayout); off < len(line); {
		if line[off] == ' ' {
			off++
			continue
		}
		end := off
		for end < len(line) && line[end] != ' ' {
			end++
		}
		word := text[off:end]
		key, val, ok := strings.Cut(word, "=")
		if !ok || !validKey(key) {
			return drivers.Reading{}, &LineError{Offset: off, Reason: "field is not KEY=VALUE"}
		}
		upper := strings.ToUpper(key)
		canon := upper
		if f, ok := LookupField(upper); ok {
			canon = f.Key
		}
		for _, s := range seen {
			if s == canon {
				return drivers.Reading{}, &LineError{Offset: off, Field: key, Reason: "key repeated in one line"}
			}
		}
		seen = append(seen, canon)
		valOff := off + len(key) + 1

		switch {
		case upper == "SN":
			if val == "" {
				return drivers.Reading{}, &LineError{Offset: valOff, Field: key, Reason: "empty serial number"}
			}
			if !isDashes(val) {
				r.Device.Serial = val
			}
		case upper == "EXC":
			// [Rad-8 manual] EXC is hexadecimal; trend output adds ":names".
			hex, _, _ := strings.Cut(val, ":")
			n, ok := parseHex(hex, 3, 7)
			if !ok {
				return drivers.Reading{}, &LineError{Offset: valOff, Field: key, Reason: "exception word is not 3 to 7 hexadecimal digits"}
			}
			exc, hasExc = Exception(n), true
			status = append(status, word)
		case upper == "ALARM":
			if _, ok := parseHex(val, 1, 8); !ok {
				return drivers.Reading{}, &LineError{Offset: valOff, Field: key, Reason: "alarm word is not 1 to 8 hexadecimal digits"}
			}
			status = append(status, word)
		case strings.HasPrefix(upper, "EXC") || strings.HasPrefix(upper, "ALARM"):
			status = append(status, word)
		default:
			v, percent, ok := parseNumber(val)
			f, known := LookupField(upper)
			switch {
			case known && !ok:
				return drivers.Reading{}, &LineError{Offset: valOff, Field: key, Reason: "value is neither a number nor dashes"}
			case known:
				val := f.Value(v, 0)
				val.Label = key
				r.Values = append(r.Values, val)
			case ok:
				unit := ""
				if percent {
					unit = "%"
				}
				r.Values = append(r.Values, drivers.Value{Label: key, Value: v, Unit: unit})
			default:
				status = append(status, word)
			}
		}
		off = end
	}
	if !hasExc {
		return drivers.Reading{}, &LineError{Offset: len(line), Field: "EXC", Reason: "no EXC field (truncated line, or the device is not in ASCII 1 mode)"}
	}
	if len(r.Values) == 0 {
		return drivers.Reading{}, &LineError{Offset: len(line), Reason: "line has no values"}
	}
	st := exc.Status()
	for i := range r.Values {
		r.Values[i].Status |= st
		if r.Values[i].Value == nil {
			r.Values[i].Status |= drivers.Unavailable
		}
	}
	r.DeviceStatus = strings.Join(status, " ")
	return r, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isDashes reports whether s is a "no value" form: an optional "+", then
// dashes and points with at least one dash ("-", "---", "--.-", "+--").
func isDashes(s string) bool {
	s = strings.TrimPrefix(s, "+")
	dash := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			dash = true
		case '.':
		default:
			return false
		}
	}
	return dash
}

// parseNumber parses a value: dashes (nil), or [+-]digits[.digits], either
// followed by an optional "%". ok is false for anything else.
func parseNumber(s string) (v *float64, percent, ok bool) {
	if strings.HasSuffix(s, "%") {
		s, percent = s[:len(s)-1], true
	}
	if isDashes(s) {
		return nil, percent, true
	}
	digits := s
	if len(digits) == 0 {
		return nil, false, false
	}
	if digits[0] == '+' || digits[0] == '-' {
		digits = digits[1:]
	}
	ip, fp, hasPoint := strings.Cut(digits, ".")
	if !allDigits(ip) || hasPoint && !allDigits(fp) || len(ip)+len(fp) > maxDigits {
		return nil, false, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false, false
	}
	return &f, percent, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseHex(s string, fewest, most int) (uint64, bool) {
	if len(s) < fewest || len(s) > most {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	return n, err == nil
}

// AppendLine appends r to dst as one ASCII 1 line terminated by CR/LF, in
// the form a Radical-7 prints: the timestamp (DeviceTime's clock in its own
// location), SN (dashes when empty), each value under its Label (or, for a
// known MDC code without a label, the parameter's key), and then the words
// of DeviceStatus verbatim. Numbers of known parameters are zero padded to
// the device's widths; dashes stand for nil values. AppendLine is the
// inverse of ParseLine for every reading ParseLine returns; it fails when
// the time cannot be printed with a two-digit year or a value has no key.
func AppendLine(dst []byte, r drivers.Reading) ([]byte, error) {
	if y := r.DeviceTime.Year(); y < 1969 || y > 2068 {
		return dst, &LineError{Field: "time", Reason: "device time " + strconv.Itoa(y) + " cannot be sent with a two-digit year"}
	}
	dst = r.DeviceTime.AppendFormat(dst, timeLayout)
	dst = append(dst, " SN="...)
	if r.Device.Serial == "" {
		dst = append(dst, "----------"...)
	} else {
		dst = append(dst, r.Device.Serial...)
	}
	for _, v := range r.Values {
		f, known := LookupField(v.Label)
		if v.Label == "" {
			f, known = lookupMDC(v.MDC)
		}
		key := v.Label
		if key == "" {
			key = f.Key
		}
		if key == "" {
			return dst, &LineError{Reason: "value with MDC code " + strconv.FormatUint(uint64(v.MDC), 10) + " has no key"}
		}
		if !known {
			f = Field{Percent: v.Unit == "%"}
		}
		dst = append(dst, ' ')
		dst = append(dst, key...)
		dst = append(dst, '=')
		dst = appendNumber(dst, f, v.Value)
		if f.Percent {
			dst = append(dst, '%')
		}
	}
	if r.DeviceStatus != "" {
		dst = append(dst, ' ')
		dst = append(dst, r.DeviceStatus...)
	}
	return append(dst, '\r', '\n'), nil
}

// appendNumber prints v in f's form, or as dashes of that form when nil. A
// number too large or too precise for the form is printed in full.
func appendNumber(dst []byte, f Field, v *float64) []byte {
	width := max(f.Width, 1)
	if v == nil {
		if f.Signed {
			dst = append(dst, '+')
		}
		dst = append(dst, strings.Repeat("-", width)...)
		if f.Decimals > 0 {
			dst = append(dst, '.')
			dst = append(dst, strings.Repeat("-", f.Decimals)...)
		}
		return dst
	}
	x := *v
	digits := strconv.FormatFloat(math.Abs(x), 'f', -1, 64)
	ip, fp, _ := strings.Cut(digits, ".")
	if len(ip) > width || len(fp) > f.Decimals {
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	}
	switch {
	case math.Signbit(x):
		dst = append(dst, '-')
	case f.Signed:
		dst = append(dst, '+')
	}
	dst = append(dst, strings.Repeat("0", width-len(ip))...)
	dst = append(dst, ip...)
	if f.Decimals > 0 {
		dst = append(dst, '.')
		dst = append(dst, fp...)
		dst = append(dst, strings.Repeat("0", f.Decimals-len(fp))...)
	}
	return dst
}
