package buffer

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// run is the committer: the one goroutine that writes to the store. Keeping
// every write (appends, deletions, quarantine moves, value-log GC) on one
// goroutine means nothing can slip between a group's commit and its sync.
// It exits when Close is called, after committing what is queued.
func (b *Buffer) run() {
	defer close(b.finished)
	gc := time.NewTicker(b.opts.GCInterval)
	defer gc.Stop()
	sweep := time.NewTicker(sweepInterval(b.opts.MaxAge))
	defer sweep.Stop()
	defer b.flush.Stop()
	state := time.NewTicker(stateEvery)
	defer state.Stop()
	var window *time.Timer
	if b.opts.SyncWindow > 0 {
		window = time.NewTimer(b.opts.SyncWindow)
		window.Stop()
	}
	for {
		b.closeIfIdle()
		if b.db == nil { // closed while idle; only this goroutine sets it
			if !b.waitClosed() {
				return
			}
			if b.db != nil && b.commit() {
				b.signal()
			}
			continue
		}
		select {
		case <-b.done:
			b.commitQueued()
			return
		case <-gc.C:
			b.collectGarbage()
			continue
		case <-state.C:
			b.saveState(false)
			continue
		case <-sweep.C:
		case <-b.flush.C:
			b.mu.Lock()
			b.flushArmed = false
			pending := b.flushPendingLocked()
			b.mu.Unlock()
			if !pending {
				continue
			}
		case <-b.wake:
			if window != nil {
				window.Reset(b.opts.SyncWindow)
				select {
				case <-window.C:
				case <-b.done:
					window.Stop()
				}
			}
		}
		more := b.commit()
		b.mu.Lock()
		if b.flushPendingLocked() {
			b.armFlushLocked()
		} else if b.flushArmed {
			b.flush.Stop()
			b.flushArmed = false
		}
		b.mu.Unlock()
		if more {
			b.signal()
		}
	}
}

// flushPendingLocked reports whether the flush timer has work: deletions
// not yet written, or deleted entries' space to give back on a disk
// running low (reclaimIfLow).
func (b *Buffer) flushPendingLocked() bool {
	return len(b.deletes) > 0 || (b.disk.freed > 0 && b.space.low(b.disk.free))
}

// sweepInterval is how often the committer looks for expired entries when
// nothing else happens.
func sweepInterval(maxAge time.Duration) time.Duration {
	return min(max(maxAge/4, time.Second), time.Minute)
}

// commit writes one group: queued appends (as many as fit under MaxBytes),
// the deletions and drops they need, and pending quarantine moves, in one
// batch followed by one sync. It reports whether appends remain queued.
func (b *Buffer) commit() (more bool) {
	b.buildQueued()
	free := b.checkSpace()
	defer b.reclaimIfLow(free) // after this group's deletions
	b.mu.Lock()
	var group []*appendRequest
	var groupBytes int64
	budget := b.diskBudgetLocked(free)
	for len(b.queue) > 0 && b.queue[0].ready(b.next+Seq(len(group))) {
		p := int64(len(b.queue[0].payload))
		if len(group) > 0 && groupBytes+p > b.opts.MaxBytes {
			break
		}
		if budget -= p + entryDiskOverhead; budget < 0 {
			b.refuseQueueLocked(free)
			break
		}
		group = append(group, b.queue[0])
		groupBytes += p
		b.queue[0] = nil
		b.queue = b.queue[1:]
	}
	// An append its caller is still building signals when it is done.
	more = len(b.queue) > 0 && !b.queue[0].building
	if len(b.queue) == 0 {
		b.queue = nil
	}
	b.writing = Seq(len(group))
	now, stamp := b.opts.Now(), b.clock.now()
	b.expireLocked()
	if len(group) > 0 {
		b.makeRoomLocked(groupBytes)
	}
	first := b.next
	low := first
	if i := b.idx.oldest(); i >= 0 {
		low = b.idx.at(i).seq
	}
	var dels, quar []Seq
	if b.space.deletable(free) {
		dels, quar = b.deletes, b.unreadable
		b.deletes, b.unreadable = nil, nil
	}
	b.mu.Unlock()

	if len(group) == 0 && len(dels) == 0 && len(quar) == 0 && (stamp-b.lastCheckpoint < checkpointEvery || !b.space.deletable(free)) {
		b.mu.Lock()
		b.writing = 0
		b.mu.Unlock()
		return more
	}
	if len(group) > 0 && b.opts.BeforeWrite != nil {
		b.opts.BeforeWrite()
	}
	start := time.Now()
	moved, err := b.write(first, low, now, stamp, group, dels, quar)
	elapsed := time.Since(start)
	if len(group) > 0 || len(dels) > 0 || len(quar) > 0 {
		b.idle.since = time.Now() // a checkpoint alone is not activity
	}
	if err != nil {
		b.idle.writeFailed = true
	} else if len(group) > 0 {
		b.idle.writeFailed = false
	}

	b.mu.Lock()
	b.writing = 0
	if err != nil {
		// Keep the deletions for the next round; the entries are already
		// gone from the index, so at worst they come back after a restart.
		b.deletes = append(dels, b.deletes...)
		b.unreadable = append(quar, b.unreadable...)
	} else {
		b.quarantined += int64(moved)
		b.lastCheckpoint = stamp
		if len(group) > 0 {
			for i, req := range group {
				b.idx.push(slot{seq: first + Seq(i), appended: now.UnixNano(), stamp: int64(stamp), size: uint32(len(req.payload))})
			}
			b.next = first + Seq(len(group))
			b.appended += uint64(len(group))
			b.syncs++
			b.lastSync = elapsed
			b.notifyLocked()
		}
	}
	b.mu.Unlock()

	if err != nil {
		b.log.Error("buffer: group commit failed", "appends", len(group), "deletes", len(dels), "err", err)
		err = fmt.Errorf("buffer: append: %w", err)
	}
	for i, req := range group {
		res := appendResult{err: err}
		if err == nil {
			res.seq = first + Seq(i)
		}
		req.result <- res
	}
	return more
}

// buildQueued settles the queued AppendFunc requests its callers have
// built, in queue order up to the first still being built: queued requests
// are stored in order from b.next, and only the committer advances b.next,
// so the numbering holds even when MaxBytes splits the queue over several
// groups. A request whose build failed is answered and leaves the queue,
// using no number; one built for another number than it now gets (a
// request before it failed, or a write failed) is built again here.
func (b *Buffer) buildQueued() {
	b.mu.Lock()
	first := b.next
	var settled []*appendRequest
	for _, req := range b.queue {
		if req.building {
			break
		}
		settled = append(settled, req)
	}
	b.mu.Unlock()

	// The callers are done with these requests: only the committer
	// touches them now.
	seq := first
	var failed []*appendRequest
	for _, req := range settled {
		if req.build != nil && req.err == nil && req.built != seq {
			req.payload, req.err = b.buildFor(req, seq)
			req.built = seq
		}
		if req.err != nil {
			failed = append(failed, req)
			req.result <- appendResult{err: req.err}
			continue
		}
		seq++
	}
	if len(failed) == 0 {
		return
	}
	b.mu.Lock()
	b.queue = slices.DeleteFunc(b.queue, func(req *appendRequest) bool { return slices.Contains(failed, req) })
	b.mu.Unlock()
}

// commitQueued commits everything queued, waiting for appends their
// callers are still building (Close: no append is queued after it).
func (b *Buffer) commitQueued() {
	for {
		for b.commit() {
		}
		b.mu.Lock()
		waiting := len(b.queue) > 0
		b.mu.Unlock()
		if !waiting {
			return
		}
		<-b.wake // the builder signals when it is done
	}
}

// ready reports whether req can be stored as Seq seq: a plain append, or
// an AppendFunc built for exactly that number.
func (req *appendRequest) ready(seq Seq) bool {
	return req.build == nil || (!req.building && req.err == nil && req.payload != nil && req.built == seq)
}

// write applies one group to the store and makes it durable. A group too big
// for one engine transaction is split; the sync after the last one covers
// them all, and no Append is answered before it.
func (b *Buffer) write(first, low Seq, now time.Time, stamp time.Duration, group []*appendRequest, dels, quar []Seq) (moved int, err error) {
	txn := b.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	// What the transaction writes, for the compactor: the entries'
	// payloads and a rough entryDiskOverhead per key, the metadata too.
	written := int64(len(quar)+len(dels)+len(group)+3) * entryDiskOverhead
	apply := func(f func(*badger.Txn) error) error {
		err := f(txn)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := txn.Commit(); err != nil {
				return err
			}
			// A transaction too big holds 15 % of a memtable.
			b.db.wrote(b.opts.MemTableSize * 15 / 100)
			txn = b.db.NewTransaction(true)
			err = f(txn)
		}
		return err
	}
	for _, s := range quar {
		item, err := txn.Get(seqKey(entryPrefix, s))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return 0, err
		}
		err = apply(func(t *badger.Txn) error {
			if err := t.Set(seqKey(quarantinePrefix, s), v); err != nil {
				return err
			}
			return t.Delete(seqKey(entryPrefix, s))
		})
		if err != nil {
			return 0, err
		}
		written += int64(len(v)) + entryDiskOverhead
		moved++
	}
	for _, s := range dels {
		if err := apply(func(t *badger.Txn) error { return t.Delete(seqKey(entryPrefix, s)) }); err != nil {
			return 0, err
		}
	}
	for i, req := range group {
		e := badger.NewEntry(seqKey(entryPrefix, first+Seq(i)), encodeValue(now, stamp, req.payload))
		written += int64(len(e.Value))
		if err := apply(func(t *badger.Txn) error { return t.SetEntry(e) }); err != nil {
			return 0, err
		}
	}
	if len(group) > 0 {
		// The high-water mark travels with the entries, so the sequence
		// continues after a restart even when every entry was acked.
		if err := apply(func(t *badger.Txn) error { return t.Set(metaNextKey, be64(uint64(first)+uint64(len(group)))) }); err != nil {
			return 0, err
		}
	}
	// The oldest live entry, for counting what a salvage misses.
	if err := apply(func(t *badger.Txn) error { return t.Set(metaLowKey, be64(uint64(low))) }); err != nil {
		return 0, err
	}
	// Every write carries the age clock (see clock.go).
	if err := apply(func(t *badger.Txn) error { return t.Set(metaClockKey, b.clock.take(now).encode()) }); err != nil {
		return 0, err
	}
	if err := txn.Commit(); err != nil {
		return 0, err
	}
	b.db.wrote(written)
	// Deletions alone are not synced: losing one to a power cut means a
	// duplicate delivery, never a lost entry.
	if len(group) > 0 && !b.opts.syncOnCommit {
		if err := b.db.Sync(); err != nil {
			return 0, fmt.Errorf("sync: %w", err)
		}
	}
	return moved, nil
}

// expireLocked drops ready entries older than MaxAge, oldest first. In-flight
// entries are left to their publisher; once released they expire too.
func (b *Buffer) expireLocked() int {
	cutoff := int64(b.clock.now() - b.opts.MaxAge)
	x := &b.idx
	n, bytes := 0, int64(0)
	for i := x.head; i < x.n; i++ {
		s := x.at(i)
		if s.state == slotGone {
			continue
		}
		if s.stamp >= cutoff {
			break
		}
		if s.state != slotReady {
			continue
		}
		bytes += int64(s.size)
		x.remove(i)
		b.deletes = append(b.deletes, s.seq)
		n++
	}
	if n > 0 {
		b.droppedAge += uint64(n)
		b.disk.freed += bytes
		x.compact()
		b.log.Warn("buffer: dropped entries older than MaxAge", "reason", DropAge, "count", n, "bytes", bytes, "max_age", b.opts.MaxAge)
	}
	return n
}

// makeRoomLocked drops the oldest entries until groupBytes more fit under
// MaxBytes: first entries waiting to be sent, then, only if that is not
// enough, entries in flight. MaxBytes is a hard bound.
func (b *Buffer) makeRoomLocked(groupBytes int64) {
	x := &b.idx
	over := x.bytes + groupBytes - b.opts.MaxBytes
	if over <= 0 {
		return
	}
	n, inFlight, bytes := 0, 0, int64(0)
	for _, want := range []slotState{slotReady, slotInFlight} {
		for i := x.head; i < x.n && over > 0; i++ {
			s := x.at(i)
			if s.state != want {
				continue
			}
			over -= int64(s.size)
			bytes += int64(s.size)
			x.remove(i)
			b.deletes = append(b.deletes, s.seq)
			n++
			if want == slotInFlight {
				inFlight++
			}
		}
	}
	b.droppedFull += uint64(n)
	b.disk.freed += bytes
	x.compact()
	b.log.Warn("buffer: full, dropped oldest entries", "reason", DropFull, "count", n, "in_flight", inFlight, "bytes", bytes, "max_bytes", b.opts.MaxBytes)
}

// collectGarbage runs value-log GC while it finds a file worth rewriting.
func (b *Buffer) collectGarbage() {
	rewrote := 0
	for {
		select {
		case <-b.done:
			return
		default:
		}
		err := b.db.RunValueLogGC(b.opts.GCDiscardRatio)
		if err == nil {
			rewrote++
			continue
		}
		if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
			b.log.Warn("buffer: value-log garbage collection failed", "err", err)
		}
		break
	}
	if rewrote > 0 {
		// Each rewrite moved a value-log file's live entries into the
		// tables: let the compactor look.
		b.db.wrote(b.db.every)
		if err := b.db.Sync(); err != nil {
			b.log.Warn("buffer: sync after value-log garbage collection failed", "err", err)
		}
		b.log.Debug("buffer: value-log garbage collection", "files_rewritten", rewrote)
	}
}
