package hl7

import "strings"

// Delimiters the encoder writes (MSH-1 and MSH-2): field "|", component "^",
// repetition "~", escape "\" and sub-component "&".
const (
	fieldSep     = '|'
	encodingChar = `^~\&`
	segmentEnd   = '\r'
)

// escape returns s as HL7 v2 text: the delimiters become the escape
// sequences \F\ \S\ \R\ \E\ \T\ (HL7 v2.6 section 2.7) and every control
// character, CR and LF included, becomes a hexadecimal escape \Xhh\, so a
// value can never end a segment or split a field. Other text, UTF-8
// included, is written as is (MSH-18 says UNICODE UTF-8).
func escape(s string) string {
	if !strings.ContainsAny(s, "|^~\\&") && !hasControl(s) {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '|':
			b.WriteString(`\F\`)
		case c == '^':
			b.WriteString(`\S\`)
		case c == '~':
			b.WriteString(`\R\`)
		case c == '\\':
			b.WriteString(`\E\`)
		case c == '&':
			b.WriteString(`\T\`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\X`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			b.WriteByte('\\')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// components joins already escaped components with "^", dropping trailing
// empty ones.
func components(parts ...string) string {
	n := len(parts)
	for n > 0 && parts[n-1] == "" {
		n--
	}
	return strings.Join(parts[:n], "^")
}

// segment writes one segment: its name and fields (already escaped and
// composed; fields[0] is field 1), trailing empty fields dropped, then the
// segment terminator.
func segment(b *strings.Builder, name string, fields ...string) {
	n := len(fields)
	for n > 0 && fields[n-1] == "" {
		n--
	}
	b.WriteString(name)
	for _, f := range fields[:n] {
		b.WriteByte(fieldSep)
		b.WriteString(f)
	}
	b.WriteByte(segmentEnd)
}
