package nonin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

// vectorDir is where the shared Nonin vectors live (../shared of the
// repository), or $NONIN_VECTORS.
func vectorDir() string {
	if d := os.Getenv("NONIN_VECTORS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "vectors", "nonin")
}

// readVector decodes a shared vector file into v, or skips the test when
// the shared vectors are absent.
func readVector(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir(), name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("shared vector %s not found in %s (set NONIN_VECTORS to the folder holding it)", name, vectorDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expected readings of the vectors, by their key.
type expected struct {
	HR               *int `json:"hr"`
	HRD              *int `json:"hr_d"`
	EHR              *int `json:"e_hr"`
	EHRD             *int `json:"e_hr_d"`
	SpO2             *int `json:"spo2"`
	SpO2D            *int `json:"spo2_d"`
	ESpO2            *int `json:"e_spo2"`
	ESpO2D           *int `json:"e_spo2_d"`
	SpO2BB           *int `json:"spo2_b_b"`
	SpO2Fast         *int `json:"spo2_fast"`
	FirmwareRevision *int `json:"firmware_revision"`
}

// checkPacket compares every value of p with want.
func checkPacket(t *testing.T, p Packet, want expected) {
	t.Helper()
	for _, c := range []struct {
		name      string
		got, want *int
	}{
		{"hr", p.HR, want.HR}, {"hr_d", p.HRD, want.HRD}, {"e_hr", p.EHR, want.EHR}, {"e_hr_d", p.EHRD, want.EHRD},
		{"spo2", p.SpO2, want.SpO2}, {"spo2_d", p.SpO2D, want.SpO2D}, {"e_spo2", p.ESpO2, want.ESpO2},
		{"e_spo2_d", p.ESpO2D, want.ESpO2D}, {"spo2_b_b", p.SpO2BB, want.SpO2BB}, {"spo2_fast", p.SpO2Fast, want.SpO2Fast},
		{"firmware_revision", &p.FirmwareRevision, want.FirmwareRevision},
	} {
		if c.want == nil {
			t.Errorf("vector has no %s", c.name)
			continue
		}
		if c.got == nil || *c.got != *c.want {
			t.Errorf("%s = %v, want %d", c.name, c.got, *c.want)
		}
	}
}

func TestVectorFrames(t *testing.T) {
	var v struct {
		Frames []struct {
			Hex        string `json:"hex"`
			Case       string `json:"case"`
			ChecksumOK bool   `json:"checksum_ok"`
			Bit7       bool   `json:"status_bit7"`
			Sync       bool   `json:"sync"`
			Valid      bool   `json:"valid_frame"`
		} `json:"frames"`
		StatusBytes []struct {
			Byte   string         `json:"status_byte"`
			Expect map[string]any `json:"expect"`
		} `json:"status_bytes"`
		StatusPacket struct {
			Frames []struct {
				Hex        string         `json:"hex"`
				ChecksumOK bool           `json:"checksum_ok"`
				Flags      map[string]any `json:"status_flags"`
			} `json:"frames"`
		} `json:"status_packet"`
	}
	readVector(t, "df2_frames.json", &v)
	for _, f := range v.Frames {
		b := unhex(t, f.Hex)
		fr, err := ParseFrame(DF2, b)
		if (err == nil) != f.Valid || errors.Is(err, ErrChecksum) == f.ChecksumOK || errors.Is(err, ErrStatus) == f.Bit7 {
			t.Errorf("%s (%s): ParseFrame error %v; want valid %v, checksum ok %v, bit 7 %v", f.Hex, f.Case, err, f.Valid, f.ChecksumOK, f.Bit7)
		}
		if err == nil && fr.Sync() != f.Sync {
			t.Errorf("%s (%s): Sync() = %v, want %v", f.Hex, f.Case, fr.Sync(), f.Sync)
		}
		if (b[1]&StatusSYNC != 0) != f.Sync {
			t.Errorf("%s (%s): SYNC bit, want %v", f.Hex, f.Case, f.Sync)
		}
	}
	for _, s := range v.StatusBytes {
		b := unhex(t, s.Byte[2:])[0]
		checkStatus(t, s.Byte, b, s.Expect)
	}
	for i, f := range v.StatusPacket.Frames {
		b := unhex(t, f.Hex)
		if (checksum(b[:4]) == b[4]) != f.ChecksumOK {
			t.Errorf("status packet frame %d %s: checksum ok, want %v", i, f.Hex, f.ChecksumOK)
		}
		checkStatus(t, f.Hex, b[1], f.Flags)
	}
}

// checkStatus checks a status byte's decoding against the vector's flags
// and the flags the driver sets for them.
func checkStatus(t *testing.T, name string, b byte, want map[string]any) {
	t.Helper()
	bit := func(key string, mask byte, flag drivers.Status) {
		w, ok := want[key].(bool)
		if !ok {
			return
		}
		if got := b&mask != 0; got != w {
			t.Errorf("%s: %s = %v, want %v", name, key, got, w)
		}
		if w && Flags(b)&flag != flag {
			t.Errorf("%s: %s set but flags %v lack %v", name, key, Flags(b), flag)
		}
	}
	bit("sensor_disconnect_bit6", StatusSNSD, drivers.SensorOff|drivers.Invalid)
	bit("artifact", StatusARTF, drivers.Questionable)
	bit("out_of_track", StatusOOT, drivers.Invalid)
	bit("sensor_alarm", StatusSNSA, drivers.Invalid)
	bit("sync", StatusSYNC, 0)
	if w, ok := want["bit7_missing"].(bool); ok && (b&StatusAlways == 0) != w {
		t.Errorf("%s: bit 7 missing, want %v", name, w)
	}
	if w, ok := want["perfusion"].(string); ok {
		got := PerfusionOf(b)
		if string(got) != w {
			t.Errorf("%s: perfusion %s, want %s", name, got, w)
		}
		if q := Flags(b)&drivers.Questionable != 0; (got == PerfusionRed || got == PerfusionYellow) && !q {
			t.Errorf("%s: %s perfusion not flagged questionable", name, got)
		}
	}
}

func TestVectorPacket(t *testing.T) {
	var v struct {
		PacketHex string `json:"packet_hex"`
		Frames    []struct {
			Hex string `json:"hex"`
		} `json:"frames"`
		Expected expected `json:"expected"`
	}
	readVector(t, "df2_packet.json", &v)
	wire := unhex(t, v.PacketHex)
	var frames [PacketFrames]Frame
	if len(v.Frames) != PacketFrames || len(wire) != 5*PacketFrames {
		t.Fatalf("%d frames, %d bytes; want %d frames", len(v.Frames), len(wire), PacketFrames)
	}
	for i, f := range v.Frames {
		b := unhex(t, f.Hex)
		if !bytes.Equal(b, wire[5*i:5*i+5]) {
			t.Fatalf("frame %d %s is not bytes %d-%d of the packet", i, f.Hex, 5*i, 5*i+4)
		}
		fr, err := ParseFrame(DF2, b)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		frames[i] = fr
		if again := AppendFrame(nil, DF2, fr); !bytes.Equal(again, b) {
			t.Errorf("frame %d: AppendFrame = % X, want % X", i, again, b)
		}
	}
	checkPacket(t, DecodePacket(DF2, &frames), v.Expected)
}

func TestVectorStreams(t *testing.T) {
	var v struct {
		Streams []struct {
			Name     string `json:"name"`
			Hex      string `json:"hex"`
			Expected struct {
				Status  string    `json:"status_after_last_byte"`
				Packets int       `json:"packets"`
				Reading *expected `json:"reading"`
			} `json:"expected"`
		} `json:"streams"`
	}
	readVector(t, "df2_streams.json", &v)
	if len(v.Streams) == 0 {
		t.Fatal("no streams")
	}
	for _, s := range v.Streams {
		t.Run(s.Name, func(t *testing.T) {
			var packets []Packet
			var readings []drivers.Reading
			count := &drivers.Counter{}
			st := newStream(DF2, quiet(), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
				readings = append(readings, r)
				return nil
			}), count)
			// Frame by frame, as a session sees them, keeping each packet.
			wire := unhex(t, s.Hex)
			rest := wire
			for len(rest) > 0 {
				adv, tok, err := st.splitCounting(rest, false)
				if err != nil {
					t.Fatal(err)
				}
				if adv == 0 {
					break
				}
				rest = rest[adv:]
				if tok == nil {
					continue
				}
				if fr, err := ParseFrame(DF2, tok); err == nil && st.packets.n == PacketFrames-1 {
					frames := st.packets.frames
					frames[PacketFrames-1] = fr
					packets = append(packets, DecodePacket(DF2, &frames))
				}
				if err := st.frame(t.Context(), tok); err != nil {
					t.Fatal(err)
				}
			}
			if len(readings) != s.Expected.Packets || len(packets) != s.Expected.Packets {
				t.Fatalf("%d readings, %d packets; want %d", len(readings), len(packets), s.Expected.Packets)
			}
			if s.Expected.Reading != nil {
				checkPacket(t, packets[0], *s.Expected.Reading)
				r := readings[0]
				if *r.Values[0].Value != float64(*s.Expected.Reading.SpO2) || *r.Values[1].Value != float64(*s.Expected.Reading.HR) || r.Values[0].Status != 0 {
					t.Errorf("reading %+v, want SpO2 %d and HR %d unflagged", r.Values, *s.Expected.Reading.SpO2, *s.Expected.Reading.HR)
				}
			}
			stats := count.Stats()
			switch s.Expected.Status {
			case "invalid_checksum", "invalid_header":
				// The bad frame's bytes are skipped while resynchronising.
				if stats.Skipped == 0 {
					t.Errorf("stats %+v: a %s frame skipped no bytes", stats, s.Expected.Status)
				}
			case "frame_loss":
				if stats.Bad == 0 {
					t.Errorf("stats %+v: the early SYNC frame counted no lost packet", stats)
				}
			}
			// Decode of the same bytes gives the same readings.
			var decoded int
			if _, err := Decode(t.Context(), bytes.NewReader(wire), DF2, drivers.SinkFunc(func(context.Context, drivers.Reading) error {
				decoded++
				return nil
			}), quiet()); err != nil || decoded != s.Expected.Packets {
				t.Errorf("Decode: %d readings, %v; want %d", decoded, err, s.Expected.Packets)
			}
		})
	}
}
