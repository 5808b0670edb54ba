package filed

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/record"
)

// Defaults of Options.
const (
	// DefaultWindow is how long a filing stays correctable: a day covers a
	// discharge or admission recorded late at the end of the next shift.
	DefaultWindow = 24 * time.Hour
	// DefaultMaxEntries bounds the ledger: 200,000 entries are a day of two
	// monitors reading every second, or eight hours of six. Measured: 750
	// bytes an entry on disk for a pulse oximeter's reading (1.3 KB for a
	// multi-parameter monitor's), 34 bytes of heap (a slot and its share of
	// the slice), and 0.3 s to reopen 20,000 entries: about 150 to 260 MB,
	// 7 MB and 3 s at the bound.
	DefaultMaxEntries = 200_000
)

// segmentsPerLedger is how many segments the window and the entries are
// split into: pruning drops a sixteenth at a time.
const segmentsPerLedger = 16

// maxFrame bounds the data of one frame read back (a record is 1 to 4 KB).
const maxFrame = 1 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Options configure a Ledger. The zero value of each field means its
// default.
type Options struct {
	// Window is how long an entry is kept after it was filed; entries
	// older than that are pruned and no longer returned. The default is
	// DefaultWindow.
	Window time.Duration
	// MaxEntries bounds the entries kept (corrections included): beyond
	// it the oldest are pruned. The default is DefaultMaxEntries.
	MaxEntries int
	// Now is the clock. The default is time.Now.
	Now func() time.Time
}

// Entry is one filing of one reading.
type Entry struct {
	// Origin identifies the reading across its corrections: the id of the
	// first observation of its first filing (of a NEWS2 score, the
	// score's). Add sets it when empty.
	Origin string `json:"origin"`
	// Quarantined says the reading went to the bed's quarantine topic for
	// want of a patient: nothing was filed for it.
	Quarantined bool `json:"quarantined,omitempty"`
	// Struck says the filing was struck out with nothing filed in its
	// place (a NEWS2 score computed from readings corrected since).
	Struck bool `json:"struck,omitempty"`
	// Record is the reading as it was encoded: its patient (nil for
	// none), its observation identifiers.
	Record record.Record `json:"record"`
}

// Subject returns the patient the entry filed the reading for, and false
// for none.
func (e Entry) Subject() (record.Patient, bool) {
	if e.Quarantined || e.Record.Patient == nil {
		return record.Patient{}, false
	}
	return *e.Record.Patient, true
}

// Item describes an entry: enough to decide whether it needs a correction
// (Read gives the entry itself).
type Item struct {
	Bed string
	// At is the reading time (assoc.ReadingTime) the subject was decided at.
	At time.Time
	// Subject is the patient filed for; HasSubject is false for none.
	Subject    record.Patient
	HasSubject bool
	// Score marks a NEWS2 score (record.KindNEWS2), Struck a filing struck
	// out (Entry.Struck).
	Score, Struck bool
	seg           uint64
	off           int64
}

// Ledger is the durable, bounded ledger of filings. It is safe for
// concurrent use.
type Ledger struct {
	dir  string
	opts Options

	mu      sync.Mutex
	segs    []*segment // oldest first; the last is written to
	items   map[string][]slot
	written uint64 // frames written, for group commit
	// patients are the subjects the slots name, each once: a slot keeps
	// an index into them (slot.subject). Rebuilt when segments are pruned.
	patients  []record.Patient
	patientAt map[record.Patient]uint32

	syncMu sync.Mutex
	synced uint64
}

// slot is what the ledger keeps in memory of an entry: 32 bytes, 34 with
// its share of the slice (measured over 50,000 entries). The Item it
// replaced, with its strings, took 122: 24 MB at DefaultMaxEntries, which
// is a ward's steady state at any rate once a day's filings or the bound
// is reached.
type slot struct {
	at      int64 // the reading time, Unix nanoseconds (zeroTime: none)
	off     int64
	seg     uint32
	subject uint32 // 1 + the index in Ledger.patients; 0: no subject
	flags   uint8
}

const (
	slotScore = 1 << iota
	slotStruck
)

// zeroTime stands for the zero time.Time in slot.at.
const zeroTime = math.MinInt64

// The times a slot holds as they are (Unix nanoseconds: 1678 to 2262);
// those outside are held as the nearest (see nanos).
var (
	minSlotTime = time.Unix(0, zeroTime+1)
	maxSlotTime = time.Unix(0, math.MaxInt64)
)

// nanos returns t as a slot holds it: Unix nanoseconds, clamped to the
// range they cover (an admission event's year 2924, a typing error, still
// compares after every real time), zeroTime for the zero time.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroTime
	case t.Before(minSlotTime):
		return zeroTime + 1
	case t.After(maxSlotTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// segment is one file of the ledger.
type segment struct {
	id          uint64
	f           *os.File
	size        int64
	n           int
	first, last time.Time // filing times
}

// Open opens (creating) the ledger in dir and replays it.
func Open(dir string, opts Options) (*Ledger, error) {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("filed: %w", err)
	}
	l := &Ledger{dir: dir, opts: opts, items: make(map[string][]slot), patientAt: make(map[record.Patient]uint32)}
	names, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return nil, fmt.Errorf("filed: %w", err)
	}
	slices.Sort(names) // fixed-width hex ids: oldest first
	origins := make(map[string]int)
	for _, name := range names {
		id, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(name), ".seg"), 16, 64)
		if err != nil {
			continue // not ours
		}
		if err := l.replay(id, name, origins); err != nil {
			l.Close()
			return nil, err
		}
	}
	l.prune(opts.Now())
	return l, nil
}

// replay opens one segment and indexes its entries; a later entry of the
// same origin supersedes an earlier one.
func (l *Ledger) replay(id uint64, name string, origins map[string]int) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0o640)
	if err != nil {
		return fmt.Errorf("filed: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("filed: %w", err)
	}
	s := &segment{id: id, f: f, first: st.ModTime(), last: st.ModTime()}
	r := bufio.NewReader(f)
	for {
		data, n, ok := readFrame(r)
		if !ok {
			break
		}
		var e Entry
		if json.Unmarshal(data, &e) == nil {
			bed, sl := e.Record.Bed, l.slot(e, id, s.size)
			key := bed + "\x00" + e.Origin
			if i, ok := origins[key]; ok && i < len(l.items[bed]) {
				l.items[bed][i] = sl
			} else {
				origins[key] = len(l.items[bed])
				l.items[bed] = append(l.items[bed], sl)
			}
		}
		s.size += n
		s.n++
	}
	if err := f.Truncate(s.size); err != nil { // a torn last frame
		f.Close()
		return fmt.Errorf("filed: %w", err)
	}
	if _, err := f.Seek(s.size, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("filed: %w", err)
	}
	l.segs = append(l.segs, s)
	return nil
}

// slot returns the slot of entry e, written at off in segment seg. l.mu
// held (or the ledger not yet shared).
func (l *Ledger) slot(e Entry, seg uint64, off int64) slot {
	sl := slot{at: nanos(assoc.ReadingTime(e.Record)), off: off, seg: uint32(seg)}
	if p, ok := e.Subject(); ok {
		sl.subject = l.intern(p)
	}
	if e.Record.Kind == record.KindNEWS2 {
		sl.flags |= slotScore
	}
	if e.Struck {
		sl.flags |= slotStruck
	}
	return sl
}

// intern returns p's slot.subject.
func (l *Ledger) intern(p record.Patient) uint32 {
	if i, ok := l.patientAt[p]; ok {
		return i
	}
	l.patients = append(l.patients, p)
	i := uint32(len(l.patients))
	l.patientAt[p] = i
	return i
}

// item is the Item a slot of bed stands for. l.mu held.
func (l *Ledger) item(bed string, sl slot) Item {
	it := Item{Bed: bed, Score: sl.flags&slotScore != 0, Struck: sl.flags&slotStruck != 0, seg: uint64(sl.seg), off: sl.off}
	if sl.at != zeroTime {
		it.At = time.Unix(0, sl.at).UTC()
	}
	if sl.subject != 0 {
		it.Subject, it.HasSubject = l.patients[sl.subject-1], true
	}
	return it
}

func readFrame(r io.Reader) (data []byte, n int64, ok bool) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, false
	}
	size := binary.BigEndian.Uint32(hdr[:4])
	if size > maxFrame {
		return nil, 0, false
	}
	data = make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, 0, false
	}
	if crc32.Checksum(data, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
		return nil, 0, false
	}
	return data, int64(len(hdr)) + int64(size), true
}

// Add records a filing; it returns once the entry is synced to disk
// (Write, then Sync).
func (l *Ledger) Add(e Entry) error {
	if err := l.Write(e); err != nil {
		return err
	}
	return l.Sync()
}

// Write records a filing without waiting for it to reach the disk: the
// next Sync (or Add, or Replace) makes it durable. A writer whose filings
// must be durable before something else is (the gateway: before the
// outbox appends the filed reading) syncs before that, once for many
// filings.
func (l *Ledger) Write(e Entry) error {
	switch {
	case e.Origin != "":
	case len(e.Record.Observations) > 0:
		e.Origin = e.Record.Observations[0].ID
	case e.Record.NEWS2 != nil:
		e.Origin = e.Record.NEWS2.ID
	}
	_, _, err := l.write(e, nil)
	return err
}

// Sync makes every filing written so far durable.
func (l *Ledger) Sync() error {
	l.mu.Lock()
	gen := l.written
	l.mu.Unlock()
	return l.sync(gen)
}

// Replace records e, a correction of the filing it indexes, in its place:
// the item then stands for e. It returns once e is synced.
func (l *Ledger) Replace(old Item, e Entry) error {
	_, gen, err := l.write(e, &old)
	if err != nil {
		return err
	}
	return l.sync(gen)
}

// write writes e, in old's place when old is set, and returns its item and
// the write's generation; it does not sync.
func (l *Ledger) write(e Entry, old *Item) (Item, uint64, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return Item{}, 0, fmt.Errorf("filed: %w", err)
	}
	if len(data) > maxFrame {
		return Item{}, 0, fmt.Errorf("filed: entry of %d bytes is over %d", len(data), maxFrame)
	}
	frame := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint32(frame[:4], uint32(len(data)))
	binary.BigEndian.PutUint32(frame[4:], crc32.Checksum(data, crcTable))
	frame = append(frame, data...)

	l.mu.Lock()
	now := l.opts.Now()
	s, err := l.current(now)
	if err != nil {
		l.mu.Unlock()
		return Item{}, 0, err
	}
	if _, err := s.f.Write(frame); err != nil {
		_ = s.f.Truncate(s.size)
		_, _ = s.f.Seek(s.size, io.SeekStart)
		l.mu.Unlock()
		return Item{}, 0, fmt.Errorf("filed: write: %w", err)
	}
	sl := l.slot(e, s.id, s.size)
	it := l.item(e.Record.Bed, sl)
	s.size += int64(len(frame))
	s.n++
	s.last = now
	l.put(e.Record.Bed, sl, old)
	l.written++
	gen := l.written
	l.mu.Unlock()
	return it, gen, nil
}

// put indexes sl for bed, in old's place when old is still indexed. l.mu
// held.
func (l *Ledger) put(bed string, sl slot, old *Item) {
	items := l.items[bed]
	if old != nil {
		for i, x := range items {
			if uint64(x.seg) == old.seg && x.off == old.off {
				items[i] = sl
				return
			}
		}
	}
	l.items[bed] = append(items, sl)
}

// sync makes every frame up to gen durable; concurrent callers share a
// sync.
func (l *Ledger) sync(gen uint64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= gen {
		return nil
	}
	l.mu.Lock()
	target := l.written
	f := l.segs[len(l.segs)-1].f
	l.mu.Unlock()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("filed: sync: %w", err)
	}
	l.synced = target
	return nil
}

// current returns the segment to write to, starting a new one (and pruning)
// when the last is full or old. l.mu held.
func (l *Ledger) current(now time.Time) (*segment, error) {
	if n := len(l.segs); n > 0 {
		s := l.segs[n-1]
		if s.n < l.perSegment() && now.Sub(s.first) < l.opts.Window/segmentsPerLedger {
			return s, nil
		}
		// Frames written before the switch must be synced before a
		// writer after it syncs only the new file.
		if err := s.f.Sync(); err != nil {
			return nil, fmt.Errorf("filed: sync: %w", err)
		}
	}
	var id uint64 = 1
	if n := len(l.segs); n > 0 {
		id = l.segs[n-1].id + 1
	}
	f, err := os.OpenFile(filepath.Join(l.dir, fmt.Sprintf("%016x.seg", id)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("filed: %w", err)
	}
	syncDir(l.dir)
	s := &segment{id: id, f: f, first: now, last: now}
	l.segs = append(l.segs, s)
	l.prune(now)
	return s, nil
}

func (l *Ledger) perSegment() int { return max(1, l.opts.MaxEntries/segmentsPerLedger) }

// prune deletes the segments last written more than Window ago, then the
// oldest while the others leave no room for a full segment within
// MaxEntries; never the segment written to. l.mu held (or the ledger not
// yet shared).
func (l *Ledger) prune(now time.Time) {
	total := 0
	for _, s := range l.segs {
		total += s.n
	}
	gone := map[uint64]bool{}
	for len(l.segs) > 1 {
		s := l.segs[0]
		if now.Sub(s.last) < l.opts.Window && total+l.perSegment() <= l.opts.MaxEntries {
			break
		}
		s.f.Close()
		_ = os.Remove(s.f.Name())
		gone[s.id] = true
		total -= s.n
		l.segs = l.segs[1:]
	}
	if len(gone) == 0 {
		return
	}
	patients := l.patients
	l.patients, l.patientAt = nil, make(map[record.Patient]uint32)
	for bed, items := range l.items {
		items = slices.DeleteFunc(items, func(sl slot) bool { return gone[uint64(sl.seg)] })
		if len(items) == 0 {
			delete(l.items, bed)
			continue
		}
		for i := range items {
			if items[i].subject != 0 {
				items[i].subject = l.intern(patients[items[i].subject-1])
			}
		}
		l.items[bed] = items
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Since returns the items of every bed whose reading time is at or after
// from and within the window, in the order they were filed per bed.
func (l *Ledger) Since(from time.Time) []Item {
	l.mu.Lock()
	defer l.mu.Unlock()
	if floor := l.opts.Now().Add(-l.opts.Window); from.Before(floor) {
		from = floor
	}
	after := nanos(from)
	var out []Item
	for bed, items := range l.items {
		for _, sl := range items {
			if sl.at != zeroTime && sl.at >= after {
				out = append(out, l.item(bed, sl))
			}
		}
	}
	return out
}

// ErrPruned is returned by Read for an item whose segment was pruned since.
var ErrPruned = errors.New("filed: entry pruned")

// Read returns the entry an item indexes.
func (l *Ledger) Read(it Item) (Entry, error) {
	l.mu.Lock()
	var f *os.File
	for _, s := range l.segs {
		if s.id == it.seg {
			f = s.f
		}
	}
	l.mu.Unlock()
	if f == nil {
		return Entry{}, ErrPruned
	}
	data, _, ok := readFrame(io.NewSectionReader(f, it.off, maxFrame+8))
	if !ok {
		return Entry{}, fmt.Errorf("filed: entry at %d of segment %d does not read back", it.off, it.seg)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("filed: entry at %d of segment %d: %w", it.off, it.seg, err)
	}
	return e, nil
}

// Len returns the number of readings indexed.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, items := range l.items {
		n += len(items)
	}
	return n
}

// Close closes the ledger's files; the entries stay for the next Open.
func (l *Ledger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, s := range l.segs {
		errs = append(errs, s.f.Close())
	}
	return errors.Join(errs...)
}
