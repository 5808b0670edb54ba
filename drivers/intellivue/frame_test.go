package intellivue

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestFCSVectors checks the FCS and escaping against the shared OpenICE
// vectors (payload only, no header) and the CRC catalogue check value.
func TestFCSVectors(t *testing.T) {
	var v struct {
		FCSAlgorithm struct {
			Check struct {
				Input string `json:"input_ascii"`
				FCS   string `json:"fcs"`
			} `json:"check"`
			GoodResidue struct {
				Value string `json:"value"`
			} `json:"good_residue"`
		} `json:"fcs_algorithm"`
		Vectors []struct {
			Name    string `json:"name"`
			Payload string `json:"payload_hex"`
			FCS     string `json:"fcs"`
			Wire    string `json:"wire_hex"`
		} `json:"vectors"`
	}
	decodeJSON(t, readVector(t, "framing.json"), &v)
	check := v.FCSAlgorithm.Check
	if got := FCS([]byte(check.Input)); uint64(got) != parseHex(t, check.FCS) {
		t.Errorf("FCS(%q) = %#04x, want %s", check.Input, got, check.FCS)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors in framing.json")
	}
	for _, tt := range v.Vectors {
		payload := unhex(t, tt.Payload)
		fcs := FCS(payload)
		if uint64(fcs) != parseHex(t, tt.FCS) {
			t.Errorf("%s: FCS = %#04x, want %s", tt.Name, fcs, tt.FCS)
		}
		// Residue: the register run over data and FCS (low byte first).
		if got := fcsUpdate(0xFFFF, append(payload, byte(fcs), byte(fcs>>8))); uint64(got) != parseHex(t, v.FCSAlgorithm.GoodResidue.Value) {
			t.Errorf("%s: residue %#04x, want %s", tt.Name, got, v.FCSAlgorithm.GoodResidue.Value)
		}
		wire := append([]byte{frameBOF}, appendEscaped(nil, append(payload, byte(fcs), byte(fcs>>8)))...)
		wire = append(wire, frameEOF)
		if want := unhex(t, tt.Wire); !bytes.Equal(wire, want) {
			t.Errorf("%s: wire % x, want % x", tt.Name, wire, want)
		}
	}
}

// frameOf builds a wire frame around user data, failing the test on error.
func frameOf(t testing.TB, userData []byte) []byte {
	t.Helper()
	b, err := AppendFrame(nil, userData)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendFrameEscapesHeaderDataAndFCS(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string // the wire frame
	}{
		{"empty user data", nil, "c0 11 01 00 00 " + fcsHex(nil) + " c1"},
		// 0xC0 bytes of user data: the length 0x00C0 itself must be escaped.
		{"length byte 0xC0 escaped", make([]byte, 0xC0), ""},
		{"user data bytes escaped", []byte{0xC0, 0xC1, 0x7D, 0x20}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := frameOf(t, tt.data)
			if tt.want != "" && !bytes.Equal(wire, unhex(t, tt.want)) {
				t.Errorf("AppendFrame = % x, want %s", wire, tt.want)
			}
			inner := wire[1 : len(wire)-1]
			if indexDelimiter(inner) >= 0 {
				t.Errorf("unescaped delimiter inside % x", wire)
			}
			f, err := DecodeFrame(wire)
			if err != nil {
				t.Fatalf("DecodeFrame: %v", err)
			}
			if !bytes.Equal(f.UserData, tt.data) {
				t.Errorf("round trip gave % x, want % x", f.UserData, tt.data)
			}
		})
	}
	if _, err := AppendFrame(nil, make([]byte, MaxUserData+1)); err == nil {
		t.Error("AppendFrame accepted more than MaxUserData bytes")
	}
}

// fcsHex is the FCS of a header 11 01 00 00 + data, as wire hex (low byte
// first, unescaped; used where no escape is needed).
func fcsHex(data []byte) string {
	f := FCS(append([]byte{0x11, 0x01, byte(len(data) >> 8), byte(len(data))}, data...))
	return string(hexByte(byte(f))) + " " + string(hexByte(byte(f>>8)))
}

func hexByte(b byte) []byte {
	const digits = "0123456789abcdef"
	return []byte{digits[b>>4], digits[b&15]}
}

func TestDecodeFrameErrors(t *testing.T) {
	good := frameOf(t, []byte{1, 2, 3})
	corrupt := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name   string
		token  []byte
		offset int
		reason string
	}{
		{"no start", good[1:], 0, "beginning-of-frame"},
		{"no end", good[:len(good)-1], len(good) - 1, "end-of-frame"},
		{"aborted", append(append([]byte(nil), good[:6]...), 0x7D, 0xC1), 6, "aborted"},
		{"bad FCS", corrupt(func(b []byte) []byte { b[7]++; return b }), len(good) - 1, "frame check sequence"},
		{"wrong protocol", frameOfHeader(t, 0x12, 0x01, []byte{1}), 1, "header 0x12 0x01"},
		{"wrong length", frameOfHeader(t, 0x11, 0x01, []byte{1}, 5), 3, "announces 5"},
		{"too short", []byte{0xC0, 0x11, 0x01, 0xC1}, 1, "shorter than header"},
		{"unescaped C0 inside", []byte{0xC0, 0x11, 0xC0, 0x01, 0xC1}, 2, "unescaped 0xC0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeFrame(tt.token)
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeFrame(% x) = %v, want a *FrameError", tt.token, err)
			}
			if fe.Offset != tt.offset || !bytes.Contains([]byte(fe.Reason), []byte(tt.reason)) {
				t.Errorf("FrameError{%d, %q}, want offset %d and %q", fe.Offset, fe.Reason, tt.offset, tt.reason)
			}
			if !bytes.HasPrefix([]byte(err.Error()), []byte("intellivue: ")) {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	// The error is not sticky: the good frame still decodes.
	if _, err := DecodeFrame(good); err != nil {
		t.Errorf("good frame after bad ones: %v", err)
	}
}

// frameOfHeader builds a frame with any header and a correct FCS; an
// optional length overrides the true one.
func frameOfHeader(t testing.TB, proto, kind byte, data []byte, length ...int) []byte {
	n := len(data)
	if len(length) > 0 {
		n = length[0]
	}
	body := append([]byte{proto, kind, byte(n >> 8), byte(n)}, data...)
	f := FCS(body)
	wire := append([]byte{frameBOF}, appendEscaped(nil, append(body, byte(f), byte(f>>8)))...)
	return append(wire, frameEOF)
}

// scanAll splits r with SplitFrames through a Scanner and returns the
// tokens and the scanner's error.
func scanAll(r io.Reader) ([][]byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 2*MaxFrameSize)
	sc.Split(SplitFrames)
	var out [][]byte
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out, sc.Err()
}

func TestSplitFrames(t *testing.T) {
	a, b := frameOf(t, []byte("first")), frameOf(t, []byte{0xC0, 0x7D, 0xC1})
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		in      []byte
		want    [][]byte
		wantErr error
	}{
		{"two frames", cat(a, b), [][]byte{a, b}, nil},
		{"noise before and between", cat([]byte("xx\xc1"), a, []byte{0x7D, 0x00}, b), [][]byte{a, b}, nil},
		{"noise only", []byte("no frame here"), nil, nil},
		{"truncated at end", cat(a, b[:5]), [][]byte{a}, ErrTruncated},
		{"lone start at end", cat(a, []byte{0xC0}), [][]byte{a}, ErrTruncated},
		{"frame cut by a new start", cat(a[:5], b), [][]byte{a[:5], b}, nil},
		{"aborted frame then a good one", cat(a[:6], []byte{0x7D, 0xC1}, b), [][]byte{cat(a[:6], []byte{0x7D, 0xC1}), b}, nil},
		{"empty input", nil, nil, nil},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, err := scanAll(wrap(bytes.NewReader(tt.in)))
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("%d tokens % x, want %d", len(got), got, len(tt.want))
				}
				for i := range got {
					if !bytes.Equal(got[i], tt.want[i]) {
						t.Errorf("token %d = % x, want % x", i, got[i], tt.want[i])
					}
				}
			})
		}
	}
}

func TestSplitFramesOverlong(t *testing.T) {
	in := append([]byte{0xC0}, bytes.Repeat([]byte{0x55}, MaxFrameSize+10)...)
	good := frameOf(t, []byte("ok"))
	in = append(in, good...)
	got, err := scanAll(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != MaxFrameSize || !bytes.Equal(got[1], good) {
		t.Fatalf("got %d tokens (first %d bytes), want an over-long token of %d and the good frame", len(got), len(got[0]), MaxFrameSize)
	}
	if _, err := DecodeFrame(got[0]); err == nil {
		t.Error("DecodeFrame accepted the over-long token")
	}
}

func TestSplitFramesContract(t *testing.T) {
	in := append([]byte("noise"), frameOf(t, []byte("x"))...)
	for n := 0; n <= len(in); n++ {
		for _, atEOF := range []bool{false, true} {
			adv, tok, err := SplitFrames(in[:n], atEOF)
			if adv < 0 || adv > n {
				t.Fatalf("n=%d: advance %d out of range", n, adv)
			}
			if tok != nil && (len(tok) > adv || !bytes.Equal(tok, in[adv-len(tok):adv])) {
				t.Fatalf("n=%d: token % x does not end at advance %d", n, tok, adv)
			}
			if err != nil && !(atEOF && errors.Is(err, ErrTruncated)) {
				t.Fatalf("n=%d atEOF=%v: unexpected error %v", n, atEOF, err)
			}
		}
	}
}
