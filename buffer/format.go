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
	// metaIncarnationKey holds the store's incarnation (see Incarnation).
	metaIncarnationKey = []byte("m/incarnation")
	// metaLowKey holds the oldest live sequence number at the last group
	// commit (8 bytes, big-endian): salvage counts numbers from it up as
	// missing when they are found nowhere.
	metaLowKey = []byte("m/low")
	// metaClockKey holds the latest age-clock checkpoint (see clock.go).
	metaClockKey = []byte("m/clock")
)

func seqKey(prefix byte, s Seq) []byte {
	k := make([]byte, seqKeyLen)
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], uint64(s))
	return k
}

func be64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, v)
}

func keySeq(k []byte) (Seq, bool) {
	if len(k) != seqKeyLen {
		return 0, false
	}
	return Seq(binary.BigEndian.Uint64(k[1:])), true
}

// Value layout, version 2: version(1) | append time, Unix ns (8) | age-clock
// reading at append, ns (8) | CRC-32C of payload (4) | payload; integers
// big-endian. Version 1, written before the age clock existed, lacks the
// age-clock field; it is still read.
const (
	valueVersion      = 2
	valueHeaderSize   = 1 + 8 + 8 + 4
	valueV1HeaderSize = 1 + 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// storedValue is a decoded entry value.
type storedValue struct {
	appended time.Time     // wall clock at append
	stamp    time.Duration // age clock at append; see clock.go
	hasStamp bool          // false for version 1 values
	payload  []byte        // aliases the encoded value
}

func encodeValue(appended time.Time, stamp time.Duration, payload []byte) []byte {
	v := make([]byte, valueHeaderSize+len(payload))
	v[0] = valueVersion
	binary.BigEndian.PutUint64(v[1:9], uint64(appended.UnixNano()))
	binary.BigEndian.PutUint64(v[9:17], uint64(stamp))
	binary.BigEndian.PutUint32(v[17:21], crc32.Checksum(payload, castagnoli))
	copy(v[valueHeaderSize:], payload)
	return v
}

// decodeValue decodes a stored value of either version.
func decodeValue(v []byte) (storedValue, error) {
	var sv storedValue
	header := valueHeaderSize
	switch {
	case len(v) == 0:
		return sv, fmt.Errorf("buffer: stored value is empty")
	case v[0] == 1:
		header = valueV1HeaderSize
	case v[0] != valueVersion:
		return sv, fmt.Errorf("buffer: stored value has unknown version %d", v[0])
	}
	if len(v) < header {
		return sv, fmt.Errorf("buffer: stored value is %d bytes, shorter than its header", len(v))
	}
	sv.payload = v[header:]
	if got, want := crc32.Checksum(sv.payload, castagnoli), binary.BigEndian.Uint32(v[header-4:header]); got != want {
		return storedValue{}, fmt.Errorf("buffer: stored payload checksum %08x, want %08x", got, want)
	}
	sv.appended = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9])))
	if header == valueHeaderSize {
		sv.stamp, sv.hasStamp = time.Duration(binary.BigEndian.Uint64(v[9:17])), true
	}
	return sv, nil
}
