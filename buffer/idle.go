package buffer

import (
	"errors"
	"fmt"
	"time"
)

// Closing the engine while the store is idle (the package documentation,
// Idle, says why). While it is closed the committer waits for an append or
// Close alone: an empty store has nothing to read, expire, delete or
// collect, so none of its tickers is waited on (and the runtime keeps a
// ticker nobody waits on out of its timer heap).

// idleState is the committer's record of activity.
type idleState struct {
	since time.Time // the last write, or Open
}

// closeIfIdle closes the engine when the store has been empty and unwritten
// for Options.CloseIdleAfter. The committer calls it between its rounds.
func (b *Buffer) closeIfIdle() {
	if b.db == nil || b.lock == nil || b.opts.CloseIdleAfter < 0 || time.Since(b.idle.since) < b.opts.CloseIdleAfter {
		return
	}
	b.dbMu.Lock()
	defer b.dbMu.Unlock()
	b.mu.Lock()
	empty := b.emptyLocked()
	b.mu.Unlock()
	if !empty {
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

// emptyLocked reports whether nothing is stored or waiting to be written
// (a compaction to give space back on a nearly full disk included).
func (b *Buffer) emptyLocked() bool {
	return b.idx.live == 0 && len(b.queue) == 0 && b.writing == 0 && len(b.deletes) == 0 &&
		len(b.unreadable) == 0 && !(b.disk.freed > 0 && b.space.low(b.disk.free))
}

// waitClosed waits, with the engine closed, for an append or Close. It
// opens the engine again when appends are queued (failing them, with the
// reason, when it cannot) and reports false when the committer should exit:
// Close was called and nothing is queued.
func (b *Buffer) waitClosed() bool {
	closing := false
	select {
	case <-b.wake:
	case <-b.done:
		closing = true
	}
	for b.queued() {
		err := b.reopen()
		if err == nil {
			return true
		}
		b.log.Error("buffer: the idle store could not be opened again; appends refused", "err", err)
		b.refuseBuilt(fmt.Errorf("buffer: append: %w", err))
		if !closing || !b.queued() {
			return true // closed still: the next append tries again
		}
		<-b.wake // Close waits for appends still being built
	}
	return !closing
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

// reopen opens the engine closed by closeIfIdle and checks that the store
// is as it was left.
func (b *Buffer) reopen() error {
	bo := b.opts.badgerOptions(b.dir).WithBypassLockGuard(true)
	db, err := openBadger(bo)
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
// with err; they leave the queue and use no sequence number.
func (b *Buffer) refuseBuilt(err error) {
	b.mu.Lock()
	var refused []*appendRequest
	kept := b.queue[:0]
	for _, req := range b.queue {
		if req.building {
			kept = append(kept, req)
			continue
		}
		refused = append(refused, req)
	}
	clear(b.queue[len(kept):])
	b.queue = kept
	b.mu.Unlock()
	for _, req := range refused {
		req.result <- appendResult{err: err}
	}
}
