package buffer

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
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
			sv, err := decodeValue(encodeValue(at, 42*time.Hour, tt.payload))
			if err != nil || !sv.appended.Equal(at) || sv.stamp != 42*time.Hour || !sv.hasStamp || !bytes.Equal(sv.payload, tt.payload) {
				t.Fatalf("decode(encode) = %+v, %v", sv, err)
			}
		})
	}
}

// TestVersion1ValueStillReads: stores written before the age clock keep
// their entries.
func TestVersion1ValueStillReads(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	payload := []byte("written by bedgate-buffer/1")
	v := make([]byte, valueV1HeaderSize+len(payload))
	v[0] = 1
	binary.BigEndian.PutUint64(v[1:9], uint64(at.UnixNano()))
	binary.BigEndian.PutUint32(v[9:13], crc32.Checksum(payload, castagnoli))
	copy(v[valueV1HeaderSize:], payload)
	sv, err := decodeValue(v)
	if err != nil || !sv.appended.Equal(at) || sv.hasStamp || !bytes.Equal(sv.payload, payload) {
		t.Fatalf("decode(v1) = %+v, %v", sv, err)
	}
}

func TestDecodeValueRejects(t *testing.T) {
	good := encodeValue(time.Unix(0, 1), time.Second, []byte("payload"))
	flip := func(i int) []byte { v := bytes.Clone(good); v[i] ^= 0x01; return v }
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty", nil},
		{"shorter than the header", good[:valueHeaderSize-1]},
		{"unknown version", flip(0)},
		{"damaged checksum", flip(18)},
		{"damaged payload", flip(len(good) - 1)},
		{"truncated payload", good[:len(good)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeValue(tt.v); err == nil {
				t.Fatal("decodeValue accepted a damaged value")
			}
		})
	}
}

func FuzzDecodeValue(f *testing.F) {
	f.Add(encodeValue(time.Unix(0, 42), time.Minute, []byte("payload")))
	f.Add([]byte{valueVersion})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		sv, err := decodeValue(v)
		if err != nil || !sv.hasStamp {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		if again := encodeValue(sv.appended, sv.stamp, sv.payload); !bytes.Equal(again, v) {
			t.Fatalf("re-encoding %x gave %x", v, again)
		}
	})
}
