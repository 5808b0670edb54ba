package hl7v2

import (
	"errors"
	"math"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

// FuzzParseORU checks that ParseORU never panics, fails only with a
// *ParseError, and that no absent or flagged-invalid value ever carries a
// number it should not: a nil value always says why, and every number is
// finite.
func FuzzParseORU(f *testing.F) {
	f.Add([]byte(pcd01))
	f.Add([]byte("MSH|^~\\&|A|B|||20260101||ORU^R01|1|P|2.3\nOBR|1\nOBX|1|NM|1^^MDC||\\X41\\|\\E\\"))
	f.Add([]byte("MSH#$*!@#A###2026##ORU$R01#x#P#2.5\rOBR#1\rOBX#1#NM#150456$MDC_X$MDC##-0.5"))
	f.Add([]byte("PID|1"))
	for _, msgs := range samples(f) {
		for _, m := range msgs {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		oru, err := ParseORU(data, Options{Codes: acmeCodes})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		if oru.Header.ControlID == "" {
			t.Fatal("accepted a message without MSH-10")
		}
		for _, r := range oru.Readings {
			if len(r.Values) == 0 || r.Device.Driver != DriverName {
				t.Fatalf("reading without values or driver: %+v", r)
			}
			for _, v := range r.Values {
				if v.Value == nil && v.Status&(drivers.Unavailable|drivers.Invalid) == 0 {
					t.Fatalf("nil value without a reason: %+v", v)
				}
				if v.Value != nil && (math.IsNaN(*v.Value) || math.IsInf(*v.Value, 0)) {
					t.Fatalf("non-finite number %v", *v.Value)
				}
			}
		}
	})
}

// FuzzUnescape checks that escaping then unescaping gives back the text.
func FuzzUnescape(f *testing.F) {
	f.Add("a|b^c&d~e\\f")
	f.Add("\\X0D\\")
	f.Fuzz(func(t *testing.T, s string) {
		if got := Unescape(Escape(s, DefaultDelimiters), DefaultDelimiters); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
		_ = Unescape(s, DefaultDelimiters)
	})
}
