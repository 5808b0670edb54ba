package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

// intellivueVectors is where the private IntelliVue capture lives: never in
// this repository, beside it in ../shared.
func intellivueVectors(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("INTELLIVUE_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vectors", "intellivue")
	}
	if _, err := os.Stat(filepath.Join(dir, "MPRawoutput1.raw")); err != nil {
		t.Skipf("the private IntelliVue capture is not here (%v): set INTELLIVUE_VECTORS or put ../shared beside the repository", err)
	}
	return dir
}

// TestDecodeIntelliVueCapture runs "bedgate decode --driver intellivue" on a
// real monitor's serial capture and compares every numeric, in order, with
// an independent decoder's output (pymind): same count, codes, states and
// values.
func TestDecodeIntelliVueCapture(t *testing.T) {
	dir := intellivueVectors(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"decode", "--driver", "intellivue", filepath.Join(dir, "MPRawoutput1.raw")}, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "2887 frames, 1 rejected") {
		t.Errorf("decode summary %q: want 2887 frames and the one truncated frame at the end rejected", errOut.String())
	}

	type numeric struct {
		mdc    uint32
		value  *float64
		status drivers.Status
	}
	var got []numeric
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line decoded
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("decode output %q: %v", sc.Text(), err)
		}
		if line.Device.Driver != "intellivue" || line.Device.Model != "M8000" || line.DeviceTime == nil {
			t.Fatalf("reading without identity or time: %s", sc.Text())
		}
		for _, v := range line.Values {
			got = append(got, numeric{v.MDC, v.Value, v.Status})
		}
	}

	f, err := os.Open(filepath.Join(dir, "MPRawoutput1.numerics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []numeric
	type oracleNumeric struct {
		PhysioID uint32   `json:"physio_id"`
		State    uint16   `json:"state"`
		Value    *float64 `json:"value"`
	}
	oracle := bufio.NewScanner(f)
	oracle.Buffer(make([]byte, 1<<20), 1<<20)
	for oracle.Scan() {
		var line struct {
			Numerics []oracleNumeric `json:"numerics"`
		}
		if err := json.Unmarshal(oracle.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		for _, n := range line.Numerics {
			var st drivers.Status
			if n.State&0x8000 != 0 {
				st |= drivers.Invalid
			}
			if n.State&0x2000 != 0 || n.Value == nil {
				st |= drivers.Unavailable
			}
			want = append(want, numeric{2<<16 | n.PhysioID, n.Value, st})
		}
	}
	if len(got) != len(want) || len(want) != 5776 {
		t.Fatalf("decoded %d numerics, the independent decoder %d (expected 5776)", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		switch {
		case g.mdc != w.mdc:
			t.Fatalf("numeric %d: MDC %d, want %d", i, g.mdc, w.mdc)
		case (g.value == nil) != (w.value == nil) || (g.value != nil && *g.value != *w.value):
			t.Fatalf("numeric %d (MDC %d): value %v, want %v", i, g.mdc, g.value, w.value)
		case g.status&(drivers.Invalid|drivers.Unavailable) != w.status:
			t.Fatalf("numeric %d (MDC %d): status %v, want %v", i, g.mdc, g.status, w.status)
		}
	}
}
