package buffer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Defaults applied by Open to zero-valued Options fields.
const (
	DefaultMaxBytes         = 256 << 20
	DefaultMaxAge           = 7 * 24 * time.Hour
	DefaultGCInterval       = time.Minute
	DefaultMemTableSize     = 4 << 20
	DefaultValueLogFileSize = 32 << 20
	DefaultBlockCacheSize   = 0
	DefaultGCDiscardRatio   = 0.5
	DefaultCloseIdleAfter   = 30 * time.Second

	// defaultBaseLevelSize is the engine's default size of level 1.
	defaultBaseLevelSize = 10 << 20

	// maxInlineValueLimit is the storage engine's ceiling on values kept in
	// the LSM tree.
	maxInlineValueLimit = 1 << 20
	// minMemTableSize keeps the engine's per-transaction limit (15% of the
	// memtable) comfortably above one entry header.
	minMemTableSize = 1 << 20
)

// Options configures a Buffer. The zero value is usable: every zero field
// takes the default named in its comment. Open works on a copy and never
// modifies the caller's value.
type Options struct {
	// MaxBytes bounds the payload bytes kept. When an Append would exceed
	// it, the oldest entries are dropped to make room (see the package
	// documentation), counted in Stats.Dropped[DropFull] and logged at warn
	// level. A payload larger than MaxBytes is refused with ErrFull.
	// The default value of MaxBytes is 256 MiB.
	MaxBytes int64

	// MaxAge bounds how long an entry is kept. Entries older than MaxAge that
	// are not in flight are dropped, counted in Stats.Dropped[DropAge] and
	// logged at warn level. The default value of MaxAge is 7 days.
	MaxAge time.Duration

	// SyncWindow is an optional group-commit wait: after the first Append
	// of a group arrives, the buffer waits this long for more before
	// writing them all in one batch with one sync. Without it (zero or
	// negative, the default) a group is whatever queued while the previous
	// sync ran, which already gives many appends one sync under load; a
	// window only lowers the number of syncs (flash wear) further, at the
	// cost of latency and, when appenders wait on each other, throughput.
	SyncWindow time.Duration

	// GCInterval is how often the value-log garbage collector runs. Each run
	// rewrites value-log files while the engine finds one worth rewriting.
	// The default value of GCInterval is 1 minute.
	GCInterval time.Duration

	// BeforeWrite, when set, is called on the committer before each group
	// of appends is written (not before deletions alone): a journal whose
	// entries must be durable before the appends that follow them (the
	// gateway's ledger of filings) syncs there, once per group instead of
	// once per entry. Its time is not in Stats.LastSyncLatency. It must not
	// append to or close the Buffer (the committer would wait for itself).
	// The default is none.
	BeforeWrite func()

	// Logger receives the buffer's and the storage engine's log lines.
	// Payloads are never logged. The default is slog.Default().
	Logger *slog.Logger

	// Now is the wall clock: it stamps Entry.Appended (and so NextSince)
	// and the age clock's checkpoints. Ages are not measured on it (see
	// Uptime). The default is time.Now.
	Now func() time.Time

	// Uptime is the clock entry ages are measured on, for MaxAge and
	// Stats.OldestAge: one that wall-clock steps do not move. See clock.go
	// for how ages carry across restarts. The default on Linux is
	// CLOCK_BOOTTIME with the kernel's boot id; elsewhere, the process's
	// monotonic clock.
	Uptime Uptime

	// CloseIdleAfter is how long the store must be empty (every entry
	// acked or dropped) and unwritten before the storage engine is closed
	// until the next Append, which opens it again; the Buffer keeps the
	// directory locked meanwhile. The engine costs 0.6 to 1.25 % of a core
	// while open, idle or not; a close and reopen costs about 40 ms of CPU
	// and adds 8 to 36 ms to the Append that reopens (see the package
	// documentation, Idle). The default value of CloseIdleAfter is 30 s; a
	// negative value keeps the engine open. On systems without flock the
	// engine always stays open.
	CloseIdleAfter time.Duration

	// Small-box tuning. The defaults suit a 1 GB RAM arm64 gateway; the
	// storage engine's own defaults (five 64 MiB memtables, 1 GiB value-log
	// files mapped twice, a 256 MiB block cache) do not. doc.go (Small-box
	// tuning) gives what each costs, measured.

	// MemTableSize is the size of the in-memory write table. Two exist at a
	// time (one filling, one being flushed), each an arena of this size plus
	// a same-sized log file on disk; the engine pools up to eight table
	// builders, each kept as large as the largest memtable it flushed, so
	// the size is paid some eight times over (live heap with a 300,000-entry
	// backlog: 136 MB at 8 MiB, 71 MB at 4 MiB, 58 MB at 2 MiB, which
	// appends 30% slower). A single write batch may hold at most 15% of it,
	// so it also bounds one group commit; larger groups are split into
	// several transactions and still synced once. The default value of
	// MemTableSize is 4 MiB, or 1/64 of the store's filesystem when that is
	// smaller (at least 1 MiB); it must be at least 1 MiB.
	MemTableSize int64

	// ValueLogFileSize is the size of one value-log file. Only payloads
	// larger than InlineValueLimit go to the value log, and space there is
	// reclaimed a whole file at a time by garbage collection, so small files
	// give space back sooner. A payload may be at most half of it. The
	// default value of ValueLogFileSize is 32 MiB, or 1/32 of the store's
	// filesystem when that is smaller (at least 1 MiB); it must be between
	// 1 MiB and 2 GiB. Its files are memory-mapped: they cost page cache,
	// not anonymous memory.
	ValueLogFileSize int64

	// BlockCacheSize is the RAM cache for on-disk table blocks, or 0 for
	// none. The tables are not compressed, so a block is read as a slice of
	// the memory-mapped table file whether cached or not: a cache would hold
	// no copy, only its own bookkeeping, and the outbox reads each entry
	// about once. The default value of BlockCacheSize is 0 (no cache). The
	// engine's index cache is off too: each table's index and Bloom filter
	// are read in place from its mapped file.
	BlockCacheSize int64

	// InlineValueLimit is the payload size below which entries are kept in
	// the LSM tree itself rather than the value log. Deleted LSM entries are
	// reclaimed by ordinary compaction; see the package documentation for why
	// this matters for a queue. The default value of InlineValueLimit is the
	// smaller of 1 MiB and MemTableSize/8 (512 KiB with the default
	// memtables); it may not exceed either 1 MiB or 15% of MemTableSize.
	InlineValueLimit int64

	// GCDiscardRatio is the fraction of a value-log file that must be garbage
	// before the collector rewrites it. Lower reclaims more space for more
	// write amplification. The default value of GCDiscardRatio is 0.5; it
	// must be above 0 and below 1.
	GCDiscardRatio float64

	// DiskReserve is the free space kept on the store's filesystem for
	// the storage engine: appends that would leave less are refused with
	// ErrDiskFull and counted in Stats.Dropped[DropDiskFull] (see space.go
	// for why and for the reserve file kept beside the store). The default
	// is DefaultDiskReserve of the memtable and base level sizes: 18 MiB on
	// a filesystem of 512 MiB or more, 3 MiB on one of 8 MiB.
	DiskReserve int64

	// baseLevelSize is the engine's level-1 size; 0 follows the
	// filesystem's size (see fitToDisk).
	baseLevelSize int64

	// statfs reads free and total bytes of a path's filesystem; nil means
	// the system's. Tests replace it.
	statfs func(path string) (free, total int64, err error)

	// syncOnCommit selects the engine's own per-commit sync instead of one
	// explicit sync after each group. Unexported: benchmarks use it to
	// measure the alternative (see doc.go).
	syncOnCommit bool
}

// withDefaults validates o and returns a copy with defaults applied. Its
// errors say which field to change.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxBytes < 0:
		return o, fmt.Errorf("buffer: MaxBytes is %d; use 0 for the default or a positive byte count", o.MaxBytes)
	case o.MaxAge < 0:
		return o, fmt.Errorf("buffer: MaxAge is %v; use 0 for the default or a positive duration", o.MaxAge)
	case o.GCInterval < 0:
		return o, fmt.Errorf("buffer: GCInterval is %v; use 0 for the default or a positive duration", o.GCInterval)
	case o.MemTableSize != 0 && o.MemTableSize < minMemTableSize:
		return o, fmt.Errorf("buffer: MemTableSize is %d; use 0 for the default or at least %d", o.MemTableSize, minMemTableSize)
	case o.ValueLogFileSize != 0 && (o.ValueLogFileSize < 1<<20 || o.ValueLogFileSize >= 2<<30):
		return o, fmt.Errorf("buffer: ValueLogFileSize is %d; use 0 for the default or a size from 1 MiB to under 2 GiB", o.ValueLogFileSize)
	case o.BlockCacheSize < 0:
		return o, fmt.Errorf("buffer: BlockCacheSize is %d; use 0 for no cache (the default) or a positive byte count", o.BlockCacheSize)
	case o.InlineValueLimit < 0:
		return o, fmt.Errorf("buffer: InlineValueLimit is %d; use 0 for the default or a positive byte count", o.InlineValueLimit)
	case o.DiskReserve < 0:
		return o, fmt.Errorf("buffer: DiskReserve is %d; use 0 for the default or a positive byte count", o.DiskReserve)
	case o.GCDiscardRatio < 0 || o.GCDiscardRatio >= 1:
		return o, fmt.Errorf("buffer: GCDiscardRatio is %v; use 0 for the default or a fraction above 0 and below 1", o.GCDiscardRatio)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.GCInterval == 0 {
		o.GCInterval = DefaultGCInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Uptime == nil {
		o.Uptime = systemUptime()
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.ValueLogFileSize == 0 {
		o.ValueLogFileSize = DefaultValueLogFileSize
	}
	if o.InlineValueLimit == 0 {
		o.InlineValueLimit = min(maxInlineValueLimit, o.MemTableSize/8)
	}
	if o.statfs == nil {
		o.statfs = systemStatfs
	}
	o = o.fitToDisk(0)
	if o.GCDiscardRatio == 0 {
		o.GCDiscardRatio = DefaultGCDiscardRatio
	}
	if o.CloseIdleAfter == 0 {
		o.CloseIdleAfter = DefaultCloseIdleAfter
	}
	if limit := min(maxInlineValueLimit, o.MemTableSize*15/100-1); o.InlineValueLimit > limit {
		return o, fmt.Errorf("buffer: InlineValueLimit %d exceeds %d for MemTableSize %d; lower InlineValueLimit or raise MemTableSize",
			o.InlineValueLimit, limit, o.MemTableSize)
	}
	return o, nil
}

// maxPayload is the largest payload Append accepts.
func (o Options) maxPayload() int64 {
	return min(o.MaxBytes, o.ValueLogFileSize/2-valueHeaderSize)
}

// badgerOptions translates the resolved options into the engine's.
func (o Options) badgerOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{log: o.Logger}).
		// Durability is the group committer's job: one explicit Sync per
		// group (see doc.go for the measurement behind this choice).
		WithSyncWrites(o.syncOnCommit).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		// Beyond reach: compact.go bounds level 0 (see levelZeroStall).
		WithNumLevelZeroTablesStall(levelZeroStall).
		// The engine's compactors poll; compact.go compacts instead.
		WithNumCompactors(0).
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(o.baseLevelSize).
		WithValueLogFileSize(o.ValueLogFileSize).
		WithValueThreshold(o.InlineValueLimit).
		WithBlockCacheSize(o.BlockCacheSize).
		WithIndexCacheSize(0).
		WithCompression(options.None).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(false).
		WithMetricsEnabled(false)
}
