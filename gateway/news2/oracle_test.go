package news2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// oracleEnv names the environment variable that points at Open e-Obs'
// nh_ews/ews.py (github.com/openeobs/openeobs), an independent NEWS
// implementation used as a cross-check of the Scale 1 bands.
const oracleEnv = "NEWS2_OPENEOBS_EWS"

// oracleHarness loads ews.py with the Odoo modules it imports replaced by
// inert stand-ins, and calls its calculate_score on each JSON case read
// from standard input, writing the answers as a JSON array.
const oracleHarness = `
import importlib.util, json, sys, types

class Inert:
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k):
        if len(a) == 1 and callable(a[0]) and not k:
            return a[0]  # used as a decorator: keep the function
        return Inert()
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return object if name == 'Model' else Inert()

class InertModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return Inert()

for name in ['openerp', 'openerp.api', 'openerp.addons', 'openerp.addons.nh_observations',
             'openerp.addons.nh_observations.frequencies', 'openerp.osv', 'openerp.osv.orm',
             'openerp.osv.fields', 'openerp.tools']:
    sys.modules[name] = InertModule(name)

spec = importlib.util.spec_from_file_location('ews', sys.argv[1])
ews = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ews)
model = object.__new__(ews.nh_clinical_patient_observation_ews)
print(json.dumps([model.calculate_score(case) for case in json.load(sys.stdin)]))
`

// oracleCase is one input of calculate_score; absent fields are omitted.
type oracleCase struct {
	RespRate    float64 `json:"respiration_rate,omitempty"`
	SpO2        float64 `json:"indirect_oxymetry_spo2,omitempty"`
	Temperature float64 `json:"body_temperature,omitempty"`
	Systolic    float64 `json:"blood_pressure_systolic,omitempty"`
	Pulse       float64 `json:"pulse_rate,omitempty"`
	Oxygen      bool    `json:"oxygen_administration_flag,omitempty"`
	AVPU        string  `json:"avpu_text,omitempty"`
}

type oracleAnswer struct {
	Score      int    `json:"score"`
	ThreeInOne bool   `json:"three_in_one"`
	Risk       string `json:"clinical_risk"`
}

func runOracle(t *testing.T, ewsPath string, cases []oracleCase) []oracleAnswer {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; cannot run the Open e-Obs oracle")
	}
	harness := filepath.Join(t.TempDir(), "harness.py")
	if err := os.WriteFile(harness, []byte(oracleHarness), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, harness, ewsPath)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	var answers []oracleAnswer
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	if len(answers) != len(cases) {
		t.Fatalf("oracle answered %d of %d cases", len(answers), len(cases))
	}
	return answers
}

// TestOpenEObsOracle compares Scale 1 sub-scores and aggregates with Open
// e-Obs. Open e-Obs predates NEWS2's Scale 2 and new confusion, so those
// are not compared, and it bands raw values, so only values already at the
// chart's resolution are compared.
func TestOpenEObsOracle(t *testing.T) {
	ewsPath := os.Getenv(oracleEnv)
	if ewsPath == "" {
		t.Skipf("independent oracle not run: set %s to the path of nh_ews/ews.py from github.com/openeobs/openeobs", oracleEnv)
	}

	// Single-parameter sweeps: the oracle's score is then the sub-score.
	type sweep struct {
		p      Parameter
		values []float64
		cases  func(v float64) oracleCase
	}
	ints := func(lo, hi int) []float64 {
		var vs []float64
		for v := lo; v <= hi; v++ {
			vs = append(vs, float64(v))
		}
		return vs
	}
	var temps []float64
	for tenths := 250; tenths <= 450; tenths++ {
		temps = append(temps, float64(tenths)/10)
	}
	sweeps := []sweep{
		{RespRate, ints(1, 70), func(v float64) oracleCase { return oracleCase{RespRate: v} }},
		{SpO2Scale1, ints(1, 100), func(v float64) oracleCase { return oracleCase{SpO2: v} }},
		{SystolicBP, ints(1, 300), func(v float64) oracleCase { return oracleCase{Systolic: v} }},
		{Pulse, ints(1, 250), func(v float64) oracleCase { return oracleCase{Pulse: v} }},
		{Temperature, temps, func(v float64) oracleCase { return oracleCase{Temperature: v} }},
	}
	var cases []oracleCase
	type key struct {
		p Parameter
		v float64
	}
	var keys []key
	for _, s := range sweeps {
		for _, v := range s.values {
			cases = append(cases, s.cases(v))
			keys = append(keys, key{s.p, v})
		}
	}
	answers := runOracle(t, ewsPath, cases)
	compared := 0
	for i, k := range keys {
		got, err := SubScore(k.p, k.v)
		if err != nil {
			t.Fatalf("SubScore(%v, %v): %v", k.p, k.v, err)
		}
		if got != answers[i].Score {
			t.Errorf("%v %v: SubScore %d, Open e-Obs %d", k.p, k.v, got, answers[i].Score)
		}
		compared++
	}

	// Whole sets: aggregate, red score, and risk under Open e-Obs' NEWS
	// (2012) policy, which puts a red score in its medium band.
	rng := rand.New(rand.NewPCG(2017, 2))
	levels := []ACVPU{Alert, Voice, Pain, Unresponsive}
	var sets []vitals
	cases = cases[:0]
	for range 3000 {
		v := vitals{
			rr:    float64(rng.IntN(40) + 1),
			spo2:  float64(rng.IntN(20) + 81),
			on:    []Breathing{Air, Oxygen}[rng.IntN(2)],
			sbp:   float64(rng.IntN(200) + 60),
			hr:    float64(rng.IntN(170) + 30),
			acvpu: levels[rng.IntN(len(levels))],
			temp:  float64(rng.IntN(90)+330) / 10,
		}
		sets = append(sets, v)
		cases = append(cases, oracleCase{RespRate: v.rr, SpO2: v.spo2, Temperature: v.temp, Systolic: v.sbp,
			Pulse: v.hr, Oxygen: v.on == Oxygen, AVPU: v.acvpu.String()})
	}
	answers = runOracle(t, ewsPath, cases)
	for i, v := range sets {
		r, err := Score(v.set(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		a := answers[i]
		want := map[Band]string{BandLow: "Low", BandLowMedium: "Medium", BandMedium: "Medium", BandHigh: "High"}[r.Band]
		if r.Total == 0 {
			want = "None"
		}
		if r.Total != a.Score || r.Red() != a.ThreeInOne || want != a.Risk {
			t.Errorf("%+v: total %d red %v band %v; Open e-Obs %+v", v, r.Total, r.Red(), r.Band, a)
		}
		compared++
	}
	t.Log(fmt.Sprintf("compared %d cases with Open e-Obs", compared))
}
