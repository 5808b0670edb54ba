package news2

import "testing"

// verhoeffValid reports whether s ends in a correct Verhoeff check digit,
// as every SNOMED CT identifier does.
func verhoeffValid(s string) bool {
	d := [10][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	p := [8][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	c := 0
	for i := range len(s) {
		ch := s[len(s)-1-i]
		if ch < '0' || ch > '9' {
			return false
		}
		c = d[c][p[i%8][ch-'0']]
	}
	return c == 0
}

func TestVerhoeffOnKnownSNOMEDCodes(t *testing.T) {
	// Codes from the vital-signs table, outside this package, and one
	// corrupted digit.
	for _, tt := range []struct {
		code string
		ok   bool
	}{{"86290005", true}, {"78564009", true}, {"431314004", true}, {"86290006", false}, {"1104051000000102", false}} {
		if got := verhoeffValid(tt.code); got != tt.ok {
			t.Errorf("verhoeffValid(%s) = %v, want %v", tt.code, got, tt.ok)
		}
	}
}

func TestCodes(t *testing.T) {
	all := map[string]string{
		"total": CodeTotal, "acvpu": CodeACVPU, "room air": CodeRoomAir,
	}
	for _, p := range Parameters() {
		c := p.ScoreCode()
		if c == "" {
			t.Errorf("%v has no sub-score code", p)
		}
		all[p.String()] = c
	}
	for _, a := range []ACVPU{Alert, Confusion, Voice, Pain, Unresponsive} {
		all["acvpu "+a.String()] = a.Code()
	}
	seen := map[string]string{}
	for name, c := range all {
		if !verhoeffValid(c) {
			t.Errorf("%s code %s fails the SNOMED CT check digit", name, c)
		}
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share code %s", name, other, c)
		}
		seen[c] = name
	}
	if Parameter(0).ScoreCode() != "" || ACVPU(0).Code() != "" {
		t.Error("invalid values have codes")
	}
	// Spot checks against the UK Core NEWS2 example (output-standards §4.3).
	if CodeTotal != "1104051000000101" || Pulse.ScoreCode() != "1104351000000103" || SpO2Scale1.ScoreCode() != "1104311000000102" {
		t.Error("codes differ from the UK Core NEWS2 example")
	}
}
