package buffer

import (
	"bytes"
	"testing"
	"time"
)

func TestValueRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"text", []byte(`{"resourceType":"Bundle"}`)},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAt, got, err := decodeValue(encodeValue(at, tt.payload))
			if err != nil || !gotAt.Equal(at) || !bytes.Equal(got, tt.payload) {
				t.Fatalf("decode(encode) = %v, %q, %v", gotAt, got, err)
			}
		})
	}
}

func TestDecodeValueRejects(t *testing.T) {
	good := encodeValue(time.Unix(0, 1), []byte("payload"))
	flip := func(i int) []byte { v := bytes.Clone(good); v[i] ^= 0x01; return v }
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty", nil},
		{"shorter than the header", good[:valueHeaderSize-1]},
		{"unknown version", flip(0)},
		{"damaged checksum", flip(10)},
		{"damaged payload", flip(len(good) - 1)},
		{"truncated payload", good[:len(good)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := decodeValue(tt.v); err == nil {
				t.Fatal("decodeValue accepted a damaged value")
			}
		})
	}
}

func FuzzDecodeValue(f *testing.F) {
	f.Add(encodeValue(time.Unix(0, 42), []byte("payload")))
	f.Add([]byte{valueVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		at, payload, err := decodeValue(v)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		if again := encodeValue(at, payload); !bytes.Equal(again, v) {
			t.Fatalf("re-encoding %x gave %x", v, again)
		}
	})
}
