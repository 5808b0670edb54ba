package hl7v2

import (
	"errors"
	"testing"
)

func TestUnescape(t *testing.T) {
	d := DefaultDelimiters
	for _, tc := range []struct{ in, want string }{
		{`plain`, `plain`},
		{`a\F\b\S\c\T\d\R\e\E\f`, `a|b^c&d~e\f`},
		{`\X0D0A\`, "\r\n"},
		{`\XC3A9\t\H\bold\N\`, "ét" + "bold"},
		{`line\.br\two`, "line\ntwo"},
		{`\Q\`, `\Q\`},     // unknown escape kept
		{`\X0G\`, `\X0G\`}, // bad hex kept
		{`tail\`, `tail\`}, // unterminated kept
		{`\\`, `\\`},
	} {
		if got := Unescape(tc.in, d); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, s := range []string{"a|b^c&d~e\\f", "", "\\F\\"} {
		if got := Unescape(Escape(s, d), d); got != s {
			t.Errorf("Unescape(Escape(%q)) = %q", s, got)
		}
	}
}

func TestParseFieldsAndOtherDelimiters(t *testing.T) {
	// The same message with the usual delimiters and with others: what is
	// read must not depend on which the sender chose.
	for _, tc := range []struct{ name, msg string }{
		{"usual", "MSH|^~\\&|APP^1.2.3^ISO|FAC|||20260101120000||ORU^R01|C1|P|2.6\rPID|1||111^^^NHS^NH~H9^^^RXX^MR\rOBX|1|NM|x\\S\\y\\F\\z"},
		{"other", "MSH#$*!@#APP$1.2.3$ISO#FAC###20260101120000##ORU$R01#C1#P#2.6\nPID#1##111$$$NHS$NH*H9$$$RXX$MR\r\nOBX#1#NM#x!S!y!F!z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Segments) != 3 {
				t.Fatalf("%d segments, want 3", len(m.Segments))
			}
			msh := m.Segments[0]
			if got := msh.C(3, 2); got != "1.2.3" {
				t.Errorf("MSH-3.2 = %q", got)
			}
			if got := msh.Get(10, 1, 0, 0); got != "C1" {
				t.Errorf("MSH-10 = %q", got)
			}
			pid, _ := m.First("PID")
			if pid.Reps(3) != 2 || pid.Get(3, 2, 1, 0) != "H9" || pid.Get(3, 1, 5, 0) != "NH" {
				t.Errorf("PID-3 reps %d, rep 2 %q, rep 1 type %q", pid.Reps(3), pid.Get(3, 2, 1, 0), pid.Get(3, 1, 5, 0))
			}
			obx, _ := m.First("OBX")
			want := "x" + string(m.Delims.Component) + "y" + string(m.Delims.Field) + "z"
			if got := obx.C(3, 1); got != want {
				t.Errorf("escaped OBX-3 = %q, want %q", got, want)
			}
			if obx.Raw(99) != "" || obx.C(3, 9) != "" || obx.Get(3, 4, 1, 1) != "" {
				t.Error("absent parts must be empty")
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		want      error
	}{
		{"empty", "", ErrNoMSH},
		{"no MSH", "PID|1||123\rOBX|1", ErrNoMSH},
		{"wrong field separator", "MSH^~\\&|APP|FAC|||x||ORU^R01|1|P|2.6", ErrDelimiters},
		{"too few encoding characters", "MSH|^~|APP|FAC", ErrDelimiters},
		{"repeated delimiter", "MSH|^^\\&|APP|FAC", ErrDelimiters},
		{"letter as delimiter", "MSH|^~\\A|APP|FAC", ErrDelimiters},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.msg))
			var pe *ParseError
			if !errors.Is(err, tc.want) || !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError wrapping %v", err, tc.want)
			}
		})
	}
}
