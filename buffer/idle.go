package buffer

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Closing the engine while the store is idle (the package documentation,
// Idle, says why). While it is closed the committer waits for an append or
// Close, and looks at free space once a sweep interval: an empty store has
// nothing to read, expire, delete or collect, so its other tickers are not
// waited on (and the runtime keeps a ticker nobody waits on out of its
// timer heap).

// idleState is the committer's record of activity.
type idleState struct {
	since time.Time // the last write, or Open
	// writeFailed is set by a failed write and cleared by one storing
	// entries: a failed write may have left entries or a high-water mark
	// beyond the committer's numbers, which a reopen would take for a
	// changed store, so the engine is not closed meanwhile.
	writeFailed bool
	// failed is why the last reopen failed (disk space aside), at
	// failedAt: appends are refused with it, without another attempt,
	// for reopenRetry, and for good when the store changed.
	failed   error
	failedAt time.Time
}

// reopenRetry is how long appends are refused after a failed reopen before
// it is tried again (each attempt opens the engine: about 10 to 40 ms).
const reopenRetry = 10 * time.Second

// closeIfIdle closes the engine when the store has been empty and unwritten
// for Options.CloseIdleAfter and the disk is not low (the engine may need
// to write to give space back, and closing flushes its memtable). The
// committer calls it between its rounds.
func (b *Buffer) closeIfIdle() {
	if b.db == nil || b.lock == nil || b.opts.CloseIdleAfter < 0 || b.idle.writeFailed || time.Since(b.idle.since) < b.opts.CloseIdleAfter {
		return
	}
	if !b.empty() || b.space.low(b.checkSpace()) {
		return
	}
	b.dbMu.Lock()
	defer b.dbMu.Unlock()
	if !b.empty() {
		return
	}
	// Holding dbMu, no Next reads; with nothing stored none can start one
	// before the committer (this goroutine) stores an entry again.
	err := b.db.Close()
	b.db = nil
	if err != nil {
		b.log.Warn("buffer: closing the idle store failed; it is opened again for the next append", "err", err)
		return
	}
	b.log.Debug("buffer: store closed while idle", "idle_for", time.Since(b.idle.since).Round(time.Second))
}

// empty reports whether nothing is stored or waiting to be written (a
// compaction to give space back on a nearly full disk included).
func (b *Buffer) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.idx.live == 0 && len(b.queue) == 0 && b.writing == 0 && len(b.deletes) == 0 &&
		len(b.unreadable) == 0 && !(b.disk.freed > 0 && b.space.low(b.disk.free))
}

// waitClosed waits, with the engine closed, for an append or Close,
// reading free space as often as the sweep would (Stats.DiskFree stays
// current, and the reserve file is released when something else fills the
// disk). It opens the engine again when appends are queued (refusing them,
// with the reason, when it cannot) and reports false when the committer
// should exit: Close was called and nothing is queued.
func (b *Buffer) waitClosed() bool {
	look := time.NewTicker(sweepInterval(b.opts.MaxAge))
	defer look.Stop()
	closing := false
	for waiting := true; waiting; {
		select {
		case <-b.wake:
			waiting = false
		case <-b.done:
			closing, waiting = true, false
		case <-look.C:
			b.checkSpace()
		}
	}
	for b.queued() {
		err := b.reopenOrRecall()
		if err == nil {
			return true
		}
		b.refuseBuilt(err)
		if !closing || !b.queued() {
			return true // closed still: the next append tries again
		}
		<-b.wake // Close waits for appends still being built
	}
	return !closing
}

// reopenOrRecall reopens the engine, or returns why the last attempt failed
// while that still stands (see idleState.failed). A new failure is logged.
func (b *Buffer) reopenOrRecall() error {
	if f := b.idle.failed; f != nil && (errors.Is(f, errStoreChanged) || time.Since(b.idle.failedAt) < reopenRetry) {
		return f
	}
	err := b.reopen()
	b.idle.failed = nil
	if err != nil && !errors.Is(err, ErrDiskFull) {
		b.idle.failed, b.idle.failedAt = err, time.Now()
		b.log.Error("buffer: the idle store could not be opened again; appends refused", "err", err)
	}
	return err
}

// queued reports whether appends are queued.
func (b *Buffer) queued() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue) > 0
}

// errStoreChanged is returned by reopen for a store that is not the one
// the Buffer closed.
var errStoreChanged = errors.New("the store changed while it was closed for idleness")

// reopen opens the engine closed by closeIfIdle, once the disk has the
// reserve free (its memtables are written through memory maps: with no
// block left the process would die of SIGBUS; Open asks less, roomToOpen,
// because a store it opens may hold a backlog to drain, while this one is
// empty and the append that reopens it would be refused below the reserve
// anyway) and the directory is still the one the Buffer locked, and checks
// that the store is as it was left. A disk too full is an error matching
// ErrDiskFull.
func (b *Buffer) reopen() error {
	if free := b.checkSpace(); free >= 0 && free < b.space.reserve {
		return b.space.fullError(free)
	}
	locked, err := b.lock.Stat()
	if err != nil {
		return fmt.Errorf("reopen store: %w", err)
	}
	if fi, err := os.Stat(b.dir); err != nil || !os.SameFile(fi, locked) {
		return fmt.Errorf("reopen store: %w: %s is no longer the directory locked at Open", errStoreChanged, b.dir)
	}
	db, err := openEngine(b.opts.badgerOptions(b.dir).WithBypassLockGuard(true))
	if isNoSpace(err) {
		return fmt.Errorf("%w: reopen store: %w", ErrDiskFull, err)
	}
	if err != nil {
		return fmt.Errorf("reopen store: %w", err)
	}
	r, err := load(db, true, b.opts, b.log)
	if err == nil {
		b.mu.Lock()
		next, incarnation := b.next, b.incarnation
		b.mu.Unlock()
		switch {
		case r.incarnation != incarnation:
			err = fmt.Errorf("%w: incarnation %s, was %s", errStoreChanged, r.incarnation, incarnation)
		case r.next != next:
			err = fmt.Errorf("%w: next sequence number %d, was %d", errStoreChanged, r.next, next)
		case r.idx.live != 0:
			err = fmt.Errorf("%w: it holds %d entries, was empty", errStoreChanged, r.idx.live)
		}
	}
	if err != nil {
		closeQuietly(db)
		return fmt.Errorf("reopen store: %w", err)
	}
	b.dbMu.Lock()
	b.db = db
	b.dbMu.Unlock()
	b.idle.since = time.Now()
	b.log.Debug("buffer: store opened again")
	return nil
}

// refuseBuilt answers the queued appends whose callers are done building
// with err (one whose build failed, with its own error); they leave the
// queue and use no sequence number. Refusals for disk space are counted
// and logged as at a commit.
func (b *Buffer) refuseBuilt(err error) {
	b.mu.Lock()
	var refused []*appendRequest
	var built uint64 // refused that built their payload
	kept := b.queue[:0]
	for _, req := range b.queue {
		switch {
		case req.building:
			kept = append(kept, req)
			continue
		case req.err == nil:
			built++
		}
		refused = append(refused, req)
	}
	clear(b.queue[len(kept):])
	b.queue = kept
	full := errors.Is(err, ErrDiskFull)
	if full && built > 0 {
		b.countRefusedLocked(built, b.disk.free)
	}
	b.mu.Unlock()
	if !full {
		err = fmt.Errorf("buffer: append: %w", err)
	}
	for _, req := range refused {
		if req.err != nil {
			req.result <- appendResult{err: req.err}
			continue
		}
		req.result <- appendResult{err: err}
	}
}
