// Package buffer is bedgate's durable outbox: an ordered, bounded queue of
// opaque payloads on disk. The gateway appends encoded records; the
// publisher takes them in order, publishes them and acknowledges each once
// the broker has. The package knows nothing of vital signs, MQTT or FHIR.
//
// The store is a Badger v4 database (github.com/dgraph-io/badger/v4) in one
// directory. No Badger type appears in the API, so the engine can be
// replaced without changing callers.
//
// # Usage
//
//	b, err := buffer.Open("/var/lib/bedgate/outbox", buffer.Options{Logger: log})
//	seq, err := b.Append(ctx, payload) // durable when it returns
//
//	entries, err := b.Next(ctx, 50) // blocks; marks entries in flight
//	// publish each entry; then, per broker acknowledgement:
//	b.Ack(e.Seq)
//	// or, after a failed publish or a disconnect:
//	b.Release(e.Seq) // or b.ReleaseAll()
//
// A Buffer is safe for concurrent use. Close stops it; no goroutine it
// started survives Close.
//
// # Guarantees
//
//   - Durable append. Append returns only after its payload is written and
//     synced to disk, so a Seq the caller has seen survives a process kill
//     and a power cut (as far as the disk honours a sync).
//   - Group commit. Appends that queue while a sync runs are written as
//     one batch followed by one sync (Options.SyncWindow adds a wait for
//     more), and each gets its own Seq.
//   - Payloads that carry their own number. AppendFunc builds a payload
//     with the Seq it is stored under, so a message can contain its own
//     sequence number; a failed build uses no number. The build runs on
//     the appender's goroutine with the number its place in the queue
//     gives, so appenders encode in parallel and the committer only
//     writes; when that number changes before the write (an append ahead
//     of it failed, or a write failed) the committer builds it again.
//     Cancelling an Append's context abandons only the wait: a payload
//     already queued may still be stored and delivered.
//   - Order. Sequence numbers start at 1, have no gaps and only grow, for
//     the life of the store (its incarnation, see Buffer.Incarnation),
//     across restarts and kill -9: they are
//     assigned by one committer goroutine in commit order, and the next one
//     is recovered at Open from the highest stored key and a persisted
//     high-water mark written in the same batch as the entries (so the
//     sequence continues even when every entry had been acked). Badger's own
//     Sequence leases are not used: they leave gaps after a crash. Next
//     returns entries in sequence order; released entries go back in order,
//     ahead of every later entry.
//   - At least once. An entry is deleted only by Ack or by the bounds below.
//     Ack is written with the next group commit but not itself synced, and
//     entries in flight at a crash are ready again after Open, so an entry
//     may be delivered twice; consumers de-duplicate (bedgate's records carry
//     stable identifiers). Stats.InFlight entries are not persisted as such.
//   - Never silent. Every entry the buffer removes without an Ack, and every
//     append it refuses for disk space, is counted in Stats.Dropped by
//     reason and logged at warn level (counts and sizes only, never
//     payloads; refusals at most every 10 s with their count).
//
// # Bounds: full and age
//
// Options.MaxBytes bounds the stored payload bytes and is a hard bound. When
// a group of appends would exceed it, the oldest entries are dropped first,
// in sequence order, counted as [DropFull]: entries waiting to be sent go
// first; entries in flight are dropped only when dropping every waiting
// entry is not enough, because the publisher is likely about to have them
// acknowledged. Acking or releasing a dropped entry is harmless. A single
// payload larger than MaxBytes (or than half a value-log file) is refused
// with an error wrapping ErrFull; nothing is dropped for it. The newest data
// is kept rather than the oldest because, for a bedside gateway, a fresh
// observation is worth more than one that is already hours late.
//
// Options.MaxAge bounds how long an entry is kept. Entries older than MaxAge
// are dropped, counted as [DropAge], when a group is committed, when Next
// looks for work, and on a background sweep (every MaxAge/4, between 1 s
// and 1 min). Entries in flight are not aged out while the publisher holds
// them; once released they are. Ages are measured on the age clock, which
// wall-clock steps do not move (clock.go): a forward NTP jump expires
// nothing, entries stamped while the clock read 1970 do not expire at once,
// and a backward step does not make them immortal.
//
// # Bounds: disk space
//
// The storage engine dies of SIGBUS when the filesystem has no block for a
// page it writes through a memory map, so the effective bound is the
// smaller of MaxBytes and what the filesystem can take while keeping
// Options.DiskReserve free (Stats.LimitBytes). Appends that would leave less
// are refused with ErrDiskFull, counted as [DropDiskFull]; stored entries
// are kept. A reserve file beside the store ("<dir>.reserve") is released
// to let a store open and drain on a disk something else filled; when space
// is low, acknowledged entries' space is given back by compacting the
// store. On a filesystem under 512 MiB the memtables, value-log files, base
// level and reserve shrink with it (an 8 MiB tmpfs: 1 MiB memtables, a
// 3 MiB reserve). space.go gives the measurements and reasons.
//
// # Recovery
//
// Open never panics and never asks for files to be deleted by hand. It
// takes the directory's lock before anything else (before releasing the
// reserve file, or moving a store aside, which keeps its lock until the
// fresh store is locked), so a second opener of a store in use changes
// nothing.
//   - A directory that exists but cannot be used (the engine refuses to
//     open it or panics, a table file is malformed or missing, it has table
//     files but no MANIFEST, it belongs to another program, or it was a
//     bedgate buffer and lost its format marker) is renamed to
//     "<dir>.corrupt-<UTC time>" and salvaged (salvage.go): every entry
//     still readable in its files is stored again, under its own sequence
//     number and unchanged, in a fresh store with a new incarnation, and
//     the counts recovered, unreadable and missing are logged as an error
//     and reported in Stats.Salvage; Stats.RecoveredFrom names the old
//     directory, which is kept. The sequence continues above the highest
//     number found.
//   - Errors that moving the directory would not cure are returned instead:
//     the directory is locked by another process (or another Buffer),
//     cannot be created or written, or the options are invalid.
//   - An entry whose stored value fails its checksum or does not decode is
//     moved under the quarantine prefix, logged and counted in
//     Stats.Quarantined; the rest of the store is used as is.
//
// Badger opens table files on goroutines of its own, where a malformed file
// panics beyond any recover and would take the process down. Open therefore
// first parses every table the manifest lists with Badger's own table
// reader, under a recover, and treats a failure as an unreadable store.
//
// # Idle
//
// The engine costs CPU while open even with nothing to do: Badger's two
// compactors woke every 50 ms (an idle store alone used 0.6 to 1.25 % of a
// core on the 2-core development box, more than everything else in a
// gateway of 64 silent beds; the engine now runs without them, see
// Compaction, but an open engine still costs a close and reopen's CPU
// every few seconds). So once the store is empty (every entry acked
// or dropped, nothing pending) and nothing has been written for
// Options.CloseIdleAfter, the committer closes the engine, and opens it
// again for the next append (idle.go). The Buffer holds the directory's
// lock throughout (the engine's own lock is skipped for it), so no other
// process opens the store in between; a directory no longer the one locked
// (renamed or replaced meanwhile) is not opened. Reopening checks the
// store is the one it closed (format marker, incarnation, next sequence
// number, no entries); one that is not refuses the appends with the reason,
// logged once, until the next Open (any other failure to reopen is tried
// again after 10 s). After a failed write the engine stays open until a
// write succeeds (the failed one may have left entries beyond the
// committer's numbers, which a reopen would take for a changed store).
// The space guard goes on: the engine is not closed while free space is
// low (it may have to compact to give space back, and closing flushes its
// memtable), while closed free space is read once a sweep interval
// (Stats.DiskFree, the reserve file), and it is not reopened with less
// than the reserve free (its memtables are written through memory maps):
// those appends are refused with ErrDiskFull, counted as at a commit.
// Measured (BenchmarkWard, 64 beds × 1 Hz, idle window once the engine
// has closed): an idle outbox 0 % of a core (at most one 10 ms tick in
// 12 s), a gateway of 64 silent beds 0.0013 to 0.0039 % a bed (0.08 to
// 0.25 % in all; 0.7 to 1.1 % before).
// A close and reopen costs about 40 ms of CPU (most of it zeroing the new
// memtable's arena and building a level-0 table from the one replayed),
// what 4 to 7 s of the engine left open cost, and adds 8 to 36 ms to the
// append that reopens. The default of 30 s keeps that rare: a source
// sending every 30 to 35 s pays up to 15 % more than with the engine left
// open, one sending less often pays less; and a gateway's engine stays
// open through its start, where the first readings are stored only after
// the association grace (5 s).
//
// # Compaction
//
// Badger's compactors each wake every 50 ms to look for work, loaded or
// not, and the engine allows two or none. In a gateway forwarding 64 beds
// at 1 Hz their wakes were 198 of some 420 thread wake-ups in 5 s (a
// Go execution trace of the loaded ward). The engine is therefore
// opened with none (compact.go), and the buffer compacts when its writes
// make it due: every write counts its bytes, and each quarter memtable
// written wakes a compactor goroutine that compacts (Badger's Flatten: level
// 0 into the base level, then each level into the next until one holds
// every table) once level 0 holds two tables. Nothing else wakes it: a
// store that is not written is not looked at. The engine's own stall of
// writes on a full level 0 is set beyond reach (compact.go says why: with
// no compactor of its own a stall would never end). While the broker is
// up acknowledged entries are deleted and the tables hold little. During
// an outage they hold the backlog, and a new table's entries (ascending
// keys) overlap only the newest of it; while a backlog drains, the
// deletions of its oldest entries make a new table span all of it, so a
// compaction then rewrites what is left of the backlog (about once every
// two memtables of deletions). Measured (BenchmarkWard, 64 beds × 1 Hz, two
// alternated pairs): the gateway's CPU per 1,000 readings fell from 442 and
// 432 ms to 349 and 323 ms. TestCompactsWithoutEngineCompactors writes and
// acknowledges 32 memtables and checks level 0 stays below two tables and
// the tables below a quarter of what was written; without the compactor
// the ninth memtable stalls every append.
//
// # Key layout
//
//	'e' + Seq (8 bytes, big-endian)   an entry; key order is sequence order
//	'q' + Seq (8 bytes, big-endian)   a quarantined entry, value kept as found
//	"m/next"                          next Seq to assign (8 bytes, big-endian)
//	"m/low"                           oldest live Seq at the last commit (8 bytes)
//	"m/format"                        "bedgate-buffer/1"
//	"m/incarnation"                   the store's incarnation (12 hex digits)
//	"m/clock"                         age-clock checkpoint (clock.go)
//
// An entry's value is a version byte (2), the commit time in Unix
// nanoseconds (8 bytes), the age clock at commit in nanoseconds (8 bytes),
// the CRC-32C (Castagnoli) of the payload (4 bytes), then the payload;
// integers big-endian. Version 1 (no age clock) is still read. Beside the
// engine's files the directory holds "bedgate-state" (the sequence range,
// for counting a salvage's losses) and, after an unclean stop, "unlisted"
// (table files the manifest did not list).
//
// # Durability mechanics, measured
//
// Badger can make a commit durable in two ways: SyncWrites=true, where the
// engine syncs its logs inside every commit, or SyncWrites=false followed by
// an explicit DB.Sync. With one transaction per group both cost one sync per
// group and measure about the same (BenchmarkAppend). The explicit sync is
// used because:
//   - with SyncWrites=true Badger only logs a failed value-log sync, while
//     DB.Sync returns it, and Append must not report durability it lacks;
//   - commits that only delete (acks, drops) need no sync at all;
//   - DB.Sync syncs only the current memtable's log, so a write slipping in
//     between a commit and its sync could rotate the memtable and leave the
//     group unsynced. That cannot happen here: one committer goroutine does
//     every write (appends, deletions, quarantine moves, value-log GC).
//
// A group too large for one Badger transaction (15% of MemTableSize) is
// split into several, and the single sync after the last covers them all.
//
// Measured on the development machine with 16 concurrent appenders of
// 1 KiB payloads (BenchmarkAppendVsBadger): about 34,000 appends/s at some
// 8 appends a sync, 0.56-0.74 of the engine writing the same payloads in
// synced batches of 16. A 2 ms SyncWindow doubles the appends a sync but cuts
// throughput to about 6,000/s, because each appender waits for its previous
// append; the default is therefore no window (BenchmarkAppend has both).
//
// # Small-box tuning
//
// Badger's defaults (five 64 MiB memtables, 1 GiB value-log files mapped
// twice over, a 256 MiB block cache, four compactors) do not fit a 1 GB RAM
// arm64 gateway; 1 GiB value logs are known to fail to map on small and
// 32-bit hosts. The defaults here are two 4 MiB memtables, 1 MiB base-level
// tables, 32 MiB value-log files, no block cache and no index cache, no
// compactors of the engine's own (see Compaction), two level-0 tables
// before compaction (no stall, see Compaction), no compression, one version per key, no conflict
// detection (there is one writer) and no engine metrics. What each costs
// in anonymous memory (the engine's tables and logs are memory-mapped
// files, which the kernel drops under pressure):
//
//   - Memtables: each is an arena of MemTableSize, and flushing one builds
//     its level-0 table in memory. Badger pools up to eight table-builder
//     allocators and keeps each at the largest table it built (2, then 4,
//     8, ... MiB), so the memtable size is paid some eight times over. With
//     a backlog of 300,000 readings (BenchmarkBacklogMillion) the most the
//     Go heap held live was 136 MB with 8 MiB memtables, 71 MB with 4 MiB
//     and 58 MB with 2 MiB; appends a second 4,700-5,300, 4,200 and 3,000
//     (one or two runs each; 2 MiB memtables flush and compact twice as
//     often). 4 MiB is the default.
//   - Table builders for compactions: at least 2 MiB each (twice the
//     1 MiB table size), up to eight at a time plus one per part of a
//     compaction split, from the same pool.
//   - Block cache: none. The tables are not compressed, so a block is read
//     as a slice of the mapped file and a cache would hold no copy, only its
//     own bookkeeping; the outbox reads each entry about once. Draining
//     measured the same with an 8 MiB cache as without (BenchmarkDrain,
//     medians of four runs: 325,000 and 318,000 readings a second).
//   - Index cache: none. Each table's index and Bloom filter are read in
//     place from the mapped file.
//   - The outbox index: 32 bytes per stored entry, grown 32 KiB at a time
//     (32 MB for a million entries, never copied as it grows).
//   - The Go collector's headroom: without a limit the heap grows to twice
//     what is live before it collects. `bedgate run` sets a soft limit
//     (gateway.DefaultMemoryLimit, 112 MiB; GOMEMLIMIT overrides it).
//
// Measured (BenchmarkBacklogMillion: a million FHIR Bundles of about
// 1.2 KB from 30 beds, on a busy 2-core machine): before this tuning
// (8 MiB memtables, an 8 MiB block cache, a growing slice of 40-byte index
// entries, no memory limit) the peak was 390 MiB of anonymous memory at
// 3,200 appends a second; now it is 109-115 MiB at 4,200-4,800 (two runs).
// The benchmark's baseline in the same run, the same records in Badger
// with its own defaults (no memory limit, groups of up to 64 synced),
// peaked at 1,826 MiB at 9,200 appends a second: the outbox holds 0.06 of
// its memory, at 0.45 of its rate.
// MemTableSize, ValueLogFileSize, BlockCacheSize, InlineValueLimit and
// GCDiscardRatio adjust this in bedgate's terms.
//
// A queue that appends and deletes is the worst case for Badger's value
// log: space in a value-log file is reclaimed only when garbage collection
// rewrites the whole file, it does not collect the file being written, and it
// cannot see discards until the memtable holding the deletions is flushed,
// so a queue can hold up to a whole value-log file (1 GiB by default) of
// deleted payloads indefinitely. Payloads below InlineValueLimit (default
// MemTableSize/8, 512 KiB; at most 1 MiB, the engine's ceiling, and 15% of
// MemTableSize) are therefore
// kept inline in the LSM tree, where deleted entries are removed by ordinary
// compaction and the value log stays nearly empty. Payloads above it go to
// the value log, whose files are kept small so that garbage collection can
// give space back a small file at a time. Collection runs every
// Options.GCInterval on the committer goroutine and repeats while it finds a
// file to rewrite; Close stops it.
//
// Badger's log lines go to Options.Logger: its errors as errors, its
// warnings as warnings and its informational output at debug level. Nothing
// is written to stdout.
//
// # Not implemented
//
// There is no in-memory implementation and no conformance suite package
// (buffer/buffertest) yet. Quarantined entries are kept for inspection and
// never removed by the buffer. Entries in flight at Close are not
// remembered as such. A store whose filesystem was filled to the last block
// while its reserve file did not exist cannot be opened: Open returns an
// error matching ErrDiskFull saying so when less than a memtable (or a
// quarter of the reserve) is free, and the store is not moved. A salvage holds
// the readable entries in memory and does not check the disk has room for
// them.
package buffer
