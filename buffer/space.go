package buffer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The space guard keeps the storage engine from ever running out of disk.
// Badger writes its logs and tables through memory-mapped files: when the
// filesystem has no block left for a page it touches, the kernel answers
// with SIGBUS and the process dies (measured: an 8 MiB tmpfs filled by
// appends crashed in a compaction's table build with 2.8 MB still free, the
// compaction rewriting more than that). So:
//
//   - Free space is read with statfs before each group commit (a reading
//     serves for freeCacheFor while more than plentyOfRoom times the
//     reserve and the reserve file is free; nearer a full disk every look
//     reads it). Appends are
//     refused (ErrDiskFull, counted as DropDiskFull, logged at most every
//     diskLogEvery) while storing them would leave less than the reserve
//     (Options.DiskReserve) free. Nothing already stored is dropped for it:
//     a deletion frees no space until the engine compacts.
//   - The reserve covers what the engine may still write on its own once
//     appends stop: the rest of the memtable being filled and its flush
//     (up to one memtable each), a level-0 table waiting (one more), and a
//     compaction into level 1, which writes its output before it deletes
//     its input (up to the base level's size). See DefaultDiskReserve.
//   - Beside the store, a reserve file "<dir>.reserve" of one memtable's
//     size holds space back. It is deleted when free space falls below half
//     the reserve (something else filled the disk) and when a store is
//     opened on a disk with less than the reserve free, so that the engine
//     can open (it writes a lock file and a log header first), record
//     acknowledgements and compact. It is made again once there is room.
//   - Deleted entries give their space back only when the engine compacts
//     the tables holding them, which a queue whose appends are refused may
//     never trigger. While free space is below the reserve plus the reserve
//     file, entries have been acknowledged since, and the live entries fit
//     twice in what is free, the committer forces it: it flushes the
//     memtables and compacts every level into one (measured: a drained
//     store of 20 MB of acknowledged entries shrank to 28 KB).
//   - Deletions themselves are written only while at least a quarter of the
//     reserve is free; below that they wait in memory (an entry acknowledged
//     but not yet deleted on disk is at worst delivered again after a
//     crash).
//
// Where statfs is not available, free space is taken as unlimited and only
// MaxBytes bounds the store.

// DropDiskFull is the drop reason of appends refused because the disk is
// nearly full (see ErrDiskFull).
const DropDiskFull = "disk-full"

// ErrDiskFull is returned by Append and AppendFunc when storing the entry
// would leave less than Options.DiskReserve free on the store's filesystem.
// Nothing is stored and no sequence number is used; the refusal is counted
// in Stats.Dropped[DropDiskFull]. Test with errors.Is.
var ErrDiskFull = errors.New("buffer: disk nearly full")

// entryDiskOverhead is an estimate of the bytes an entry costs on disk
// beyond its payload: value header, key, version and log framing.
const entryDiskOverhead = 64

// space watches the filesystem of a store.
type space struct {
	dir         string
	ballast     string // the reserve file
	statfs      func(path string) (free, total int64, err error)
	reserve     int64
	ballastSize int64

	// cacheFor is how long a reading of free space serves while there is
	// plenty of room (see free); 0: every look reads it (the tests'
	// simulated filesystems, which fill at once).
	cacheFor time.Duration
	mu       sync.Mutex
	readAt   time.Time
	lastFree int64
}

// Free-space readings: one serves for freeCacheFor while more than
// plentyOfRoom times the reserve and the reserve file is free (576 MiB
// with the defaults): a statfs before every group commit and for every
// held reading was 3 % of the gateway's CPU at 64 beds × 1 Hz
// (BenchmarkWard), and nothing fills that much disk in 100 ms unnoticed by
// the next look. Nearer a full disk every look reads it.
const (
	freeCacheFor = 100 * time.Millisecond
	plentyOfRoom = 16
)

// free returns the bytes available on the store's filesystem, or -1 when
// they cannot be read.
func (s *space) free() int64 {
	if s.statfs == nil {
		return -1
	}
	if s.cacheFor > 0 {
		s.mu.Lock()
		fresh := time.Since(s.readAt) < s.cacheFor && s.lastFree >= plentyOfRoom*(s.reserve+s.ballastSize)
		free := s.lastFree
		s.mu.Unlock()
		if fresh {
			return free
		}
	}
	free, _, err := s.statfs(s.dir)
	if err != nil {
		return -1
	}
	s.mu.Lock()
	s.readAt, s.lastFree = time.Now(), free
	s.mu.Unlock()
	return free
}

// forget makes the next look read free space: the reserve file was made
// or deleted.
func (s *space) forget() {
	s.mu.Lock()
	s.readAt = time.Time{}
	s.mu.Unlock()
}

// low reports whether free space is below the reserve plus the reserve file.
func (s *space) low(free int64) bool {
	return free >= 0 && free < s.reserve+s.ballastSize
}

// releaseBallast deletes the reserve file, reporting whether it existed.
func (s *space) releaseBallast() bool {
	defer s.forget()
	return os.Remove(s.ballast) == nil
}

// hasBallast reports whether the reserve file exists.
func (s *space) hasBallast() bool {
	_, err := os.Stat(s.ballast)
	return err == nil
}

// makeBallast writes the reserve file with its blocks allocated, removing a
// partial one on failure.
func (s *space) makeBallast() error {
	defer s.forget()
	tmp := s.ballast + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 64<<10)
	for n := int64(0); n < s.ballastSize && err == nil; n += int64(len(zeros)) {
		_, err = f.Write(zeros[:min(int64(len(zeros)), s.ballastSize-n)])
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.ballast)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// statfsOf returns statfs of dir or, while it does not exist, of its
// nearest existing parent.
func statfsOf(statfs func(string) (int64, int64, error), dir string) (free, total int64, err error) {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		free, total, err = statfs(p)
		if !errors.Is(err, os.ErrNotExist) || p == filepath.Dir(p) {
			return free, total, err
		}
	}
}

// isNoSpace reports whether err is the filesystem being full. The storage
// engine does not always wrap its causes, so its text is checked too.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || (err != nil && strings.Contains(err.Error(), syscall.ENOSPC.Error()))
}

// fitToDisk fills the size options left at zero from the size of the
// filesystem (total bytes, or <= 0 when unknown): the defaults suit a disk
// of 512 MiB or more; a smaller one gets smaller memtables, value-log files
// and base level, so that the engine's own working space (the reserve) fits
// on it. DiskReserve and the reserve file follow from the result.
func (o Options) fitToDisk(total int64) Options {
	const mib = 1 << 20
	scale := func(div, lo, hi int64) int64 {
		if total <= 0 {
			return hi
		}
		return min(max(total/div/mib*mib, lo), hi)
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = scale(64, minMemTableSize, DefaultMemTableSize)
	}
	if o.ValueLogFileSize == 0 {
		o.ValueLogFileSize = scale(32, 1<<20, DefaultValueLogFileSize)
	}
	if o.baseLevelSize == 0 {
		o.baseLevelSize = scale(8, 1<<20, defaultBaseLevelSize)
	}
	if o.DiskReserve == 0 {
		o.DiskReserve = DefaultDiskReserve(o.MemTableSize, o.baseLevelSize)
	}
	return o
}

// DefaultDiskReserve is the free space kept for the storage engine by
// default: two memtables (the one filling and its flush) and the base level
// (a compaction into it writes its output before deleting its input). With
// the defaults (4 MiB memtables, a 10 MiB base level) the default value of
// DiskReserve is 18 MiB; on an 8 MiB filesystem (1 MiB memtables and base
// level) it is 3 MiB.
func DefaultDiskReserve(memTableSize, baseLevelSize int64) int64 {
	return 2*memTableSize + baseLevelSize
}

func (s *space) String() string {
	return fmt.Sprintf("reserve %d bytes, reserve file %s (%d bytes)", s.reserve, s.ballast, s.ballastSize)
}

// diskState is the space guard's part of a Buffer. Buffer.mu guards it.
type diskState struct {
	free        int64  // at the last commit; -1 when unknown
	dropped     uint64 // appends refused for space
	unlogged    uint64 // refused since the last log line
	lastLog     time.Time
	refusing    bool
	freed       int64 // payload bytes acked or dropped since the last reclaim
	lastReclaim time.Time
	reclaimTook time.Duration
}

// Space-guard timings: refusals are logged at most every diskLogEvery, and
// the store is compacted to give space back at most every reclaimEvery.
const (
	diskLogEvery = 10 * time.Second
	reclaimEvery = time.Second
)

// fullError is the error of an append refused with free bytes free.
func (s *space) fullError(free int64) error {
	return fmt.Errorf("%w: %d bytes free, %d kept in reserve", ErrDiskFull, free, s.reserve)
}

// roomToOpen returns an error matching ErrDiskFull when the filesystem of
// dir has too little free to open the engine (openNeeds): it would touch
// pages of its memory-mapped memtable log with no block to give them, and
// the process would die of SIGBUS.
func roomToOpen(s *space, o Options, dir string) error {
	need := openNeeds(s, o)
	if free := s.free(); free >= 0 && free < need {
		return fmt.Errorf("buffer: the disk is full (%d bytes free, the storage engine needs %d to open); free space on the filesystem of %s: %w",
			free, need, dir, ErrDiskFull)
	}
	return nil
}

// openNeeds is the free space the engine is opened with: a memtable, and
// at least what writing deletions takes (deletable), so that a store
// opened on a nearly full disk can still drain.
func openNeeds(s *space, o Options) int64 {
	return max(o.MemTableSize, s.reserve/4)
}

// deletable reports whether there is room to write deletions: a quarter of
// the reserve.
func (s *space) deletable(free int64) bool {
	return free < 0 || free >= s.reserve/4
}

// checkSpace reads free space before a commit, releasing the reserve file
// when something has eaten into the reserve, and making it again once there
// is room. It returns the free bytes, or -1 when unknown.
func (b *Buffer) checkSpace() int64 {
	s := b.space
	free := s.free()
	switch {
	case free < 0:
	case free < s.reserve/2:
		if s.releaseBallast() {
			b.log.Error("buffer: free space fell below half the reserve; released the reserve file",
				"free", free, "reserve", s.reserve, "released", s.ballastSize)
			free = s.free()
		}
	case free >= s.reserve+s.ballastSize+ballastSlack && free < ballastWhenBelow*(s.reserve+s.ballastSize) && !s.hasBallast():
		if err := s.makeBallast(); err != nil {
			b.log.Warn("buffer: cannot write the reserve file", "path", s.ballast, "err", err)
		} else {
			free = s.free()
		}
	}
	b.mu.Lock()
	b.disk.free = free
	b.mu.Unlock()
	return free
}

// ballastWhenBelow: the reserve file is made only on a filesystem with less
// than this many times the reserve and the file free, where filling it is
// plausible; on a roomy disk it would only cost a write at every Open.
const ballastWhenBelow = 16

// ballastSlack is the room left for appends when the reserve file is made.
const ballastSlack = 1 << 20

// diskBudgetLocked returns the bytes a group may take on disk.
func (b *Buffer) diskBudgetLocked(free int64) int64 {
	if free < 0 {
		return math.MaxInt64
	}
	budget := free - b.space.reserve
	if b.disk.refusing && budget >= 0 {
		b.disk.refusing = false
		b.log.Info("buffer: disk space available again; accepting entries", "free", free,
			"refused", b.disk.dropped, "reason", DropDiskFull)
	}
	return budget
}

// Room reports whether n bytes may be written on the store's filesystem
// outside the store (the gateway's held readings live beside it) without
// eating into the reserve the storage engine needs. When they may not, it
// returns an error matching ErrDiskFull and counts the refusal in
// Stats.Dropped[DropDiskFull], as a refused append.
func (b *Buffer) Room(n int64) error {
	free := b.space.free()
	if hasRoom(free, n, b.space.reserve) {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.countRefusedLocked(1, free)
	return b.space.fullError(free)
}

// HasRoom reports what Room reports, without counting a refusal: for a
// caller that waits for room instead of giving something up (the
// gateway's held readings, which stay on disk until they can be stored).
func (b *Buffer) HasRoom(n int64) bool { return hasRoom(b.space.free(), n, b.space.reserve) }

// hasRoom reports whether n bytes fit in free bytes (negative: unknown)
// above the reserve.
func hasRoom(free, n, reserve int64) bool { return free < 0 || free-n >= reserve }

// refuseQueueLocked answers every queued append with ErrDiskFull.
func (b *Buffer) refuseQueueLocked(free int64) {
	n := uint64(len(b.queue))
	for _, req := range b.queue {
		req.result <- appendResult{err: b.space.fullError(free)}
	}
	b.queue = nil
	b.countRefusedLocked(n, free)
}

// countRefusedLocked counts n refusals for disk space and logs them, at
// most every diskLogEvery.
func (b *Buffer) countRefusedLocked(n uint64, free int64) {
	d := &b.disk
	d.dropped += n
	d.unlogged += n
	d.refusing = true
	if now := time.Now(); now.Sub(d.lastLog) >= diskLogEvery {
		b.log.Warn("buffer: disk nearly full, refusing new entries", "reason", DropDiskFull, "count", d.unlogged,
			"total", d.dropped, "free", free, "reserve", b.space.reserve, "dir", b.space.dir)
		d.unlogged, d.lastLog = 0, now
	}
}

// reclaimIfLow gives the space of deleted entries back when free space is
// low: it flushes the memtables and compacts the store into one level,
// which drops deleted entries. It runs on the committer, only when entries
// were deleted since the last time and none waits to be written, at most
// every reclaimEvery or ten times as long as the last one took, and only
// while the live entries fit twice in the free space (the compaction
// rewrites them before deleting the old tables).
func (b *Buffer) reclaimIfLow(free int64) {
	s := b.space
	b.mu.Lock()
	live := b.idx.bytes + int64(b.idx.live)*entryDiskOverhead
	freed, pending := b.disk.freed, len(b.deletes)
	next := b.disk.lastReclaim.Add(max(reclaimEvery, 10*b.disk.reclaimTook))
	b.mu.Unlock()
	if !s.low(free) || pending > 0 || freed < 64<<10 || time.Now().Before(next) ||
		2*live+b.opts.MemTableSize > free {
		return
	}
	start := time.Now()
	err := b.compactAll()
	after := s.free()
	b.mu.Lock()
	b.disk.freed, b.disk.lastReclaim, b.disk.reclaimTook = 0, time.Now(), time.Since(start)
	b.mu.Unlock()
	if err != nil {
		b.log.Warn("buffer: compacting to give deleted entries' space back failed", "err", err)
		return
	}
	b.log.Info("buffer: compacted to give deleted entries' space back", "free_before", free, "free_after", after,
		"took", time.Since(start).Round(time.Millisecond))
}

// reclaimKey is written and dropped to make the engine flush its memtables
// and compact level 0 (its DropPrefix does both for any prefix that holds
// data); Flatten then compacts the other levels.
var reclaimKey = []byte("m/reclaim")

func (b *Buffer) compactAll() error {
	b.db.compacting.Lock()
	defer b.db.compacting.Unlock()
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(reclaimKey, nil) }); err != nil {
		return err
	}
	if err := b.db.DropPrefix(reclaimKey); err != nil {
		return err
	}
	return b.db.Flatten(1)
}
