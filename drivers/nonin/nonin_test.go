package nonin

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

func quiet() drivers.Options {
	return drivers.Options{Logger: slog.New(slog.DiscardHandler)}.WithDefaults()
}

func ptr(v int) *int { return &v }

// packetBytes builds the wire bytes of one packet of format f with the
// given heart rate and SpO2 (nil: missing) and status bits on every frame.
func packetBytes(f Format, hr, spo2 *int, status byte) []byte {
	h, s := MissingHR, MissingSpO2
	if hr != nil {
		h = *hr
	}
	if spo2 != nil {
		s = *spo2
	}
	floats := map[int]byte{0: byte(h >> 7), 1: byte(h & 0x7F), 2: byte(s), 3: 48}
	var out []byte
	for i := range PacketFrames {
		st := StatusAlways | status
		if i == 0 {
			st |= StatusSYNC
		}
		out = AppendFrame(out, f, Frame{Status: st, Pleth: uint16(100 + i), Float: floats[i]})
	}
	return out
}

func decodeAll(t *testing.T, f Format, wire []byte) ([]drivers.Reading, drivers.Stats) {
	t.Helper()
	var got []drivers.Reading
	st, err := Decode(t.Context(), bytes.NewReader(wire), f, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got = append(got, r)
		return nil
	}), quiet())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return got, st
}

func TestDecodeFormats(t *testing.T) {
	noise := []byte{0x00, 0xFF, 0x01, 0x13}
	tests := []struct {
		name      string
		format    Format
		wire      []byte
		spo2, hr  *float64
		status    drivers.Status
		devStatus string
	}{
		{"df2 good", DF2, packetBytes(DF2, ptr(72), ptr(97), StatusGPRF), drivers.Float(97), drivers.Float(72), 0, "STATUS=82"},
		{"df2 after noise", DF2, append(noise, packetBytes(DF2, ptr(300), ptr(88), StatusGPRF)...), drivers.Float(88), drivers.Float(300), 0, "STATUS=82"},
		{"df2 artefact, yellow", DF2, packetBytes(DF2, ptr(130), ptr(80), StatusARTF|StatusRPRF|StatusGPRF), drivers.Float(80), drivers.Float(130), drivers.Questionable, "STATUS=A6"},
		{"df2 sensor off", DF2, packetBytes(DF2, nil, nil, StatusSNSD), nil, nil, drivers.SensorOff | drivers.Invalid | drivers.Unavailable, "STATUS=C0"},
		{"df2 out of track", DF2, packetBytes(DF2, nil, nil, StatusOOT), nil, nil, drivers.Invalid | drivers.Unavailable, "STATUS=90"},
		{"df7 good", DF7, packetBytes(DF7, ptr(61), ptr(99), StatusGPRF), drivers.Float(99), drivers.Float(61), 0, "STATUS=82 STATUS2=00"},
		{"df7 sensor alarm", DF7, append(noise, packetBytes(DF7, ptr(61), ptr(99), StatusSNSA)...), drivers.Float(99), drivers.Float(61), drivers.Invalid, "STATUS=88 STATUS2=00"},
		{"df8 good", DF8, AppendRecord(nil, Record{HRD: ptr(260), SpO2D: ptr(95)}), drivers.Float(95), drivers.Float(260), 0, "STATUS=80 STATUS2=00"},
		{"df8 low perfusion", DF8, append(noise[:2], AppendRecord(nil, Record{Status: Status8LPRF, HRD: ptr(50), SpO2D: ptr(91)})...), drivers.Float(91), drivers.Float(50), drivers.Questionable, "STATUS=90 STATUS2=00"},
		{"df8 sensor alarm", DF8, AppendRecord(nil, Record{Status2: Status2SNSA | Status2LowBat}), nil, nil, drivers.Invalid | drivers.Unavailable, "STATUS=80 STATUS2=09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := decodeAll(t, tt.format, tt.wire)
			if len(got) != 1 {
				t.Fatalf("%d readings, want 1 (stats %+v)", len(got), st)
			}
			r := got[0]
			if r.Device.Driver != tt.format.Name() || r.DeviceStatus != tt.devStatus || !r.DeviceTime.IsZero() || r.ReceivedAt.IsZero() {
				t.Errorf("reading %+v, want driver %s, status %q, no device time, a receive time", r, tt.format.Name(), tt.devStatus)
			}
			for i, want := range []*float64{tt.spo2, tt.hr} {
				v := r.Values[i]
				if (v.Value == nil) != (want == nil) || (want != nil && *v.Value != *want) || v.Status != tt.status {
					t.Errorf("value %d = %v %v, want %v %v", i, v.Value, v.Status, want, tt.status)
				}
			}
			if r.Values[0].MDC != 150456 || r.Values[0].Unit != "%" || r.Values[1].MDC != 149530 || r.Values[1].Unit != "/min" {
				t.Errorf("codes and units %+v", r.Values)
			}
		})
	}
}

func TestDecodeCountsBadInput(t *testing.T) {
	good := packetBytes(DF2, ptr(72), ptr(97), StatusGPRF)
	bad := bytes.Clone(good)
	bad[5*3+4]++ // frame 4's checksum
	wire := append(append(bytes.Clone(good[:5*10]), good...), good[:3]...)
	got, st := decodeAll(t, DF2, append(bad, wire...))
	if len(got) != 1 {
		t.Fatalf("%d readings, want 1", len(got))
	}
	// The packet with the bad frame is lost (cut short), the 10 frames
	// before the good packet too; the truncated frame at the end is bad.
	if st.Bad != 3 || st.Skipped == 0 || st.Readings != 1 {
		t.Errorf("stats %+v, want 3 bad (two packets cut short, one truncated frame), bytes skipped, 1 reading", st)
	}
	errRead := errors.New("unplugged")
	if _, err := Decode(t.Context(), errReader{errRead}, DF2, drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }), quiet()); !errors.Is(err, errRead) {
		t.Errorf("Decode over a failing reader = %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestParseRecord(t *testing.T) {
	for _, b := range [][]byte{{0x80, 0x80, 0, 0}, {0x00, 0, 0, 0}, {0x80, 0, 0}} {
		if _, err := ParseRecord(b); err == nil {
			t.Errorf("ParseRecord(% X) accepted", b)
		}
	}
	r, err := ParseRecord(AppendRecord(nil, Record{Status: Status8ARTF, HRD: ptr(511 - 1), SpO2D: ptr(0)}))
	if err != nil || *r.HRD != 510 || *r.SpO2D != 0 || Flags8(r.Status, r.Status2) != drivers.Questionable {
		t.Errorf("ParseRecord round trip = %+v, %v", r, err)
	}
}

// fuzzSeeds returns the shared vectors' byte streams when they are there
// (they are never copied into the repository) and built packets.
func fuzzSeeds() [][]byte {
	seeds := [][]byte{packetBytes(DF2, ptr(72), ptr(97), StatusGPRF), packetBytes(DF7, nil, nil, StatusSNSD),
		AppendRecord(nil, Record{HRD: ptr(80), SpO2D: ptr(97)}), {0x01}, {}}
	for _, name := range []string{"df2_streams.json", "df2_packet.json", "df2_frames.json"} {
		b, err := os.ReadFile(filepath.Join(vectorDir(), name))
		if err != nil {
			continue
		}
		seeds = append(seeds, hexRuns(b)...)
	}
	return seeds
}

// hexRuns returns every quoted hex string of at least 5 bytes in a JSON
// file.
func hexRuns(b []byte) [][]byte {
	var out [][]byte
	for _, field := range bytes.Split(b, []byte(`"`)) {
		if raw, err := hex.DecodeString(string(field)); err == nil && len(raw) >= 5 {
			out = append(out, raw)
		}
	}
	return out
}

// FuzzSplit checks every splitter's contract on any input: it advances
// within the data, returns only valid frames, and a split of all the input
// at once gives the frames a byte-by-byte feed gives.
func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{DF2, DF7, DF8} {
			split := Splitter(format)
			rest := data
			for len(rest) > 0 {
				adv, tok, err := split(rest, true)
				if adv <= 0 || adv > len(rest) {
					t.Fatalf("#%d: advance %d of %d", format, adv, len(rest))
				}
				if tok != nil && !validAt(format, tok) {
					t.Fatalf("#%d: invalid frame % X", format, tok)
				}
				if err != nil && !errors.Is(err, ErrTruncated) {
					t.Fatalf("#%d: %v", format, err)
				}
				rest = rest[adv:]
			}
		}
	})
}

// FuzzDecode checks that Decode never fails or panics on device bytes and
// emits only readings with two values whose numbers are in the formats'
// ranges.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{DF2, DF7, DF8} {
			_, err := Decode(context.Background(), bytes.NewReader(data), format, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
				if len(r.Values) != 2 {
					t.Fatalf("#%d: %d values", format, len(r.Values))
				}
				for _, v := range r.Values {
					if v.Value != nil && (*v.Value < 0 || *v.Value > MissingHR) {
						t.Fatalf("#%d: value %v", format, *v.Value)
					}
				}
				return nil
			}), quiet())
			if err != nil {
				t.Fatalf("#%d: Decode: %v", format, err)
			}
		}
	})
}

func TestSplitterResyncsAnywhere(t *testing.T) {
	good := packetBytes(DF2, ptr(72), ptr(97), StatusGPRF)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		junk := make([]byte, rng.IntN(20))
		for i := range junk {
			junk[i] = byte(rng.IntN(256))
		}
		got, _ := decodeAll(t, DF2, append(append(junk, good...), good...))
		if len(got) < 1 {
			t.Fatalf("after % X: no reading from two good packets", junk)
		}
	}
}
