package dri

import (
	"bytes"
	"context"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

// fuzzSeeds are the Appendix A frames and the built response records.
func fuzzSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{{}, {Flag}, {Flag, Flag}, {Flag, Control, Flag}}
	for _, v := range appendixA {
		seeds = append(seeds, unhex(t, v.hex))
	}
	seeds = append(seeds,
		frame(record(11, t0, []byte{1, 1}, basicSub(t0)[:], newSub(t0, 2).values(0, DataInvalid)[:])),
		frame(record(11, t0, []byte{4, 1}, make([]byte, 114), basicSub(t0)[:])),
		frame(record(11, t0, []byte{9}, []byte{1, 2, 3})))
	return seeds
}

func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, atEOF := range []bool{false, true} {
			adv, tok, err := Split(data, atEOF)
			if adv < 0 || adv > len(data) || (adv == 0 && tok != nil) || (err != nil && !atEOF) {
				t.Fatalf("Split(%d bytes, %v) = %d, %d bytes, %v", len(data), atEOF, adv, len(tok), err)
			}
			if bytes.IndexByte(tok, Flag) >= 0 || len(tok) > MaxFrame {
				t.Fatalf("token of %d bytes holds a flag or is too long", len(tok))
			}
			if adv == 0 && len(data) > MaxFrame {
				t.Fatalf("holds %d bytes", len(data))
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		_, err := Decode(context.Background(), bytes.NewReader(wire), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
			for _, v := range r.Values {
				if v.Value != nil && (v.Status&drivers.Unavailable != 0 || *v.Value*100 <= DataInvalidLimit) {
					t.Fatalf("a reserved or unavailable value has a number: %+v", v)
				}
				if v.Value == nil && v.Status == 0 {
					t.Fatalf("a value without a number and without a reason: %+v", v)
				}
			}
			return nil
		}), quiet())
		if err != nil {
			t.Fatalf("Decode of bytes: %v", err)
		}
	})
}
