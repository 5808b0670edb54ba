package buffer

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Compaction without tickers. Badger's compactors each look for work every
// 50 ms while the engine is open, loaded or not: two of them (the engine's
// minimum, short of none) were half of all thread wake-ups of a gateway
// forwarding 64 beds at 1 Hz, and a fifth of its CPU (the package
// documentation, Compaction, has the figures). The engine is therefore
// opened with no compactors of its own, and an engine here compacts when
// writes have made it due instead: whoever writes counts the bytes
// (engine.wrote), and every quarter memtable written the compactor
// goroutine is woken to look at level 0. It compacts once level 0 holds
// the engine's NumLevelZeroTables tables, and otherwise goes back to sleep
// without a timer.
//
// With no compactor of its own the engine must never stall: a stalled
// flush blocks every write, so no more bytes are counted and the
// compactor is never woken again, and an engine opened with a replayed
// memtable to flush onto a stalled level 0 would block in Open for good.
// Its stall (NumLevelZeroTablesStall) is therefore set to levelZeroStall,
// beyond reach: 128 tables is 512 MiB of default memtables written while
// every compaction failed, twice the outbox's default bound. A compaction
// that fails is tried again at the next quarter memtable written and
// compactRetry later; until one succeeds level 0 grows, which slows reads,
// never writes.

// levelZeroStall is the engine's NumLevelZeroTablesStall.
const levelZeroStall = 128

// compactRetry is how long after a failed compaction the compactor tries
// again unprompted.
const compactRetry = 10 * time.Second

// engine is an open storage engine and the compactor that stands in for
// its own. Close stops the compactor before closing the engine.
type engine struct {
	*badger.DB

	// compacting is held by whoever compacts: the compactor, or the
	// committer giving space back (compactAll). Badger runs one
	// compaction of a level at a time and fails the second.
	compacting sync.Mutex
	written    atomic.Int64  // bytes since the compactor was last woken
	every      int64         // a quarter memtable
	level0     int           // NumLevelZeroTables: compact from here
	poke       chan struct{} // capacity 1
	stop       chan struct{}
	stopOnce   sync.Once
	stopped    chan struct{}
	log        badger.Logger
	// compactions counts the compactions run, for the tests; failing
	// makes each fail, for the tests of what a failing one must not do.
	compactions atomic.Int64
	failing     atomic.Bool
}

// openEngine opens the engine with options bo and starts its compactor,
// turning a panic in the engine into an error.
func openEngine(bo badger.Options) (*engine, error) {
	db, err := openBadger(bo)
	if err != nil {
		return nil, err
	}
	e := &engine{
		DB:      db,
		every:   max(bo.MemTableSize/4, 1),
		level0:  bo.NumLevelZeroTables,
		poke:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		log:     bo.Logger,
	}
	go e.compactor()
	// The engine may have opened with level 0 already due (its memtable
	// replayed and flushed, tables left by a crash).
	e.wake()
	return e, nil
}

// openBadger opens the engine, turning a panic into an error.
func openBadger(bo badger.Options) (db *badger.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("storage engine panicked: %v", p)
		}
	}()
	return badger.Open(bo)
}

// wrote counts n bytes written (payloads and the keys and headers around
// them, as estimated by entryDiskOverhead) and wakes the compactor every
// quarter memtable. Safe for concurrent use; it never blocks.
func (e *engine) wrote(n int64) {
	if e.written.Add(n) >= e.every {
		e.written.Store(0)
		e.wake()
	}
}

func (e *engine) wake() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// compactor runs the compactions writes have made due, until Close.
// After a failure it tries again compactRetry later even if nothing more
// is written (the cause, a full disk say, may clear while the store is
// quiet); that timer runs only while compactions fail. A failure is
// logged once a minute at most, with how many there were.
func (e *engine) compactor() {
	defer close(e.stopped)
	var failed int
	var warned time.Time
	retry := time.NewTimer(compactRetry)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-e.poke:
		case <-retry.C:
		}
		err := e.compactIfDue()
		if err == nil {
			retry.Stop()
			continue
		}
		retry.Reset(compactRetry)
		if failed++; time.Since(warned) >= time.Minute {
			e.log.Warningf("compaction failed (%d times since the last warning): %v; tried again after the next quarter memtable written", failed, err)
			failed, warned = 0, time.Now()
		}
	}
}

// compactIfDue compacts when level 0 holds NumLevelZeroTables tables or
// more. Flatten is the engine's one public way to compact: it compacts
// level 0 into the base level, then each level into the next until one
// level holds every table. The outbox's keys ascend and its entries are
// deleted once acknowledged, so that level is small while the broker is
// up; during an outage it is the backlog, and an ascending key overlaps
// none of the tables already there.
func (e *engine) compactIfDue() error {
	e.compacting.Lock()
	defer e.compacting.Unlock()
	if levels := e.Levels(); len(levels) == 0 || levels[0].NumTables < e.level0 {
		return nil
	}
	if e.failing.Load() {
		return errors.New("compaction failing (test)")
	}
	e.compactions.Add(1)
	return e.Flatten(1)
}

// Close stops the compactor, waiting for a compaction it is running, then
// closes the engine.
func (e *engine) Close() error {
	e.stopOnce.Do(func() { close(e.stop) })
	<-e.stopped
	return e.DB.Close()
}

// closeQuietly closes an engine whose close error nobody can act on.
func closeQuietly(e *engine) {
	defer func() { _ = recover() }()
	_ = e.Close()
}
