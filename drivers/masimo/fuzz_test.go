package masimo

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
	"testing/iotest"

	"github.com/bedgate/bedgate/drivers"
)

var fuzzSeeds = []string{
	lineRad8, lineRad7, lineRad7Blue, lineTrend,
	"01/01/25 00:00:00 SN=X1 FOO=12.5% MODE=adult SPO2=100% EXC=800",
	"01/01/25 00:00:00 PIDELTA=-00 SPHB=12.3 SPOC=-% EXC=FFF ALARM=1",
	"13/45/24 00:00:00 SPO2=099% EXC=800",
	"\x00\xfe garbage",
}

// FuzzParseLine checks that ParseLine never panics, fails only with a
// *LineError inside the line, and that every reading it returns prints
// with AppendLine (the simulator's formatter) and parses back the same.
func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseLine(line, nil)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LineError", err)
			}
			if le.Offset < 0 || le.Offset > len(line) {
				t.Fatalf("offset %d outside a line of %d bytes", le.Offset, len(line))
			}
			return
		}
		if len(r.Values) == 0 || r.Device.Driver != "masimo" {
			t.Fatalf("accepted a line without values or driver: %+v", r)
		}
		for _, v := range r.Values {
			if (v.Value == nil) != (v.Status&drivers.Unavailable != 0) {
				t.Fatalf("value %v with status %v: nil and Unavailable must go together", v.Value, v.Status)
			}
		}
		out, err := AppendLine(nil, r)
		if err != nil {
			t.Fatalf("AppendLine of a parsed reading: %v", err)
		}
		if len(out)-2 > MaxLineLength {
			return // padding made it too long to be a line; nothing to compare
		}
		r2, err := ParseLine(out, nil)
		if err != nil {
			t.Fatalf("ParseLine(%q) (from %q): %v", out, line, err)
		}
		if !sameReading(r, r2) {
			t.Fatalf("%q printed as %q parses to a different reading", line, out)
		}
	})
}

// FuzzSplit checks the SplitFunc contract: advance within data, the token a
// slice of data without line ends, progress on long input and at the end,
// and the same lines however the input is cut into reads.
func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s+"\r\n"+s+"\n"+s+"\r"), true)
		f.Add([]byte(s), false)
	}
	f.Add(bytes.Repeat([]byte("x"), MaxLineLength+3), false)
	f.Fuzz(func(t *testing.T, data []byte, atEOF bool) {
		var s Splitter
		adv, tok, err := s.Split(data, atEOF)
		if adv < 0 || adv > len(data) {
			t.Fatalf("advance %d outside 0..%d", adv, len(data))
		}
		if err != nil && (!errors.Is(err, ErrTruncated) || !atEOF) {
			t.Fatalf("unexpected error %v (atEOF %v)", err, atEOF)
		}
		if tok != nil {
			start := adv - 1 - len(tok)
			if start < 0 || !bytes.Equal(data[start:adv-1], tok) || bytes.ContainsAny(tok, "\r\n") || len(tok) > MaxLineLength {
				t.Fatalf("token %q is not the line before advance %d", tok, adv)
			}
			if len(tok) > 0 && &tok[0] != &data[start] {
				t.Fatalf("token is a copy, not a slice of data")
			}
		}
		if len(data) > MaxLineLength && adv == 0 {
			t.Fatalf("no progress on %d bytes", len(data))
		}
		if atEOF && len(data) > 0 && adv == 0 && err == nil {
			t.Fatalf("no progress at end of input")
		}

		whole, ws, werr := scan(bytes.NewReader(data))
		one, os, oerr := scan(iotest.OneByteReader(bytes.NewReader(data)))
		if len(whole) != len(one) || ws != os || (werr == nil) != (oerr == nil) {
			t.Fatalf("whole read: %q %+v %v; one-byte reads: %q %+v %v", whole, ws, werr, one, os, oerr)
		}
		for i := range whole {
			if whole[i] != one[i] {
				t.Fatalf("line %d: %q vs %q", i, whole[i], one[i])
			}
		}
	})
}

func scan(r interface{ Read([]byte) (int, error) }) ([]string, Splitter, error) {
	var s Splitter
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16), 2*MaxLineLength)
	sc.Split(s.Split)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, s, sc.Err()
}
