package buffer

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
)

// Key layout (see doc.go). Every key starts with a one-byte prefix; entry and
// quarantine keys continue with the big-endian sequence number, so the
// engine's key order is sequence order.
const (
	entryPrefix      = 'e'
	quarantinePrefix = 'q'
	seqKeyLen        = 1 + 8
)

var (
	// metaNextKey holds the next sequence number to assign (8 bytes,
	// big-endian). It is written in the same batch as the entries it covers.
	metaNextKey = []byte("m/next")
	// metaFormatKey marks a directory as a bedgate buffer of this layout.
	metaFormatKey = []byte("m/format")
	formatValue   = []byte("bedgate-buffer/1")
)

func seqKey(prefix byte, s Seq) []byte {
	k := make([]byte, seqKeyLen)
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], uint64(s))
	return k
}

func keySeq(k []byte) (Seq, bool) {
	if len(k) != seqKeyLen {
		return 0, false
	}
	return Seq(binary.BigEndian.Uint64(k[1:])), true
}

// Value layout: version(1) | append time, Unix ns (8, big-endian) |
// CRC-32C of payload (4, big-endian) | payload.
const (
	valueVersion    = 1
	valueHeaderSize = 1 + 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeValue(appended time.Time, payload []byte) []byte {
	v := make([]byte, valueHeaderSize+len(payload))
	v[0] = valueVersion
	binary.BigEndian.PutUint64(v[1:9], uint64(appended.UnixNano()))
	binary.BigEndian.PutUint32(v[9:13], crc32.Checksum(payload, castagnoli))
	copy(v[valueHeaderSize:], payload)
	return v
}

// decodeValue returns the append time and the payload, which aliases v.
func decodeValue(v []byte) (time.Time, []byte, error) {
	if len(v) < valueHeaderSize {
		return time.Time{}, nil, fmt.Errorf("buffer: stored value is %d bytes, shorter than its header", len(v))
	}
	if v[0] != valueVersion {
		return time.Time{}, nil, fmt.Errorf("buffer: stored value has unknown version %d", v[0])
	}
	payload := v[valueHeaderSize:]
	if got, want := crc32.Checksum(payload, castagnoli), binary.BigEndian.Uint32(v[9:13]); got != want {
		return time.Time{}, nil, fmt.Errorf("buffer: stored payload checksum %08x, want %08x", got, want)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))), payload, nil
}
