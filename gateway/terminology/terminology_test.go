package terminology

import (
	"strings"
	"testing"
)

// Term codes of IEEE 11073-10101, written independently of the table's
// decimal codes (most as listed in IEEE 11073-20601 agent headers, the rest
// from published PCD-01 messages): the table must agree with
// partition<<16 | term for each.
var scadaTerms = map[string]uint16{
	"MDC_ECG_HEART_RATE":        16770,
	"MDC_PULS_RATE":             18442,
	"MDC_PULS_OXIM_PULS_RATE":   18458,
	"MDC_PULS_RATE_NON_INV":     18474,
	"MDC_PRESS_BLD_SYS":         18945,
	"MDC_PRESS_BLD_NONINV":      18948,
	"MDC_PRESS_BLD_NONINV_SYS":  18949,
	"MDC_PRESS_BLD_NONINV_DIA":  18950,
	"MDC_PRESS_BLD_NONINV_MEAN": 18951,
	"MDC_PRESS_BLD_ART":         18960,
	"MDC_PRESS_BLD_ART_SYS":     18961,
	"MDC_PRESS_BLD_ART_DIA":     18962,
	"MDC_PRESS_BLD_ART_MEAN":    18963,
	"MDC_TEMP":                  19272,
	"MDC_TEMP_BODY":             19292,
	"MDC_TEMP_CORE":             19296,
	"MDC_TEMP_TYMP":             19320,
	"MDC_PULS_OXIM_SAT_O2":      19384,
	"MDC_PULS_OXIM_PERF_REL":    19376,
	"MDC_BLD_PERF_INDEX":        19416,
	"MDC_RESP_RATE":             20490,
	"MDC_AWAY_RESP_RATE":        20498,
	"MDC_TTHOR_RESP_RATE":       20506,
	"MDC_CO2_RESP_RATE":         20522,
	"MDC_AWAY_CO2_ET":           20636,
	"MDC_TEMP_RECT":             57348,
	"MDC_TEMP_ORAL":             57352,
	"MDC_TEMP_EAR":              57356,
	"MDC_TEMP_AXILLA":           57380,
}

var dimTerms = map[string]uint16{
	"MDC_DIM_PERCENT":      544,
	"MDC_DIM_BEAT_PER_MIN": 2720,
	"MDC_DIM_RESP_PER_MIN": 2784,
	"MDC_DIM_KILO_PASCAL":  3843,
	"MDC_DIM_MMHG":         3872,
	"MDC_DIM_FAHR":         4416,
	"MDC_DIM_DEGC":         6048,
}

// What each core FHIR profile fixes (FHIR R4 §observation-vitalsigns).
var profileRules = map[string]struct {
	loinc string
	units []string
}{
	ProfileHeartRate: {"8867-4", []string{"/min"}},
	ProfileRespRate:  {"9279-1", []string{"/min"}},
	ProfileOxygenSat: {"2708-6", []string{"%"}},
	ProfileBodyTemp:  {"8310-5", []string{"Cel", "[degF]"}},
	ProfileBP:        {"85354-9", []string{"mm[Hg]"}},
}

var ukCoreLOINC = map[string]string{
	UKCoreHeartRate:       "8867-4",
	UKCoreRespirationRate: "9279-1",
	UKCoreOxygenSat:       "2708-6",
	UKCoreBodyTemperature: "8310-5",
	UKCoreBloodPressure:   "85354-9",
}

func TestTableOrderAndPartitions(t *testing.T) {
	all := All()
	if len(all) == 0 {
		t.Fatal("empty table")
	}
	for i, v := range all {
		if i > 0 && all[i-1].MDC >= v.MDC {
			t.Errorf("table not strictly sorted at %d (%d after %d): Lookup would miss entries", v.MDC, v.MDC, all[i-1].MDC)
		}
		part, term := SplitMDC(v.MDC)
		if part != PartitionSCADA {
			t.Errorf("%d %s: partition %d, want SCADA (%d)", v.MDC, v.Ref, part, PartitionSCADA)
		}
		want, ok := scadaTerms[v.Ref]
		if !ok {
			t.Errorf("%d %s: RefID has no independent term code in this test", v.MDC, v.Ref)
		} else if term != want || MDCCode(PartitionSCADA, want) != v.MDC {
			t.Errorf("%s: code %d, want partition 2 term %d = %d", v.Ref, v.MDC, want, MDCCode(PartitionSCADA, want))
		}
		if !strings.HasPrefix(v.Ref, "MDC_") || v.Display == "" {
			t.Errorf("%d: RefID %q or display %q malformed", v.MDC, v.Ref, v.Display)
		}
	}
	if len(all) != len(scadaTerms) {
		t.Errorf("table has %d entries, test knows %d codes", len(all), len(scadaTerms))
	}
}

func TestTableUnits(t *testing.T) {
	for _, v := range All() {
		if len(v.Units) == 0 {
			t.Errorf("%s: no unit", v.Ref)
		}
		for _, u := range v.Units {
			part, term := SplitMDC(u.MDC)
			want, ok := dimTerms[u.MDCRef]
			switch {
			case !ok:
				t.Errorf("%s: unit %s has unknown RefID %q", v.Ref, u.UCUM, u.MDCRef)
			case part != PartitionDIM || term != want:
				t.Errorf("%s: unit %s code %d, want partition 4 term %d = %d", v.Ref, u.MDCRef, u.MDC, want, MDCCode(PartitionDIM, want))
			}
			if u.UCUM == "" || u.Display == "" {
				t.Errorf("%s: unit %+v lacks UCUM code or display", v.Ref, u)
			}
			if got, ok := v.Unit(u.UCUM); !ok || got != u {
				t.Errorf("%s: Unit(%q) = %+v, %v", v.Ref, u.UCUM, got, ok)
			}
			if g, ok := UnitByUCUM(u.UCUM); !ok || g.UCUM != u.UCUM || g.Display != u.Display {
				t.Errorf("UnitByUCUM(%q) = %+v, %v", u.UCUM, g, ok)
			}
		}
		// Rates share /min but not the MDC dimension.
		if strings.Contains(v.Ref, "RESP_RATE") && v.Units[0].MDCRef != "MDC_DIM_RESP_PER_MIN" {
			t.Errorf("%s: respiratory rate in %s", v.Ref, v.Units[0].MDCRef)
		}
		if strings.Contains(v.Ref, "PULS_RATE") || v.Ref == "MDC_ECG_HEART_RATE" {
			if v.Units[0].MDCRef != "MDC_DIM_BEAT_PER_MIN" {
				t.Errorf("%s: pulse/heart rate in %s", v.Ref, v.Units[0].MDCRef)
			}
		}
	}
}

func TestTableProfiles(t *testing.T) {
	for _, v := range All() {
		if !v.IsVitalSign() {
			if v.Profile != "" || v.UKCoreProfile != "" || !v.SNOMED.IsZero() {
				t.Errorf("%s: device observation claims profile %q / %q or SNOMED %q", v.Ref, v.Profile, v.UKCoreProfile, v.SNOMED.Code)
			}
			continue
		}
		for _, c := range v.LOINC {
			if c.System != SystemLOINC || c.Code == "" || c.Display == "" {
				t.Errorf("%s: bad LOINC coding %+v", v.Ref, c)
			}
		}
		if v.Profile == "" {
			t.Errorf("%s: vital sign without a core profile", v.Ref)
		}
		if r, ok := profileRules[v.Profile]; ok {
			if v.LOINC[0].Code != r.loinc {
				t.Errorf("%s: profile %s fixes LOINC %s, first coding is %s", v.Ref, v.Profile, r.loinc, v.LOINC[0].Code)
			}
			for _, u := range v.Units {
				if !contains(r.units, u.UCUM) {
					t.Errorf("%s: profile %s does not allow unit %s", v.Ref, v.Profile, u.UCUM)
				}
			}
		}
		if v.UKCoreProfile != "" {
			if v.SNOMED.IsZero() {
				t.Errorf("%s: UK Core %s needs a SNOMED coding", v.Ref, v.UKCoreProfile)
			}
			if want := ukCoreLOINC[v.UKCoreProfile]; v.LOINC[0].Code != want {
				t.Errorf("%s: UK Core %s fixes LOINC %s", v.Ref, v.UKCoreProfile, want)
			}
		}
		if !v.SNOMED.IsZero() {
			if v.SNOMED.System != SystemSNOMED || !validSCTID(v.SNOMED.Code) {
				t.Errorf("%s: SNOMED %+v is not a well-formed concept id", v.Ref, v.SNOMED)
			}
		}
		if v.IsPanel() {
			roles := map[Role]bool{}
			for _, c := range v.Components {
				p, ok := Lookup(c)
				if !ok {
					t.Errorf("%s: component %d not in table", v.Ref, c)
					continue
				}
				roles[p.Role] = true
				if p.Units[0].UCUM != v.Units[0].UCUM {
					t.Errorf("%s: component %s unit %s differs", v.Ref, p.Ref, p.Units[0].UCUM)
				}
			}
			if !roles[Systolic] || !roles[Diastolic] {
				t.Errorf("%s: panel lacks a systolic or diastolic component", v.Ref)
			}
		}
		if v.Role != NoRole && v.Units[0].UCUM != "mm[Hg]" {
			t.Errorf("%s: blood-pressure role %s in %s", v.Ref, v.Role, v.Units[0].UCUM)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		mdc     uint32
		ok      bool
		loinc   string
		snomed  string
		ucum    string
		profile string
		vital   bool
	}{
		{"SpO2 has the oxygensat slice code first", 150456, true, "2708-6", "431314004", "%", ProfileOxygenSat, true},
		{"oximeter pulse rate is a heart rate", 149530, true, "8867-4", "78564009", "/min", ProfileHeartRate, true},
		{"NIBP pulse rate", 149546, true, "8867-4", "78564009", "/min", ProfileHeartRate, true},
		{"unspecified pulse rate", 149514, true, "8867-4", "78564009", "/min", ProfileHeartRate, true},
		{"ECG heart rate", 147842, true, "8867-4", "364075005", "/min", ProfileHeartRate, true},
		{"impedance respiratory rate", 151578, true, "9279-1", "86290005", "/min", ProfileRespRate, true},
		{"NIBP panel", 150020, true, "85354-9", "75367002", "mm[Hg]", ProfileBP, true},
		{"invasive arterial panel", 150032, true, "85354-9", "", "mm[Hg]", ProfileBP, true},
		{"NIBP mean", 150023, true, "8478-0", "", "mm[Hg]", ProfileVitalSigns, true},
		{"invasive arterial systolic", 150033, true, "8480-6", "", "mm[Hg]", ProfileVitalSigns, true},
		{"generic temperature", 150344, true, "8310-5", "", "Cel", ProfileBodyTemp, true},
		{"axillary temperature", 188452, true, "8310-5", "415882003", "Cel", ProfileBodyTemp, true},
		{"end-tidal CO2 in mmHg first", 151708, true, "19891-1", "250790007", "mm[Hg]", ProfileVitalSigns, true},
		{"perfusion index is a device observation", 150448, true, "", "", "%", "", false},
		{"PCD-01 perfusion index code", 150488, true, "", "", "%", "", false},
		{"unknown code", 150017 + 1000, false, "", "", "", "", false},
		{"zero", 0, false, "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := Lookup(tt.mdc)
			if ok != tt.ok {
				t.Fatalf("Lookup(%d) ok = %v, want %v", tt.mdc, ok, tt.ok)
			}
			if !ok {
				return
			}
			if v.MDC != tt.mdc {
				t.Errorf("MDC = %d", v.MDC)
			}
			var loinc string
			if len(v.LOINC) > 0 {
				loinc = v.LOINC[0].Code
			}
			if loinc != tt.loinc || v.SNOMED.Code != tt.snomed || v.Units[0].UCUM != tt.ucum || v.Profile != tt.profile || v.IsVitalSign() != tt.vital {
				t.Errorf("got LOINC %q SNOMED %q unit %q profile %q vital %v", loinc, v.SNOMED.Code, v.Units[0].UCUM, v.Profile, v.IsVitalSign())
			}
		})
	}
}

func TestPanelOf(t *testing.T) {
	tests := []struct {
		component, panel uint32
		ok               bool
	}{
		{150021, 150020, true}, {150022, 150020, true}, {150023, 150020, true},
		{150033, 150032, true}, {150034, 150032, true}, {150035, 150032, true},
		{150020, 0, false}, {150456, 0, false}, {0, 0, false},
	}
	for _, tt := range tests {
		p, ok := PanelOf(tt.component)
		if ok != tt.ok || p.MDC != tt.panel {
			t.Errorf("PanelOf(%d) = %d, %v; want %d, %v", tt.component, p.MDC, ok, tt.panel, tt.ok)
		}
		if ok && !p.IsPanel() {
			t.Errorf("PanelOf(%d): %s is not a panel", tt.component, p.Ref)
		}
	}
}

func TestLookupReturnsCopy(t *testing.T) {
	v, _ := Lookup(150456)
	v.LOINC[0].Code = "changed"
	v.Units[0].UCUM = "changed"
	again, _ := Lookup(150456)
	if again.LOINC[0].Code != "2708-6" || again.Units[0].UCUM != "%" {
		t.Fatalf("Lookup result aliases the table: %+v", again)
	}
}

func TestRoleString(t *testing.T) {
	for r, want := range map[Role]string{NoRole: "none", Systolic: "systolic", Diastolic: "diastolic", Mean: "mean"} {
		if r.String() != want {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validSCTID checks a SNOMED CT concept id: 6–18 digits, partition
// identifier 00 or 10 (concept), Verhoeff check digit.
func validSCTID(id string) bool {
	if len(id) < 6 || len(id) > 18 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	if p := id[len(id)-3 : len(id)-1]; p != "00" && p != "10" {
		return false
	}
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
	for i := 0; i < len(id); i++ {
		c = d[c][p[i%8][int(id[len(id)-1-i]-'0')]]
	}
	return c == 0
}

func TestValidSCTIDRejectsTypos(t *testing.T) {
	if !validSCTID("364075005") || validSCTID("364075006") || validSCTID("12345") {
		t.Fatal("Verhoeff check in this test is wrong")
	}
}
