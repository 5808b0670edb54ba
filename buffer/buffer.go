package buffer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Seq is an entry's sequence number. Sequence numbers start at 1 and are
// contiguous and increasing for the life of the store directory, across
// restarts and crashes.
type Seq uint64

// Entry is one stored payload handed out by Next.
type Entry struct {
	// Seq identifies the entry for Ack and Release.
	Seq Seq
	// Payload is a copy the caller owns and may modify.
	Payload []byte
	// Appended is when the entry was committed.
	Appended time.Time
}

// Drop reasons, the keys of Stats.Dropped.
const (
	DropFull = "full" // dropped to make room under Options.MaxBytes
	DropAge  = "age"  // dropped because it was older than Options.MaxAge
)

// Stats is a snapshot of a Buffer's state and counters. Counters count since
// Open.
type Stats struct {
	// Entries and Bytes are the stored entries not yet acked or dropped,
	// in flight included, and their payload bytes.
	Entries int64
	Bytes   int64
	// OldestAge is the age of the oldest stored entry, or 0 when empty,
	// measured on the age clock (see Options.Uptime), not the wall clock.
	OldestAge time.Duration
	// InFlight counts entries handed out by Next and neither acked nor
	// released.
	InFlight int64
	// Appended and Acked count successful Appends and entries deleted by
	// Ack.
	Appended uint64
	Acked    uint64
	// Dropped counts entries dropped by the buffer, by reason (DropFull,
	// DropAge) and appends refused (DropDiskFull). The map is a copy and
	// always holds the three keys.
	Dropped map[string]uint64
	// Quarantined counts entries held in quarantine because their stored
	// value could not be read, including those found at earlier Opens.
	Quarantined int64
	// Syncs counts group commits; Appended/Syncs is the mean group size.
	Syncs uint64
	// LastSyncLatency is how long the last group commit took to write and
	// sync.
	LastSyncLatency time.Duration
	// NextSeq is the sequence number the next Append will get.
	NextSeq Seq
	// RecoveredFrom is the path an unreadable store was moved to at Open,
	// or empty.
	RecoveredFrom string
	// Salvage reports what was recovered from an unreadable store at Open
	// (zero when none was); RecoveredFrom is its From.
	Salvage SalvageReport
	// Incarnation identifies this store (see Buffer.Incarnation).
	Incarnation string
	// DiskFree is the free space on the store's filesystem at the last
	// commit (-1 when unknown), DiskReserve the part of it kept for the
	// storage engine (Options.DiskReserve), and LimitBytes the effective
	// bound on Bytes: the smaller of MaxBytes and Bytes plus what the
	// filesystem can take above the reserve.
	DiskFree    int64
	DiskReserve int64
	LimitBytes  int64
}

// Buffer is a durable, ordered outbox of opaque payloads. All methods are
// safe for concurrent use.
type Buffer struct {
	// db is the storage engine, nil while it is closed for idleness
	// (idle.go). The committer opens and closes it, under dbMu, which
	// readers on other goroutines hold for reading; Close closes it once
	// the committer has exited.
	db            *engine
	dbMu          sync.RWMutex
	dir           string
	lock          *os.File  // the directory's lock (lockDir), or nil
	idle          idleState // committer only
	opts          Options
	log           *slog.Logger
	recoveredFrom string
	salvage       SalvageReport
	incarnation   string
	clock         *ageClock
	space         *space

	wake     chan struct{} // capacity 1: work for the committer
	done     chan struct{} // closed by Close
	finished chan struct{} // closed when the committer has exited

	mu      sync.Mutex
	closed  bool
	readers sync.WaitGroup // Next calls reading the store
	idx     index
	next    Seq
	avail   chan struct{} // closed when entries become ready
	queue   []*appendRequest
	writing Seq   // appends taken from the queue by the group being written
	deletes []Seq // acked or dropped, not yet deleted on disk
	// flush fires deleteFlush after deletions became pending; flushArmed
	// says it is running. Ack arms it, the committer stops it once
	// nothing is pending.
	flush          *time.Timer
	flushArmed     bool
	unreadable     []Seq // unreadable, to move to the quarantine prefix
	appended       uint64
	acked          uint64
	droppedFull    uint64
	droppedAge     uint64
	quarantined    int64
	syncs          uint64
	lastSync       time.Duration
	lastCheckpoint time.Duration // age clock at the last persisted checkpoint
	savedState     storeState    // committer only, then Close
	stateFile      *os.File      // committer only, then Close; nil until the first save
	disk           diskState
}

type appendRequest struct {
	payload []byte
	// build, when set, makes the payload once the request's Seq is known
	// (AppendFunc); built is the Seq it was made for. building is true
	// while the caller builds it (under mu), and err is its failure.
	build    func(Seq) ([]byte, error)
	built    Seq
	building bool
	err      error
	result   chan appendResult // capacity 1
}

type appendResult struct {
	seq Seq
	err error
}

// Open opens (creating if needed) the store in dir. It validates opts first
// and reports fixable errors. A store that exists but cannot be read is moved
// to "<dir>.corrupt-<UTC time>", logged as an error and reported in
// Stats.RecoveredFrom, and a fresh store is opened in its place; Open never
// panics. Errors that moving the store would not cure, such as permissions
// or a store in use by another process, are returned.
func Open(dir string, opts Options) (*Buffer, error) {
	if dir == "" {
		return nil, errors.New("buffer: empty store directory")
	}
	var cacheFor time.Duration // the system's statfs: its readings serve a while
	if opts.statfs == nil {
		opts.statfs, cacheFor = systemStatfs, freeCacheFor
	}
	if opts.statfs != nil {
		if _, total, err := statfsOf(opts.statfs, dir); err == nil {
			opts = opts.fitToDisk(total)
		}
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	o.Logger = o.Logger.With("component", "buffer")
	log := o.Logger
	sp := &space{dir: dir, ballast: filepath.Clean(dir) + ".reserve", statfs: o.statfs,
		reserve: o.DiskReserve, ballastSize: o.DiskReserve, cacheFor: cacheFor}
	// The directory's lock is taken first and held from here on (across
	// moving an unreadable store aside and salvaging it, until the fresh
	// one is locked), so a second opener touches nothing, the reserve file
	// included.
	var r *recovered
	lock, err := prepareDir(dir)
	var ce *corruptError
	if err != nil && !errors.As(err, &ce) {
		return nil, err
	}
	defer func() {
		if lock != nil && (r == nil || r.lock != lock) {
			lock.Close() // not handed to a Buffer
		}
	}()
	if err == nil {
		if free := sp.free(); free >= 0 && free < sp.reserve && sp.releaseBallast() {
			log.Warn("buffer: disk nearly full at open; released the reserve file so the store can open and drain",
				"free", free, "reserve", sp.reserve, "released", sp.ballastSize)
		}
		if err = roomToOpen(sp, o, dir); err == nil {
			r, err = openStore(dir, o, log, nil, lock)
		}
	}
	if isNoSpace(err) && !errors.Is(err, ErrDiskFull) {
		return nil, fmt.Errorf("buffer: the disk is full; free space on the filesystem of %s: %w", dir, err)
	}
	var aside string
	var report SalvageReport
	if errors.As(err, &ce) {
		aside, err = moveAside(dir, o.Now())
		if err != nil {
			return nil, fmt.Errorf("%w; %w", ce, err)
		}
		// The fresh directory is locked before the salvage, which may
		// take a while: a second opener meanwhile is refused.
		fresh, ferr := prepareDir(dir)
		if lock != nil {
			lock.Close() // the moved store's
		}
		lock, err = fresh, ferr
		if err != nil {
			return nil, fmt.Errorf("buffer: open fresh store after moving the unreadable one aside: %w", err)
		}
		sv := salvageStore(aside)
		report = sv.report(aside)
		log.Error("buffer: store unreadable, moved aside and salvaged into a fresh store", "dir", dir, "moved_to", aside,
			"err", ce.err, "recovered", report.Recovered, "unreadable", report.Unreadable, "missing", report.Missing,
			"problems", strings.Join(report.Problems, "; "))
		if err = roomToOpen(sp, o, dir); err == nil {
			r, err = openStore(dir, o, log, sv, lock)
		}
		if err != nil {
			return nil, fmt.Errorf("buffer: open fresh store after moving the unreadable one aside: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	b := &Buffer{
		db:            r.db,
		dir:           dir,
		lock:          r.lock,
		idle:          idleState{since: time.Now()},
		opts:          o,
		log:           log,
		recoveredFrom: aside,
		salvage:       report,
		space:         sp,
		disk:          diskState{free: sp.free()},
		incarnation:   r.incarnation,
		clock:         r.clock,
		wake:          make(chan struct{}, 1),
		done:          make(chan struct{}),
		finished:      make(chan struct{}),
		idx:           r.idx,
		next:          r.next,
		avail:         make(chan struct{}),
		quarantined:   r.quarantined,
		flush:         time.NewTimer(time.Hour),
	}
	b.flush.Stop()
	go b.run()
	return b, nil
}

// Append stores payload and returns its sequence number once it is durable
// (written and synced). Appends queued while a sync runs (or within
// Options.SyncWindow) share one write and one sync. The payload is copied; the caller may reuse it.
//
// If the payload is larger than Options.MaxBytes, Append returns an error
// wrapping ErrFull. If storing it would exceed MaxBytes, older entries are
// dropped first (see the package documentation). If ctx is done before the
// payload is queued, nothing is stored; if it ends while Append waits for
// the sync, Append returns ctx.Err() but the payload may still be stored and
// delivered.
func (b *Buffer) Append(ctx context.Context, payload []byte) (Seq, error) {
	if limit := b.opts.maxPayload(); int64(len(payload)) > limit {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrFull, len(payload), limit)
	}
	return b.enqueue(ctx, &appendRequest{payload: append([]byte(nil), payload...), result: make(chan appendResult, 1)})
}

// AppendFunc is Append for a payload that must carry its own sequence
// number: build is called with the Seq the payload will be stored under,
// and its result is stored as it is. An error from build (or a payload over
// the size limit) fails this append alone and uses no sequence number.
// build must not call the Buffer.
//
// build runs on the caller's goroutine, with the number the append takes
// in the queue, so that concurrent appenders encode in parallel while the
// committer only writes. Should that number change before the group is
// written (an append queued before it failed, or a write failed), the
// committer calls build again with the right one: every stored payload is
// built for exactly its Seq, and numbers stay gap-free.
func (b *Buffer) AppendFunc(ctx context.Context, build func(Seq) ([]byte, error)) (Seq, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	req := &appendRequest{build: build, building: true, result: make(chan appendResult, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, ErrClosed
	}
	seq := b.next + b.writing + Seq(len(b.queue))
	b.queue = append(b.queue, req)
	b.mu.Unlock()
	payload, err := b.buildFor(req, seq)
	b.mu.Lock()
	req.payload, req.built, req.err, req.building = payload, seq, err, false
	b.mu.Unlock()
	b.signal()
	return b.wait(ctx, req)
}

// buildFor builds req's payload for seq and checks its size.
func (b *Buffer) buildFor(req *appendRequest, seq Seq) ([]byte, error) {
	payload, err := req.build(seq)
	if limit := b.opts.maxPayload(); err == nil && int64(len(payload)) > limit {
		err = fmt.Errorf("%w: %d bytes, limit %d", ErrFull, len(payload), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("buffer: append: %w", err)
	}
	return payload, nil
}

func (b *Buffer) enqueue(ctx context.Context, req *appendRequest) (Seq, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, ErrClosed
	}
	b.queue = append(b.queue, req)
	b.mu.Unlock()
	b.signal()
	return b.wait(ctx, req)
}

// wait waits for a queued append's answer, or for ctx.
func (b *Buffer) wait(ctx context.Context, req *appendRequest) (Seq, error) {
	select {
	case res := <-req.result:
		return res.seq, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Next blocks until at least one stored entry is neither acked nor in
// flight, then returns up to max of them (at least 1) in sequence order and
// marks them in flight: later calls do not return them again until they are
// released. It does not poll. It returns ctx.Err() when ctx is done and
// ErrClosed once Close has been called.
func (b *Buffer) Next(ctx context.Context, max int) ([]Entry, error) {
	return b.take(ctx, max, 0, math.MaxUint64)
}

// NextBefore is Next restricted to entries with sequence numbers below
// before, and NextFrom to those at or above from. A publisher that noted
// NextSeq when its connection came up uses them to send readings appended
// since (NextFrom) apart from the backlog (NextBefore), each lane in
// sequence order; sequence numbers, unlike append times, never jump with
// the clock.
func (b *Buffer) NextBefore(ctx context.Context, max int, before Seq) ([]Entry, error) {
	return b.take(ctx, max, 0, before)
}

// NextFrom: see NextBefore.
func (b *Buffer) NextFrom(ctx context.Context, max int, from Seq) ([]Entry, error) {
	return b.take(ctx, max, from, math.MaxUint64)
}

// NextSeq returns the sequence number the next Append will get: every
// entry appended before the call has a lower one.
func (b *Buffer) NextSeq() Seq {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.next
}

// take marks up to n ready entries with sequence numbers in [from, to) in
// flight (dropping expired ones on the way) and reads them, waiting until
// there is one.
func (b *Buffer) take(ctx context.Context, n int, from, to Seq) ([]Entry, error) {
	limit := max(n, 1)
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, ErrClosed
		}
		if b.expireLocked() > 0 {
			b.signal()
		}
		picked := b.idx.takeReady(limit, from, to)
		if len(picked) == 0 {
			avail := b.avail
			b.mu.Unlock()
			select {
			case <-avail:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-b.done:
				return nil, ErrClosed
			}
		}
		b.readers.Add(1)
		b.mu.Unlock()
		entries, err := b.read(picked)
		b.readers.Done()
		if err != nil {
			b.Release(picked...)
			return nil, err
		}
		if len(entries) > 0 {
			return entries, nil
		}
	}
}

// read loads the payloads of in-flight entries. Entries deleted meanwhile
// (dropped to make room) are skipped; unreadable ones are quarantined.
func (b *Buffer) read(seqs []Seq) ([]Entry, error) {
	entries := make([]Entry, 0, len(seqs))
	var bad []Seq
	b.dbMu.RLock()
	defer b.dbMu.RUnlock()
	if b.db == nil {
		// Closed for idleness: nothing is stored, so every entry picked
		// has been acked or dropped since (by another lane, after a
		// release); the caller looks again.
		return entries, nil
	}
	err := b.db.View(func(txn *badger.Txn) error {
		// One iterator walks the keys in order (seqs are ascending): far
		// cheaper than a point lookup through every level per entry.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{entryPrefix}})
		defer it.Close()
		for _, s := range seqs {
			key := seqKey(entryPrefix, s)
			if !it.Valid() || !bytes.Equal(it.Item().Key(), key) {
				it.Seek(key)
			}
			if !it.Valid() || !bytes.Equal(it.Item().Key(), key) {
				continue // deleted meanwhile (dropped to make room)
			}
			v, err := it.Item().ValueCopy(nil)
			it.Next()
			if err != nil {
				return err
			}
			sv, err := decodeValue(v)
			if err != nil {
				b.log.Error("buffer: quarantining unreadable entry", "seq", uint64(s), "err", err)
				bad = append(bad, s)
				continue
			}
			entries = append(entries, Entry{Seq: s, Payload: sv.payload, Appended: sv.appended})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("buffer: read entries: %w", err)
	}
	if len(bad) > 0 {
		b.mu.Lock()
		for _, s := range bad {
			if i := b.idx.find(s); i >= 0 {
				b.idx.remove(i)
				b.unreadable = append(b.unreadable, s)
			}
		}
		b.idx.compact()
		b.mu.Unlock()
		b.signal()
	}
	return entries, nil
}

// Ack deletes the entries, normally once the broker has acknowledged them.
// They leave the queue at once; the deletions reach the disk in batches.
// Acking an unknown, already acked or dropped sequence number is harmless.
// The deletion is written with the next group commit and is not itself
// synced: after a power cut an acked entry may be delivered again, never
// lost. Ack returns ErrClosed after Close.
func (b *Buffer) Ack(seqs ...Seq) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	n := 0
	for _, s := range seqs {
		if i := b.idx.find(s); i >= 0 {
			b.disk.freed += int64(b.idx.at(i).size)
			b.idx.remove(i)
			b.deletes = append(b.deletes, s)
			n++
		}
	}
	b.acked += uint64(n)
	b.idx.compact()
	if n > 0 {
		b.armFlushLocked()
	}
	batch := len(b.deletes) >= deleteBatch
	b.mu.Unlock()
	if batch {
		b.signal()
	}
	return nil
}

// Deletions of acknowledged entries are written in batches: with the next
// group of appends, once deleteBatch are pending, or deleteFlush after the
// first. A deletion lost to a crash only means a duplicate delivery. The
// flush is also what gives space back on a disk running low, when no
// appends come to carry the deletions (reclaimIfLow): a longer deleteFlush
// refuses readings for longer there (2 s doubled the wait in
// TestDiskFullOnTmpfs, from 0.9 to 1.9 s) and saved no measurable CPU at
// 64 beds × 1 Hz. A deleteBatch of 2,048 drained a backlog no faster
// (BenchmarkDrainVsBarePaho in package publish, six alternated pairs: ratio
// medians 0.87 against 0.88). The default of deleteFlush is 200 ms.
const (
	deleteBatch = 256
	deleteFlush = 200 * time.Millisecond
)

// armFlushLocked starts the flush timer unless it is running: the
// committer is woken deleteFlush after deletions became pending, not every
// deleteFlush whether any are or not.
func (b *Buffer) armFlushLocked() {
	if !b.flushArmed {
		b.flush.Reset(deleteFlush)
		b.flushArmed = true
	}
}

// Release returns in-flight entries to the queue, for example after a
// publish failed; Next hands them out again in sequence order, before any
// later entry. Sequence numbers not in flight are ignored, as are all calls
// after Close.
func (b *Buffer) Release(seqs ...Seq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, s := range seqs {
		if i := b.idx.find(s); i >= 0 && b.idx.release(i) {
			n++
		}
	}
	if n > 0 {
		b.notifyLocked()
	}
}

// ReleaseAll returns every in-flight entry to the queue, as after a
// reconnect when everything unacknowledged must be sent again.
func (b *Buffer) ReleaseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.idx.releaseAll() > 0 {
		b.notifyLocked()
	}
}

// Incarnation identifies this store: 12 lower-case hex digits drawn at
// random when the store is created and kept for its life. Sequence numbers
// are unique only within an incarnation: a store that is replaced (moved
// aside, salvaged, deleted) gets a new incarnation, so the pair never
// repeats and a consumer can tell a reset (new incarnation) from a gap
// (missing numbers within one).
func (b *Buffer) Incarnation() string { return b.incarnation }

// Stats returns a snapshot of the buffer's state and counters. It keeps
// working after Close, reporting the final state.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{
		Entries:         int64(b.idx.live),
		Bytes:           b.idx.bytes,
		InFlight:        int64(b.idx.inFlight),
		Appended:        b.appended,
		Acked:           b.acked,
		Dropped:         map[string]uint64{DropFull: b.droppedFull, DropAge: b.droppedAge, DropDiskFull: b.disk.dropped},
		Quarantined:     b.quarantined,
		Syncs:           b.syncs,
		LastSyncLatency: b.lastSync,
		NextSeq:         b.next,
		RecoveredFrom:   b.recoveredFrom,
		Incarnation:     b.incarnation,
		Salvage:         b.salvage,
		DiskFree:        b.disk.free,
		DiskReserve:     b.space.reserve,
		LimitBytes:      b.opts.MaxBytes,
	}
	s.Salvage.Problems = slices.Clone(s.Salvage.Problems)
	if b.disk.free >= 0 {
		s.LimitBytes = min(s.LimitBytes, b.idx.bytes+max(0, b.disk.free-b.space.reserve))
	}
	if i := b.idx.oldest(); i >= 0 {
		s.OldestAge = max(0, b.clock.now()-time.Duration(b.idx.at(i).stamp))
	}
	return s
}

// Close stops the buffer: it wakes blocked Next calls (which return
// ErrClosed), finishes the Appends already queued, writes pending deletions,
// stops the background work and closes the store. No goroutine started by
// the Buffer outlives Close. Close is idempotent: later calls return
// ErrClosed.
func (b *Buffer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	close(b.done)
	b.mu.Unlock()
	<-b.finished
	b.readers.Wait()
	b.saveState(true)
	if b.stateFile != nil {
		_ = b.stateFile.Close()
	}
	var err error
	if b.db != nil {
		if cerr := b.db.Close(); cerr != nil {
			err = fmt.Errorf("buffer: close store: %w", cerr)
		}
	}
	if b.lock != nil {
		b.lock.Close()
	}
	return err
}

// signal tells the committer that work is waiting.
func (b *Buffer) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// notifyLocked wakes every Next waiting for ready entries.
func (b *Buffer) notifyLocked() {
	close(b.avail)
	b.avail = make(chan struct{})
}

// Dropped returns how many stored entries the buffer has dropped so far
// (DropFull and DropAge; refused appends are not stored entries) and the
// sequence number of the oldest entry still stored, acked or dropped ones
// excluded (NextSeq when none is). A caller that noted an entry's Seq can
// tell from them whether the entry may have been dropped: the count grew
// and the entry is below the oldest.
func (b *Buffer) Dropped() (dropped uint64, oldest Seq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	oldest = b.next
	if i := b.idx.oldest(); i >= 0 {
		oldest = b.idx.at(i).seq
	}
	return b.droppedFull + b.droppedAge, oldest
}
