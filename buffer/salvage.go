package buffer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// Salvage: a store the engine cannot open, or opens without its data, is
// moved aside and read without the engine, file by file, so that whatever
// is still readable survives whatever the damage (a lost or garbled
// MANIFEST, KEYREGISTRY or value-log header; a table truncated, zeroed or
// deleted):
//
//   - every table file (*.sst) is read with the engine's table reader,
//     whether or not a manifest lists it; one whose index is gone (a
//     truncated table) is read block by block from its start, each block
//     accepted only if its checksum holds;
//   - every log file (*.mem, the memtables not yet flushed, and *.vlog) is
//     read entry by entry up to the first entry whose checksum fails, an
//     unfinished transaction at the end ignored, as the engine replays it;
//   - of every key the version with the highest commit timestamp wins, so
//     an acknowledged (deleted) entry stays deleted; a value kept in the
//     value log is read from there.
//
// Each surviving entry is written, under its own sequence number, with its
// value (payload, append time, age-clock stamp) unchanged, into the fresh
// store that replaces the damaged one; the sequence continues above the
// highest number found. Entries found whose value is unreadable are kept
// under the quarantine prefix and counted as unreadable. Sequence numbers
// from the last recorded oldest live entry to the next number to assign
// that appear nowhere are counted as missing: lost with the damage, unless
// acknowledged after that record was written (at most one group commit
// earlier). The fresh store gets a new incarnation (see Incarnation): the
// salvaged entries keep their bodies, which carry the old incarnation and
// their sequence numbers in it, so no identifier repeats.

// SalvageReport says what a salvage found.
type SalvageReport struct {
	// From is where the damaged store was moved.
	From string
	// Recovered counts entries read back and stored again.
	Recovered int64
	// Unreadable counts entries found whose value could not be read; they
	// are kept in quarantine (Stats.Quarantined).
	Unreadable int64
	// Missing counts sequence numbers of the store's live range found
	// nowhere: lost, or acknowledged moments before the damage.
	Missing int64
	// Problems names the files that could not be read, or read only in
	// part, and why.
	Problems []string
}

// keyVersion is the newest version of a key found so far.
type keyVersion struct {
	ts      uint64
	deleted bool
	value   []byte
	vptr    []byte // a value-log pointer instead of value
}

// salvager collects the newest version of every key in a directory.
type salvager struct {
	dir      string
	state    storeState // from the state file
	hasState bool
	latest   map[string]keyVersion
	problems []string
}

// Engine bits of an entry's meta byte and the value log's file header.
const (
	metaDelete       = 1 << 0
	metaValuePointer = 1 << 1
	metaTxn          = 1 << 6
	metaFinTxn       = 1 << 7
	logHeaderSize    = 20
)

// salvageStore reads every entry it can from the store files in dir.
func salvageStore(dir string) *salvaged {
	s := &salvager{dir: dir, latest: make(map[string]keyVersion)}
	s.state, s.hasState = readState(dir)
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	unlisted, _ := filepath.Glob(filepath.Join(dir, unlistedDir, "*.sst"))
	names = append(names, unlisted...)
	slices.Sort(names)
	for _, name := range names {
		switch filepath.Ext(name) {
		case ".sst":
			s.readTable(name)
		case ".mem", ".vlog":
			s.readLog(name)
		}
	}
	return s.result()
}

// offer records a version of a key if it is the newest seen.
func (s *salvager) offer(keyWithTs []byte, meta byte, value []byte) {
	if len(keyWithTs) <= 8 {
		return
	}
	key, ts := string(y.ParseKey(keyWithTs)), y.ParseTs(keyWithTs)
	if old, ok := s.latest[key]; ok && old.ts >= ts {
		return
	}
	v := keyVersion{ts: ts, deleted: meta&metaDelete != 0}
	switch {
	case v.deleted:
	case meta&metaValuePointer != 0:
		v.vptr = bytes.Clone(value)
	default:
		v.value = bytes.Clone(value)
	}
	s.latest[key] = v
}

func (s *salvager) problem(name string, format string, args ...any) {
	s.problems = append(s.problems, filepath.Base(name)+": "+fmt.Sprintf(format, args...))
}

// readTable reads a table through its index or, failing that, block by
// block.
func (s *salvager) readTable(name string) {
	data, err := os.ReadFile(name)
	if err != nil {
		s.problem(name, "%v", err)
		return
	}
	if err := s.readIndexedTable(name); err == nil {
		return
	} else if n, end := s.scanBlocks(data); end < len(data) {
		s.problem(name, "index unreadable (%v); %d entries read from %d of %d bytes", err, n, end, len(data))
	}
}

// readIndexedTable reads a table with the engine's reader, under a recover.
// Blocks are not verified against their checksums, so that one damaged
// block does not hide the rest of the table: the payload checksum of each
// entry (see format.go) tells a damaged value.
func (s *salvager) readIndexedTable(name string) error {
	return openTable(name, options.None, func(t *table.Table) {
		it := t.NewIterator(table.NOCACHE)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v := it.Value()
			s.offer(it.Key(), v.Meta, v.Value)
		}
	})
}

// scanBlocks reads the data blocks of a table without its index: blocks
// start at offset 0 and follow each other; each ends with its entry
// offsets, their count, a checksum and the checksum's length, and is
// accepted only when the checksum holds. It returns the entries read and
// the offset where reading stopped.
func (s *salvager) scanBlocks(data []byte) (entries, pos int) {
	for pos < len(data) {
		end, n := s.nextBlock(data, pos)
		if end < 0 {
			return entries, pos
		}
		entries += n
		pos = end
	}
	return entries, pos
}

// nextBlock finds the block starting at start by trying every possible end,
// and reads its entries. It returns -1 when no block starts there.
func (s *salvager) nextBlock(data []byte, start int) (end, entries int) {
	for end = start + 12; end <= len(data); end++ {
		chkLen := int(binary.BigEndian.Uint32(data[end-4 : end]))
		if chkLen < 2 || chkLen > 32 || end-4-chkLen-4 < start {
			continue
		}
		var ck pb.Checksum
		body := data[start : end-4-chkLen]
		if proto.Unmarshal(data[end-4-chkLen:end-4], &ck) != nil || y.VerifyChecksum(body, &ck) != nil {
			continue
		}
		if n, ok := s.readBlock(body); ok {
			return end, n
		}
	}
	return -1, 0
}

// readBlock reads the entries of a block body (entries, their offsets,
// their count).
func (s *salvager) readBlock(body []byte) (int, bool) {
	if len(body) < 4 {
		return 0, false
	}
	count := int(binary.BigEndian.Uint32(body[len(body)-4:]))
	idx := len(body) - 4 - 4*count
	if count <= 0 || idx < 0 {
		return 0, false
	}
	offsets := make([]int, count+1)
	for i := range count {
		offsets[i] = int(binary.NativeEndian.Uint32(body[idx+4*i:]))
	}
	offsets[count] = idx
	var base, key []byte
	for i := range count {
		e := body[offsets[i]:offsets[i+1]]
		if offsets[i] > offsets[i+1] || len(e) < 4 {
			return i, false
		}
		overlap, diff := int(binary.NativeEndian.Uint16(e[0:2])), int(binary.NativeEndian.Uint16(e[2:4]))
		if 4+diff > len(e) || overlap > len(base) {
			return i, false
		}
		key = append(append(key[:0], base[:overlap]...), e[4:4+diff]...)
		if i == 0 {
			base = bytes.Clone(key)
		}
		var v y.ValueStruct
		if len(e)-4-diff < 3 {
			return i, false
		}
		v.Decode(e[4+diff:])
		s.offer(key, v.Meta, v.Value)
	}
	return count, true
}

// readLog reads a memtable or value-log file entry by entry, as the engine
// replays one: up to the first entry that does not check out; the entries
// of a transaction only once its end marker is read.
func (s *salvager) readLog(name string) {
	f, err := os.Open(name)
	if err != nil {
		s.problem(name, "%v", err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.problem(name, "%v", err)
		return
	}
	size := fi.Size()
	r := bufio.NewReader(f)
	if _, err := r.Discard(logHeaderSize); err != nil {
		return
	}
	type pending struct {
		key, value []byte
		meta       byte
	}
	var txn []pending
	var txnTs uint64
	for {
		meta, key, value, err := readLogEntry(r, size)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, errLogEnd) {
				s.problem(name, "%v", err)
			}
			return
		}
		switch {
		case meta&metaTxn != 0:
			ts := y.ParseTs(key)
			if txnTs != 0 && ts != txnTs {
				return
			}
			txnTs = ts
			txn = append(txn, pending{key, value, meta})
		case meta&metaFinTxn != 0:
			ts, err := strconv.ParseUint(string(value), 10, 64)
			if err != nil || ts != txnTs {
				return
			}
			for _, p := range txn {
				s.offer(p.key, p.meta, p.value)
			}
			txn, txnTs = txn[:0], 0
		default:
			if txnTs != 0 {
				return
			}
			s.offer(key, meta, value)
		}
	}
}

// errLogEnd is the end of the valid part of a log: zeros or a torn entry.
var errLogEnd = errors.New("end of log")

// castagnoliTable is the engine's log checksum (CRC-32C).
var castagnoliTable = crc32.MakeTable(crc32.Castagnoli)

// readLogEntry reads one log entry: meta, user meta, key length, value
// length and expiry (varints), key, value, CRC-32C of all before it. An
// entry longer than limit bytes is taken as the end of the log.
func readLogEntry(r *bufio.Reader, limit int64) (meta byte, key, value []byte, err error) {
	h := crc32.New(castagnoliTable)
	tr := io.TeeReader(r, h)
	br := byteReader{tr}
	var hdr [2]byte
	if _, err := io.ReadFull(tr, hdr[:]); err != nil {
		return 0, nil, nil, err
	}
	klen, err1 := binary.ReadUvarint(br)
	vlen, err2 := binary.ReadUvarint(br)
	_, err3 := binary.ReadUvarint(br)
	if err := errors.Join(err1, err2, err3); err != nil || klen == 0 || klen > 1<<16 || int64(klen+vlen) > limit {
		return 0, nil, nil, errLogEnd
	}
	kv := make([]byte, klen+vlen)
	if _, err := io.ReadFull(tr, kv); err != nil {
		return 0, nil, nil, errLogEnd
	}
	var sum [4]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil || binary.BigEndian.Uint32(sum[:]) != h.Sum32() {
		return 0, nil, nil, errLogEnd
	}
	return hdr[0], kv[:klen], kv[klen:], nil
}

type byteReader struct{ io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.Reader, c[:])
	return c[0], err
}

// resolve reads a value the engine kept in its value log: the pointer is
// the file id, the entry's length and its offset (native-endian uint32s).
func (s *salvager) resolve(vptr []byte) ([]byte, error) {
	if len(vptr) < 12 {
		return nil, errors.New("malformed value pointer")
	}
	fid := binary.NativeEndian.Uint32(vptr[0:4])
	length := binary.NativeEndian.Uint32(vptr[4:8])
	offset := binary.NativeEndian.Uint32(vptr[8:12])
	f, err := os.Open(filepath.Join(s.dir, fmt.Sprintf("%06d.vlog", fid)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, _, value, err := readLogEntry(bufio.NewReader(io.NewSectionReader(f, int64(offset), int64(length))), int64(length))
	return value, err
}

// maxLiveRange bounds the sequence numbers a salvage counts as missing: no
// outbox holds more entries than this (64 Mi; 256 MiB of 4-byte payloads).
const maxLiveRange = 1 << 26

// salvaged is what a salvage found, ready to be stored again.
type salvaged struct {
	entries     []salvagedEntry // readable, in sequence order
	unreadable  []salvagedEntry // found, value unreadable; kept in quarantine
	quarantined []salvagedEntry // already in quarantine in the old store
	next        Seq             // the next sequence number to assign
	clock       []byte          // the age-clock checkpoint, if found
	missing     int64
	problems    []string
}

type salvagedEntry struct {
	seq   Seq
	value []byte
}

func (s *salvager) result() *salvaged {
	out := &salvaged{problems: s.problems}
	var low, next Seq
	seen := make(map[Seq]bool)
	var minSeen, maxSeen Seq
	note := func(q Seq) {
		seen[q] = true
		if minSeen == 0 || q < minSeen {
			minSeen = q
		}
		maxSeen = max(maxSeen, q)
	}
	for key, v := range s.latest {
		k := []byte(key)
		switch {
		case bytes.Equal(k, metaNextKey) && !v.deleted && len(v.value) == 8:
			next = Seq(binary.BigEndian.Uint64(v.value))
		case bytes.Equal(k, metaLowKey) && !v.deleted && len(v.value) == 8:
			low = Seq(binary.BigEndian.Uint64(v.value))
		case bytes.Equal(k, metaClockKey) && !v.deleted:
			out.clock = v.value
		case len(k) == seqKeyLen && (k[0] == entryPrefix || k[0] == quarantinePrefix):
			seq, _ := keySeq(k)
			note(seq)
			if v.deleted {
				continue
			}
			value := v.value
			var err error
			if v.vptr != nil {
				value, err = s.resolve(v.vptr)
			}
			e := salvagedEntry{seq: seq, value: value}
			switch {
			case k[0] == quarantinePrefix:
				out.quarantined = append(out.quarantined, e)
			case err != nil:
				out.unreadable = append(out.unreadable, e)
				s.problems = append(s.problems, fmt.Sprintf("entry %d: value unreadable: %v", seq, err))
			default:
				if _, derr := decodeValue(value); derr != nil {
					out.unreadable = append(out.unreadable, e)
				} else {
					out.entries = append(out.entries, e)
				}
			}
		}
	}
	bySeq := func(a, b salvagedEntry) int { return int(a.seq - b.seq) }
	slices.SortFunc(out.entries, bySeq)
	slices.SortFunc(out.unreadable, bySeq)
	slices.SortFunc(out.quarantined, bySeq)
	if low == 0 && s.hasState {
		low = Seq(s.state.Low)
	}
	if low == 0 {
		low = minSeen
	}
	out.next = max(next, Seq(s.state.Next), maxSeen+1, 1)
	// Bound the count below against a damaged record of the range.
	low = max(low, out.next-min(out.next, maxLiveRange))
	for q := max(low, 1); q < out.next && low > 0; q++ {
		if !seen[q] {
			out.missing++
		}
	}
	out.problems = s.problems
	return out
}

// report summarises a salvage for Stats.
func (sv *salvaged) report(from string) SalvageReport {
	return SalvageReport{From: from, Recovered: int64(len(sv.entries)), Unreadable: int64(len(sv.unreadable)),
		Missing: sv.missing, Problems: sv.problems}
}

// store writes the salvaged entries and metadata into a fresh store, with
// its format marker, and syncs it.
func (sv *salvaged) store(db *engine) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	set := func(k, v []byte) error {
		db.wrote(int64(len(v)) + entryDiskOverhead)
		return wb.Set(k, v)
	}
	if err := errors.Join(set(metaFormatKey, formatValue), set(metaNextKey, be64(uint64(sv.next)))); err != nil {
		return err
	}
	if sv.clock != nil {
		if err := set(metaClockKey, sv.clock); err != nil {
			return err
		}
	}
	for _, e := range sv.entries {
		if err := set(seqKey(entryPrefix, e.seq), e.value); err != nil {
			return err
		}
	}
	for _, e := range slices.Concat(sv.unreadable, sv.quarantined) {
		if err := set(seqKey(quarantinePrefix, e.seq), e.value); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	return db.Sync()
}

// unlistedBeyond counts the live entries numbered next or above in the
// tables set aside as unlisted.
func unlistedBeyond(dir string, next Seq) int {
	names, _ := filepath.Glob(filepath.Join(dir, unlistedDir, "*.sst"))
	if len(names) == 0 {
		return 0
	}
	s := &salvager{dir: dir, latest: make(map[string]keyVersion)}
	for _, name := range names {
		s.readTable(name)
	}
	n := 0
	for key, v := range s.latest {
		if seq, ok := keySeq([]byte(key)); ok && key[0] == entryPrefix && !v.deleted && seq >= next {
			n++
		}
	}
	return n
}

// hasStoreFiles reports whether dir holds table or log files: the engine
// writes its MANIFEST before any of them, so without one they mean a lost
// MANIFEST, not a new store.
func hasStoreFiles(dir string) bool {
	for _, ext := range []string{"*.sst", "*.vlog", "*.mem"} {
		if names, _ := filepath.Glob(filepath.Join(dir, ext)); len(names) > 0 {
			return true
		}
	}
	return false
}
