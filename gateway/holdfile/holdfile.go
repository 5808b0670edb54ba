package holdfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// MaxEntryLen is the largest entry Add accepts.
const MaxEntryLen = 1 << 20

var (
	// ErrTooLarge is returned by Add for an entry over MaxEntryLen bytes.
	ErrTooLarge = errors.New("holdfile: entry too large")
	// ErrNotLive is returned by Read for a key that names no live entry
	// (never added, or done).
	ErrNotLive = errors.New("holdfile: no live entry")
	// ErrDamaged is returned by Read (and Entries) when an entry's frame
	// cannot be read back from the file as it was written (its checksum no
	// longer matches, or the read fails).
	ErrDamaged = errors.New("holdfile: entry damaged on disk")
)

const (
	opAdd  = 1
	opDone = 2
	header = 1 + 8 + 4
	// compactAt is the least file size at which a rewrite is considered.
	compactAt = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Entry is one live entry.
type Entry struct {
	Key  uint64
	Data []byte
}

// Stats describe the file.
type Stats struct {
	Live    int   // live entries
	Bytes   int64 // file size
	Damaged int64 // bytes cut off a damaged tail at Open
}

// File is an open hold file. It is safe for concurrent use. It keeps in
// memory where each live entry lies in the file, not its data, which Read
// reads back: the gateway holds up to 20,000 readings
// (assoc.DefaultMaxHeld; a ward of 64 beds × 50 Hz holds 16,000 within a
// 5 s grace), 1 to 4 KB of JSON each, and keeps them nowhere else.
type File struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	size    int64
	live    map[uint64]span
	liveLen int64
	next    uint64
	damaged int64

	// Adds share syncs (group commit): writes counts the frames written,
	// synced those a sync has covered, and failed those a failed sync
	// covered, with its error. While a sync runs, syncing is closed when
	// it ends and syncUpto is the frames it covers; queued, once an Add
	// written after it started waits, is closed when the next sync ends.
	// lead wakes one of those Adds to run that sync (see syncThrough).
	writes   uint64
	synced   uint64
	failed   uint64
	syncErr  error
	syncing  chan struct{}
	syncUpto uint64
	queued   chan struct{}
	lead     chan struct{}
	wakes    int                  // waiting Adds woken; TestGroupCommit counts them
	sync     func(*os.File) error // (*os.File).Sync; tests fail it
}

// span is where an entry's data lies in the file.
type span struct {
	off int64
	n   int
}

// Open opens (creating) the hold file at path and replays it.
func Open(path string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("holdfile: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("holdfile: %w", err)
	}
	h := &File{path: path, f: f, live: make(map[uint64]span), next: 1, lead: make(chan struct{}, 1), sync: (*os.File).Sync}
	good, err := h.replay()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() > good {
		h.damaged = st.Size() - good
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("holdfile: cut damaged tail: %w", err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("holdfile: %w", err)
	}
	h.size = good
	return h, nil
}

// replay reads frames from the start and returns the offset after the last
// good one.
func (h *File) replay() (int64, error) {
	if _, err := h.f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("holdfile: %w", err)
	}
	r := bufio.NewReader(h.f)
	var off int64
	for {
		op, key, data, n, ok := readFrame(r)
		if !ok {
			return off, nil
		}
		h.next = max(h.next, key+1)
		switch op {
		case opAdd:
			h.put(key, span{off: off + header, n: len(data)})
		case opDone:
			h.drop(key)
		}
		off += n
	}
}

// readFrame reads one frame; ok is false at the end or at damage.
func readFrame(r io.Reader) (op byte, key uint64, data []byte, n int64, ok bool) {
	var hdr [header]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, nil, 0, false
	}
	op, key = hdr[0], binary.BigEndian.Uint64(hdr[1:9])
	size := binary.BigEndian.Uint32(hdr[9:13])
	if (op != opAdd && op != opDone) || size > MaxEntryLen || (op == opDone && size != 0) {
		return 0, 0, nil, 0, false
	}
	body := make([]byte, int(size)+4)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, nil, 0, false
	}
	sum := crc32.Update(crc32.Checksum(hdr[:], crcTable), crcTable, body[:size])
	if sum != binary.BigEndian.Uint32(body[size:]) {
		return 0, 0, nil, 0, false
	}
	return op, key, body[:size], int64(header + len(body)), true
}

func frame(op byte, key uint64, data []byte) []byte {
	b := make([]byte, header, header+len(data)+4)
	b[0] = op
	binary.BigEndian.PutUint64(b[1:9], key)
	binary.BigEndian.PutUint32(b[9:13], uint32(len(data)))
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func (h *File) put(key uint64, at span) {
	h.drop(key)
	h.live[key] = at
	h.liveLen += int64(at.n)
}

func (h *File) drop(key uint64) {
	if at, ok := h.live[key]; ok {
		h.liveLen -= int64(at.n)
		delete(h.live, key)
	}
}

// Keys returns the keys of the live entries in the order they were added.
func (h *File) Keys() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.keysLocked()
}

func (h *File) keysLocked() []uint64 {
	keys := make([]uint64, 0, len(h.live))
	for k := range h.live {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Entries returns the live entries in the order they were added, read
// back from the file.
func (h *File) Entries() ([]Entry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Entry, 0, len(h.live))
	for _, k := range h.keysLocked() {
		data, err := h.readLocked(k, h.live[k])
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Key: k, Data: data})
	}
	return out, nil
}

// Read returns the data of the live entry with key, read back from the
// file and checked as Open checks every frame.
func (h *File) Read(key uint64) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	at, ok := h.live[key]
	if !ok {
		return nil, fmt.Errorf("%w: key %d", ErrNotLive, key)
	}
	return h.readLocked(key, at)
}

// readLocked reads the frame of the entry with key back (one positioned
// read: the file offset appends write at does not move) and returns its
// data. A frame that no longer reads as that entry's (its checksum, key or
// length changed, or the read failed) is ErrDamaged.
func (h *File) readLocked(key uint64, at span) ([]byte, error) {
	start := at.off - header
	b := make([]byte, header+at.n+4)
	_, err := h.f.ReadAt(b, start)
	end := header + at.n
	if err != nil || b[0] != opAdd || binary.BigEndian.Uint64(b[1:9]) != key ||
		binary.BigEndian.Uint32(b[9:13]) != uint32(at.n) ||
		crc32.Checksum(b[:end], crcTable) != binary.BigEndian.Uint32(b[end:]) {
		return nil, fmt.Errorf("%w: key %d at offset %d", ErrDamaged, key, start)
	}
	return b[header:end:end], nil
}

// Add stores data and returns its key once it is synced to disk. Adds
// that arrive while a sync runs share the next one.
func (h *File) Add(data []byte) (uint64, error) {
	if len(data) > MaxEntryLen {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	h.mu.Lock()
	key := h.next
	at := span{off: h.size + header, n: len(data)}
	if err := h.write(frame(opAdd, key, data)); err != nil {
		h.mu.Unlock()
		return 0, err
	}
	h.next++
	h.put(key, at)
	mine := h.writes
	h.mu.Unlock()
	if err := h.syncThrough(mine); err != nil {
		h.mu.Lock()
		h.drop(key)
		h.mu.Unlock()
		return 0, fmt.Errorf("holdfile: sync: %w", err)
	}
	return key, nil
}

// syncThrough returns once the first n frames written are synced: by a
// sync that started after they were written, its own or another Add's.
// Every Add a failed sync covered fails with its error. One sync runs at a
// time, and each waiting Add is woken once: those it covers when it ends;
// those written after it started wait for the next, which one of them is
// woken to run (lead). Waking every waiter at each sync's end, to look
// again, woke each Add of a burst 2.2 times on average (BenchmarkWard).
func (h *File) syncThrough(n uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Whoever leaves while Adds wait for a sync that nobody runs wakes one
	// of them: the runner of the sync that ended, or an Add the token woke
	// that needs no sync after all (a compaction covered it, or it took a
	// token meant for the next sync's Adds).
	defer h.passLead()
	for {
		switch {
		case n <= h.failed:
			return h.syncErr
		case n <= h.synced:
			return nil
		case h.syncing != nil && n <= h.syncUpto:
			done := h.syncing
			h.mu.Unlock()
			<-done
			h.mu.Lock()
			h.wakes++
			continue
		case h.syncing != nil:
			// Written after the running sync started: the next one covers
			// it, run by whichever waiting Add lead wakes (or a new Add).
			if h.queued == nil {
				h.queued = make(chan struct{})
			}
			next := h.queued
			h.mu.Unlock()
			select {
			case <-next:
			case <-h.lead:
			}
			h.mu.Lock()
			h.wakes++
			continue
		}
		// No sync runs: run one, for the Adds queued for it too.
		done := h.queued
		if done == nil {
			done = make(chan struct{})
		}
		h.queued = nil
		f, upto := h.f, h.writes
		h.syncing, h.syncUpto = done, upto
		h.mu.Unlock()
		err := h.sync(f)
		h.mu.Lock()
		h.syncing = nil
		close(done)
		switch {
		case n <= h.synced:
			// The file was compacted meanwhile (rewrite syncs what it keeps).
			return nil
		case err != nil:
			h.failed, h.syncErr = upto, err
			return err
		}
		h.synced = upto
		return nil
	}
}

// passLead wakes one Add waiting for the next sync when no sync runs (a
// token already there wakes one as well). h.mu is held.
func (h *File) passLead() {
	if h.syncing == nil && h.queued != nil {
		select {
		case h.lead <- struct{}{}:
		default:
		}
	}
}

// coverAll marks every frame written as synced (a compaction left only
// synced data) and wakes the Adds waiting for the next sync: none is
// needed. h.mu is held.
func (h *File) coverAll() {
	h.synced = h.writes
	if h.queued != nil {
		close(h.queued)
		h.queued = nil
	}
}

// Done removes the entry with key. It is not synced on its own (the next
// Add's sync covers it): after a crash an entry done just before may come
// back, so what it stands for must be safe to do twice.
func (h *File) Done(key uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.live[key]; !ok {
		return nil
	}
	h.drop(key)
	if len(h.live) == 0 {
		return h.reset()
	}
	if err := h.write(frame(opDone, key, nil)); err != nil {
		return err
	}
	if h.size > compactAt && h.size > 4*h.liveLen {
		return h.rewrite()
	}
	return nil
}

func (h *File) write(b []byte) error {
	if _, err := h.f.Write(b); err != nil {
		// Cut a partial frame off, so that later frames follow good ones.
		_ = h.f.Truncate(h.size)
		_, _ = h.f.Seek(h.size, io.SeekStart)
		return fmt.Errorf("holdfile: write: %w", err)
	}
	h.size += int64(len(b))
	h.writes++
	return nil
}

// reset empties the file (no entry is live).
func (h *File) reset() error {
	if err := h.f.Truncate(0); err != nil {
		return fmt.Errorf("holdfile: %w", err)
	}
	if _, err := h.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("holdfile: %w", err)
	}
	h.size = 0
	if err := h.f.Sync(); err != nil {
		return err
	}
	h.coverAll() // nothing live is left to sync
	return nil
}

// rewrite replaces the file with one holding only the live entries.
func (h *File) rewrite() error {
	tmp := h.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("holdfile: compact: %w", err)
	}
	w := bufio.NewWriter(f)
	var size int64
	moved := make(map[uint64]span, len(h.live))
	var readErr error
	for _, k := range h.keysLocked() {
		data, err := h.readLocked(k, h.live[k])
		if err != nil {
			readErr = err
			break
		}
		b := frame(opAdd, k, data)
		w.Write(b)
		moved[k] = span{off: size + header, n: len(data)}
		size += int64(len(b))
	}
	if err := errors.Join(readErr, w.Flush(), f.Sync()); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("holdfile: compact: %w", err)
	}
	if err := os.Rename(tmp, h.path); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("holdfile: compact: %w", err)
	}
	if d, err := os.Open(filepath.Dir(h.path)); err == nil {
		d.Sync()
		d.Close()
	}
	h.f.Close()
	h.f, h.size, h.live = f, size, moved
	h.coverAll() // every live entry is in the synced new file
	return nil
}

// Stats returns the file's counters.
func (h *File) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{Live: len(h.live), Bytes: h.size, Damaged: h.damaged}
}

// Close closes the file; live entries stay on disk for the next Open.
func (h *File) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.f.Close()
}
