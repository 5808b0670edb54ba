package hl7v2

import (
	"bytes"
	"strconv"
	"strings"
)

// Delimiters are the separators a message declares in MSH-1 and MSH-2.
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
}

// DefaultDelimiters are the usual "|^~\&".
var DefaultDelimiters = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}

// Message is a parsed ER7 message: its delimiters and its segments, in
// order. Field text stays escaped until it is read with Segment.Get.
type Message struct {
	Delims   Delimiters
	Segments []Segment
}

// Segment is one segment. Fields are numbered as HL7 numbers them: for
// MSH, field 1 is the field separator and field 2 the encoding characters.
type Segment struct {
	ID     string
	Seq    int      // 1-based position in the message
	fields []string // fields[n] is field n, escaped; fields[0] is the id
	d      *Delimiters
}

// Parse splits a message into segments and fields. Segments end with CR;
// LF and CR LF are accepted too, and blank lines are skipped. It fails with
// a *ParseError wrapping ErrNoMSH or ErrDelimiters; nothing else in the
// message is checked.
func Parse(data []byte) (*Message, error) {
	data = bytes.TrimLeft(data, "\r\n")
	if len(data) < 8 || string(data[:3]) != "MSH" {
		return nil, &ParseError{Err: ErrNoMSH, Reason: "the message does not start with an MSH segment"}
	}
	d, err := delimiters(data)
	if err != nil {
		return nil, err
	}
	m := &Message{Delims: d}
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		line := data
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m.Segments = append(m.Segments, m.segment(string(line), len(m.Segments)+1))
	}
	return m, nil
}

// delimiters reads MSH-1 and MSH-2: a field separator and four or five
// (HL7 2.7 adds the truncation character) distinct encoding characters,
// none a letter, digit, space or line end.
func delimiters(data []byte) (Delimiters, error) {
	bad := func(reason string) error {
		return &ParseError{Segment: "MSH", Seq: 1, Field: 2, Err: ErrDelimiters, Reason: reason}
	}
	fs := data[3]
	enc := data[4:]
	if i := bytes.IndexByte(enc, fs); i >= 0 {
		enc = enc[:i]
	} else if i := bytes.IndexAny(enc, "\r\n"); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) != 4 && len(enc) != 5 {
		return Delimiters{}, bad("expected 4 encoding characters after the field separator, found " + strconv.Itoa(len(enc)))
	}
	seen := map[byte]bool{fs: true}
	for _, c := range append([]byte{fs}, enc...) {
		if c <= ' ' || c >= 0x7f || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
			return Delimiters{}, bad("delimiter " + strconv.Quote(string(c)) + " is a letter, digit, space or control character")
		}
	}
	for _, c := range enc {
		if seen[c] {
			return Delimiters{}, bad("delimiters are not distinct")
		}
		seen[c] = true
	}
	return Delimiters{Field: fs, Component: enc[0], Repetition: enc[1], Escape: enc[2], Subcomponent: enc[3]}, nil
}

func (m *Message) segment(line string, seq int) Segment {
	parts := strings.Split(line, string(m.Delims.Field))
	if parts[0] == "MSH" {
		// MSH-1 is the separator itself; MSH-2 is the first "field".
		parts = append([]string{"MSH", string(m.Delims.Field)}, parts[1:]...)
	}
	return Segment{ID: parts[0], Seq: seq, fields: parts, d: &m.Delims}
}

// All returns the segments with the given id, in order.
func (m *Message) All(id string) []Segment {
	var out []Segment
	for _, s := range m.Segments {
		if s.ID == id {
			out = append(out, s)
		}
	}
	return out
}

// First returns the first segment with the given id.
func (m *Message) First(id string) (Segment, bool) {
	for _, s := range m.Segments {
		if s.ID == id {
			return s, true
		}
	}
	return Segment{}, false
}

// Raw returns field n as sent (escaped), or "" when absent.
func (s Segment) Raw(n int) string {
	if n < 1 || n >= len(s.fields) {
		return ""
	}
	return s.fields[n]
}

// Reps returns the number of repetitions of field n (0 when empty).
func (s Segment) Reps(n int) int {
	f := s.Raw(n)
	if f == "" {
		return 0
	}
	if s.ID == "MSH" && n <= 2 {
		return 1
	}
	return strings.Count(f, string(s.d.Repetition)) + 1
}

// Get returns field n, repetition rep, component comp, subcomponent sub
// (all 1-based), unescaped; 0 for comp or sub means the whole field or
// component (escaped delimiters inside stay escaped only there). An absent
// part is "".
func (s Segment) Get(n, rep, comp, sub int) string {
	f := s.Raw(n)
	if s.ID == "MSH" && n <= 2 {
		return f // the delimiters themselves
	}
	part := nth(f, s.d.Repetition, rep)
	if comp > 0 {
		part = nth(part, s.d.Component, comp)
		if sub > 0 {
			part = nth(part, s.d.Subcomponent, sub)
		}
	}
	return Unescape(part, *s.d)
}

// C returns component comp of the first repetition of field n, unescaped.
func (s Segment) C(n, comp int) string { return s.Get(n, 1, comp, 0) }

// nth returns the i-th (1-based) part of s split at sep, or "".
func nth(s string, sep byte, i int) string {
	for ; i > 1; i-- {
		j := strings.IndexByte(s, sep)
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, sep); j >= 0 {
		return s[:j]
	}
	return s
}

// Unescape replaces the escape sequences of d in s: \F\ \S\ \T\ \R\ \E\
// by the delimiters they stand for, \Xhh..\ by the bytes it encodes;
// formatting escapes (\H\, \N\, \.br\ and the like) are dropped; anything
// else (an unknown or unterminated escape) is kept as it is.
func Unescape(s string, d Delimiters) string {
	if strings.IndexByte(s, d.Escape) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != d.Escape {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], d.Escape)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+end]
		if r, ok := escape(seq, d); ok {
			b.WriteString(r)
			i += end + 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func escape(seq string, d Delimiters) (string, bool) {
	switch seq {
	case "F":
		return string(d.Field), true
	case "S":
		return string(d.Component), true
	case "T":
		return string(d.Subcomponent), true
	case "R":
		return string(d.Repetition), true
	case "E":
		return string(d.Escape), true
	case "H", "N":
		return "", true
	}
	switch {
	case len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1:
		out := make([]byte, 0, len(seq)/2)
		for i := 1; i < len(seq); i += 2 {
			v, err := strconv.ParseUint(seq[i:i+2], 16, 8)
			if err != nil {
				return "", false
			}
			out = append(out, byte(v))
		}
		return string(out), true
	case len(seq) > 1 && seq[0] == '.':
		if seq == ".br" {
			return "\n", true
		}
		return "", true // other formatting commands (.sp, .in, ...)
	}
	return "", false
}

// Escape is the inverse of Unescape for plain text: it escapes the
// delimiters of d in s.
func Escape(s string, d Delimiters) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case d.Escape:
			b.WriteString(string(d.Escape) + "E" + string(d.Escape))
		case d.Field:
			b.WriteString(string(d.Escape) + "F" + string(d.Escape))
		case d.Component:
			b.WriteString(string(d.Escape) + "S" + string(d.Escape))
		case d.Subcomponent:
			b.WriteString(string(d.Escape) + "T" + string(d.Escape))
		case d.Repetition:
			b.WriteString(string(d.Escape) + "R" + string(d.Escape))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
