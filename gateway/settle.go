package gateway

import (
	"context"
	"errors"
	"slices"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/record"
)

// settleAll carries out released records' decisions, in the order they were
// held, as one batch on the caller's goroutine: the record each one makes
// is queued in the outbox without waiting (buffer.QueueFunc), and the batch
// waits once for them all, which then share the outbox's syncs. A record
// whose bed's context must be stored first is stored the way a device
// session stores one (store), after the records queued before it. Once
// stored, each record's NEWS2 score is computed and stored, and the record
// leaves the hold file. A bed's records that could not be stored are held
// again, in order, from the first that failed (later ones of that bed
// stored meanwhile are stored again: the same observation identifiers, so
// the EPR files them once), and decided again at the next look.
//
// At 64 beds × 1 Hz a look releases about a dozen readings. Settled on a
// goroutine for each bed, each waiting for its own append, they cost two
// goroutine wake-ups a reading (the hand-off and the append's answer) of
// about eleven in all (a Go execution trace of BenchmarkWard); as a batch,
// a few for the whole look.
func (p *pipeline) settleAll(ctx context.Context, released []assoc.Released) {
	if len(released) == 0 {
		return
	}
	s := &settling{p: p, failed: map[string]bool{}}
	s.lock()
	for _, rel := range released {
		s.settle(ctx, rel)
	}
	s.flush(ctx)
	for _, rel := range slices.Backward(s.unsettled) {
		p.held.Return(rel) // each to the front: in order again
	}
}

// settling is one batch of released records being settled (settleAll).
// While records are queued, it holds the bed contexts' split lock shared,
// as bedContexts.store does from its look at the contexts until its record
// is stored: a new connection cannot split a record from the context it
// was checked against.
type settling struct {
	p      *pipeline
	locked bool
	// queued are the records routed since the last flush, in order; cur
	// is the one being routed.
	queued []*settlingRecord
	cur    *settlingRecord
	// failed names the beds whose records stay held; unsettled are those
	// records, in the order they were released.
	failed    map[string]bool
	unsettled []assoc.Released
}

// settlingRecord is a released record being settled: what routing it
// stored or queued, and its error.
type settlingRecord struct {
	rel assoc.Released
	err error // routing's, or a synchronous store's
	out []queuedRecord
	// forwarded are the observation records to score once stored.
	forwarded []record.Record
}

// queuedRecord is a record queued in the outbox.
type queuedRecord struct {
	rec     record.Record
	pending *buffer.Pending
	err     error
	// referring: the record refers to its bed's context; overtaken: that
	// context no longer served once the record was stored (see
	// bedContexts.store), so both are stored again.
	referring, overtaken bool
}

func (s *settling) lock() {
	if s.p.contexts != nil && !s.locked {
		s.p.contexts.splitting.RLock()
	}
	s.locked = true
}

func (s *settling) unlock() {
	if s.p.contexts != nil && s.locked {
		s.p.contexts.splitting.RUnlock()
	}
	s.locked = false
}

// settle routes one released record into the batch.
func (s *settling) settle(ctx context.Context, rel assoc.Released) {
	if s.failed[rel.Bed] {
		s.unsettled = append(s.unsettled, rel)
		return
	}
	rec, err := s.p.held.Load(rel)
	if err != nil {
		s.p.lost.Add(1)
		s.p.log.Error("a held reading is lost: it cannot be read back from disk", "bed", rel.Bed, "reason", "held-unreadable", "err", err)
		return
	}
	s.cur = &settlingRecord{rel: rel}
	if rel.Decision.Action == assoc.Hold {
		// Not a release: holding again takes the synchronous path.
		s.cur.err = s.now(ctx, func() error { return s.p.route(ctx, rec, rel.Decision) })
	} else {
		s.cur.err = s.p.routeTo(ctx, s, rec, rel.Decision)
	}
	s.queued = append(s.queued, s.cur)
	s.cur = nil
}

// store queues rec in the outbox; one whose bed's context must be stored
// first is stored now, after what is queued (now).
func (s *settling) store(ctx context.Context, rec record.Record) error {
	referring := s.p.contexts != nil && rec.Kind == record.KindObservations
	if referring && !s.p.contexts.serving(rec) {
		return s.now(ctx, func() error { return s.p.store(ctx, rec) })
	}
	pending, err := s.p.outbox.QueueFunc(ctx, message(rec.Topic, func(seq uint64) ([]byte, error) { return s.p.enc.Encode(rec, seq) }))
	if err != nil {
		return err
	}
	s.cur.out = append(s.cur.out, queuedRecord{rec: rec, pending: pending, referring: referring})
	return nil
}

// forward stores an observation record; it is scored once stored.
func (s *settling) forward(ctx context.Context, rec record.Record) error {
	if err := s.store(ctx, rec); err != nil {
		return err
	}
	if s.p.scores != nil {
		s.cur.forwarded = append(s.cur.forwarded, rec)
	}
	return nil
}

// now settles what is queued (flush), then runs f, which stores
// synchronously, without the split lock (store takes it itself); unless a
// record of the same bed queued before failed.
func (s *settling) now(ctx context.Context, f func() error) error {
	s.flush(ctx)
	defer s.lock()
	if s.failed[s.cur.rel.Bed] {
		return errBedUnsettled
	}
	return f()
}

// errBedUnsettled stops routing a record whose bed's earlier record could
// not be stored: it stays held behind it.
var errBedUnsettled = errors.New("an earlier reading of the bed could not be stored")

// flush waits for the queued records and finishes their released records
// in order; it returns with the split lock released.
func (s *settling) flush(ctx context.Context) {
	for _, sr := range s.queued {
		for i := range sr.out {
			q := &sr.out[i]
			_, q.err = q.pending.Wait(ctx)
			q.overtaken = q.referring && q.err == nil && !s.p.contexts.stillServes(q.rec)
		}
	}
	s.unlock()
	queued := s.queued
	s.queued = nil
	for _, sr := range queued {
		s.finish(ctx, sr)
	}
}

// finish completes a released record whose records were stored, or holds
// it again.
func (s *settling) finish(ctx context.Context, sr *settlingRecord) {
	if s.failed[sr.rel.Bed] {
		s.unsettled = append(s.unsettled, sr.rel)
		return
	}
	err := sr.err
	for _, q := range sr.out {
		if err == nil {
			err = q.err
		}
	}
	for _, q := range sr.out {
		if err != nil {
			break
		}
		if q.overtaken {
			err = s.p.store(ctx, q.rec) // the context again, then the record
			continue
		}
		s.p.tally.addStored(q.rec.Kind)
	}
	for _, rec := range sr.forwarded {
		if err != nil {
			break
		}
		err = s.p.score(ctx, rec)
	}
	if err != nil {
		s.p.log.Error("a held reading could not be stored; it stays held", "bed", sr.rel.Bed, "reason", "store-held", "err", err)
		s.failed[sr.rel.Bed] = true
		s.unsettled = append(s.unsettled, sr.rel)
		return
	}
	if err := s.p.held.Done(sr.rel); err != nil {
		s.p.log.Warn("a stored held reading stays on disk; it may be stored twice after a restart", "err", err)
	}
}

// settle reads a held record back from disk, carries out its decision and
// then removes it from disk. A crash in between stores it again at the
// next start: the same observation identifiers, so the EPR files it once.
// A record that cannot be read back (assoc.ErrUnreadable: Load removed it)
// is lost: counted and logged, not returned as an error. An error storing
// it is the caller's, to hold the record again.
func (p *pipeline) settle(ctx context.Context, rel assoc.Released) error {
	rec, err := p.held.Load(rel)
	if err != nil {
		p.lost.Add(1)
		p.log.Error("a held reading is lost: it cannot be read back from disk", "bed", rel.Bed, "reason", "held-unreadable", "err", err)
		return nil
	}
	if err := p.route(ctx, rec, rel.Decision); err != nil {
		return err
	}
	if err := p.held.Done(rel); err != nil {
		p.log.Warn("a stored held reading stays on disk; it may be stored twice after a restart", "err", err)
	}
	return nil
}
