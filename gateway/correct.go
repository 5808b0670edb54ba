package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/hl7"
	"github.com/bedgate/bedgate/gateway/record"
)

// Corrections: every reading decided for a subject (a patient, or nobody)
// is entered in the ledger of filings (gateway/filed) before it is stored.
// When an admission event is applied, or the admission feed comes up, the
// held-records loop compares each filing from the event's time on with the
// subject the register now gives for its time, and corrects those that
// differ: the wrong filing struck out, the reading filed again for the right
// subject (README: Corrections).

// file enters a decided reading in the ledger of filings. A ledger that
// cannot take it is logged, not fatal: the reading is still filed, but a
// late admission event could not correct it.
func (p *pipeline) file(rec record.Record, d assoc.Decision) {
	e := filed.Entry{Quarantined: d.Action == assoc.Quarantine, Record: rec}
	if !p.enter(e) {
		return
	}
	// An admission event applied between the decision and now may have
	// been compared with the ledger before the entry was in it.
	who, has := e.Subject()
	if now, ok := p.decider.Refile(rec, p.now()); ok && !sameSubject(who, has, now) {
		p.rechecks.request(assoc.ReadingTime(rec), time.Time{})
		p.wakeHeld()
	}
}

// enter adds e to the ledger of filings and reports whether it is in
// (never without a ledger: a pipeline built by a test).
func (p *pipeline) enter(e filed.Entry) bool {
	if p.filed == nil {
		return false
	}
	if err := p.outbox.Room(heldRoom); err != nil {
		// The ledger shares the outbox's filesystem and must not eat into
		// the reserve its engine needs.
		p.log.Error("no room for the ledger of filings; the record cannot be corrected", "bed", e.Record.Bed, "reason", "ledger", "err", err)
		return false
	}
	// Written, not synced: the outbox syncs the ledger before it writes
	// the appends that follow (ledgerSync), once for a group of them.
	if err := p.filed.Write(e); err != nil {
		p.log.Error("a record could not be entered in the ledger of filings; it cannot be corrected", "bed", e.Record.Bed, "reason", "ledger", "err", err)
		return false
	}
	return true
}

// ledgerSync syncs the ledger of filings before the outbox writes each
// group of appends (its beforeWrite is the outbox's BeforeWrite), so that a
// filing is on disk before the reading filed is (a reading in the outbox
// without its filing could not be corrected). One sync a group, not one a
// filing: the filings' own syncs were 7 % of the gateway's CPU at 64 beds ×
// 50 Hz (BenchmarkWard). A sync that fails is logged and the readings are
// stored, as when a filing cannot be written (enter). The ledger is set
// once opened, after the outbox, whose lock guards the data directory.
type ledgerSync struct {
	ledger atomic.Pointer[filed.Ledger]
	log    *slog.Logger
}

func (s *ledgerSync) beforeWrite() {
	l := s.ledger.Load()
	if l == nil {
		return // nothing filed yet
	}
	if err := l.Sync(); err != nil {
		s.log.Error("the ledger of filings could not be synced; readings filed since may not be correctable after a power cut", "reason", "ledger", "err", err)
	}
}

// close closes the ledger, if it was opened: after the outbox.
func (s *ledgerSync) close() error {
	if l := s.ledger.Load(); l != nil {
		return l.Close()
	}
	return nil
}

// sameSubject reports whether decision d files a reading for the subject
// it was filed for (who, or nobody when !has).
func sameSubject(who record.Patient, has bool, d assoc.Decision) bool {
	if (d.Action == assoc.Forward) != has {
		return false
	}
	return !has || *d.Patient == who || assoc.SamePatient(*d.Patient, who)
}

// correctFiled compares the filings of readings from the time from on with
// the register and corrects those filed for another subject than the one
// it now gives. A filing whose time the admission feed does not know
// complete (a hole after a restart), or from before the register's kept
// history, is left as it is: never corrected on a guess.
//
// The ledger records the corrections last, after the corrections and the
// NEWS2 scores they strike out are in the outbox: a crash before that
// corrects again at the next start (the same identifiers, so the EPR files
// each once).
func (p *pipeline) correctFiled(ctx context.Context, from time.Time) error {
	now := p.now()
	var done []correction
	var err error
	for _, it := range p.filed.Since(from) {
		if it.Score || it.Struck || it.At.Before(p.register.Floor(it.Bed)) {
			continue
		}
		d, ok := p.decider.Refile(record.Record{Bed: it.Bed, ReceivedAt: it.At}, now)
		if !ok || sameSubject(it.Subject, it.HasSubject, d) {
			continue
		}
		e, rerr := p.filed.Read(it)
		if rerr != nil {
			p.log.Error("a filed reading to correct could not be read back", "bed", it.Bed, "reason", "ledger", "err", rerr)
			continue
		}
		next, cerr := p.correct(ctx, e, d)
		if cerr != nil {
			err = cerr
			break
		}
		done = append(done, correction{item: it, was: e, next: next, now: d.Action})
	}
	if len(done) > 0 {
		p.strikeScores(ctx, done)
	}
	for _, c := range done {
		if rerr := p.filed.Replace(c.item, c.next); rerr != nil {
			err = errors.Join(err, fmt.Errorf("gateway: ledger of filings: %w", rerr))
			continue
		}
		p.corrections.Add(1)
		_, was := c.was.Subject()
		p.log.Info("a filed reading corrected: the admission record changed after filing", "bed", c.item.Bed, "reason", "correction",
			"reading_time", c.item.At, "was_patient", was, "now", c.now.String())
	}
	return err
}

// correction is one filing corrected in the outbox, not yet in the ledger.
type correction struct {
	item      filed.Item
	was, next filed.Entry
	now       assoc.Action
}

// strikeScores strikes out the NEWS2 scores computed from the readings
// corrected (a score is not computed again for the past). FHIR only: HL7
// v2 carries no scores.
func (p *pipeline) strikeScores(ctx context.Context, done []correction) {
	enc, _ := p.enc.(encoder)
	fhirEnc, ok := enc.format.(*fhir.Encoder)
	if !ok {
		return
	}
	ids := map[string]bool{} // the observations struck out
	for _, c := range done {
		for _, o := range c.was.Record.Observations {
			ids[o.ID] = true
		}
	}
	for _, it := range p.filed.Since(time.Time{}) {
		if !it.Score || it.Struck {
			continue
		}
		e, err := p.filed.Read(it)
		if err != nil || e.Record.NEWS2 == nil || !citesAny(*e.Record.NEWS2, ids) {
			continue
		}
		score := e.Record
		err = p.storeCorrection(ctx, score.Topic, func(seq uint64) ([]byte, error) { return fhirEnc.EncodeCorrection(score, nil, seq) })
		if err == nil {
			err = p.filed.Replace(it, filed.Entry{Origin: e.Origin, Struck: true, Record: score})
		}
		if err != nil {
			p.log.Error("a NEWS2 score computed from corrected readings could not be struck out", "bed", it.Bed, "reason", "correction", "err", err)
			continue
		}
		p.log.Info("a NEWS2 score struck out: readings it was computed from were corrected", "bed", it.Bed, "reason", "correction")
	}
}

// citesAny reports whether a NEWS2 score was computed from any of the
// observations ids.
func citesAny(s record.NEWS2, ids map[string]bool) bool {
	for _, sub := range s.SubScores {
		for _, id := range sub.Observations {
			if ids[id] {
				return true
			}
		}
	}
	return false
}

// correct stores the correction of one filing in the outbox: the wrong
// filing struck out (FHIR entered-in-error, HL7 OBX-11 W; nothing when it
// was quarantined), then the reading filed for the subject of d, or
// quarantined when d says so. It returns the filing that replaces e.
func (p *pipeline) correct(ctx context.Context, e filed.Entry, d assoc.Decision) (filed.Entry, error) {
	wrong := e.Record
	next := filed.Refiled(wrong, d.Patient, d.Reason)
	var right *record.Record
	if d.Action != assoc.Quarantine {
		right = &next
	}
	var err error
	switch {
	case !e.Quarantined:
		err = p.strikeOut(ctx, wrong, right)
	case right != nil:
		err = p.storeCorrection(ctx, next.Topic, func(seq uint64) ([]byte, error) { return p.enc.Encode(next, seq) })
	}
	if err == nil && right == nil {
		err = p.quarantineAll(ctx, next, "no-patient", d.Reason)
	}
	return filed.Entry{Origin: e.Origin, Quarantined: right == nil, Record: next}, err
}

// strikeOut stores the messages that strike out the filing wrong and file
// right (nil: nothing to file) in the output format: one FHIR Bundle, or
// the HL7 message re-sent with OBX-11 W and then right's message.
func (p *pipeline) strikeOut(ctx context.Context, wrong record.Record, right *record.Record) error {
	var format record.Encoder
	if e, ok := p.enc.(encoder); ok {
		format = e.format
	}
	switch enc := format.(type) {
	case *fhir.Encoder:
		return p.storeCorrection(ctx, wrong.Topic, func(seq uint64) ([]byte, error) { return enc.EncodeCorrection(wrong, right, seq) })
	case *hl7.Encoder:
		if err := p.storeCorrection(ctx, wrong.Topic, func(seq uint64) ([]byte, error) { return enc.EncodeWrong(wrong, seq) }); err != nil {
			return err
		}
		if right == nil {
			return nil
		}
		return p.storeCorrection(ctx, right.Topic, func(seq uint64) ([]byte, error) { return enc.Encode(*right, seq) })
	}
	return fmt.Errorf("gateway: the %s format has no corrections", p.enc.ContentType())
}

// storeCorrection appends one correction message to the outbox; unlike a
// reading, a correction refused for a full disk is an error, so that it is
// tried again rather than marked done.
func (p *pipeline) storeCorrection(ctx context.Context, topic string, encode func(seq uint64) ([]byte, error)) error {
	if _, err := p.append(ctx, topic, encode); err != nil {
		return err
	}
	p.tally.addStored(kindCorrection)
	return nil
}

// correctionSettle is how long filings are compared with the register
// after an admission event: an EPR publishes a discharge and the next
// admission as two messages, and a reading is corrected once, straight to
// the new patient, when both are in.
const correctionSettle = time.Second

// kindCorrection counts correction messages among the stored records.
const kindCorrection = "correction"

// recheck is the pending request to compare the ledger of filings with the
// register. The zero value has none.
type recheck struct {
	mu        sync.Mutex
	pending   bool
	from      time.Time // filings from this reading time on; zero: all
	notBefore time.Time
}

// request asks for filings from from on (zero: all) to be compared, not
// before notBefore; requests merge into the widest.
func (r *recheck) request(from, notBefore time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.pending || from.Before(r.from) {
		r.from = from
	}
	if notBefore.After(r.notBefore) {
		r.notBefore = notBefore
	}
	r.pending = true
}

// take returns the pending request when it is due at now, and clears it;
// wait is how long until it is due (zero: nothing pending).
func (r *recheck) take(now time.Time) (from time.Time, ok bool, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.pending:
		return time.Time{}, false, 0
	case now.Before(r.notBefore):
		return time.Time{}, false, r.notBefore.Sub(now)
	}
	from = r.from
	r.pending, r.from, r.notBefore = false, time.Time{}, time.Time{}
	return from, true, 0
}
