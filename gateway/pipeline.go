package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/holdfile"
	"github.com/bedgate/bedgate/gateway/news2/tracker"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/validate"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// pipeline is what every reading goes through after its driver: observe
// (identify, judge device status), validate (plausibility, units, time),
// associate (the patient in the bed when it was read) and store. Nothing
// is dropped: a value that is not forwarded as an observation goes to the
// bed's quarantine topic with its reason.
type pipeline struct {
	rules          validate.Rules
	maxClockOffset time.Duration
	maxAge         time.Duration // validation.max_measurement_age

	outbox *buffer.Buffer
	enc    record.Encoder
	// contexts stores each bed's context before the observation records
	// that refer to it; nil when the format carries it in every message.
	contexts *bedContexts
	register *assoc.Register
	// feed is the watermark of the admission feed: readings are decided
	// only when it knows the feed complete up to their time.
	feed    *assoc.Feed
	decider assoc.Decider
	// held are the readings waiting for the feed or a patient, each on
	// disk (heldFile) until its decision is stored in the outbox.
	held     *assoc.Held
	heldFile *holdfile.File
	// journal keeps every admission message the register applied, synced
	// before the broker's acknowledgement, so that the register persists
	// across restarts; at most maxJournal messages (the oldest go first).
	journal    *holdfile.File
	maxJournal int
	// filed is the ledger of what was filed for whom, which late
	// admission events are compared with (correct.go); rechecks asks for
	// the comparison and corrections counts the readings corrected.
	filed       *filed.Ledger
	rechecks    recheck
	corrections atomic.Int64
	grace       time.Duration
	counts      *validate.Counts
	// scores computes advisory NEWS2 scores from forwarded observations
	// and nurse entries; nil when the output format cannot carry them.
	scores *tracker.Tracker
	now    func() time.Time
	log    *slog.Logger
	// wake asks the held-records loop to look again (an admission arrived).
	wake chan struct{}
	// scored carries NEWS2 scores completed by nurse entries to storeScores.
	scored chan record.Record

	// lost counts records that no device session waited for (held
	// readings released, NEWS2 scores) and that could not be stored, held
	// readings that could not be read back from disk, and readings not
	// stored because their context was refused for want of space: never
	// silent, reported on the status topic.
	lost atomic.Int64
	// tally counts stored records and quarantined values for the snapshot.
	tally tally

	subMu  sync.Mutex
	subErr map[string]string // topic filter → why the broker refused it
}

// watchSubscription waits, off the MQTT client's goroutine, for the
// broker's answer to a subscription the gateway needs, and records (and
// logs) a refusal: without admissions no reading is associated, without
// nurse entries no NEWS2 is scored, and that must not pass unnoticed.
func (p *pipeline) watchSubscription(filter string, tok mqtt.Token) {
	go func() {
		if !tok.WaitTimeout(30 * time.Second) {
			p.setSubscriptionError(filter, "no answer from the broker")
			return
		}
		if err := tok.Error(); err != nil {
			p.setSubscriptionError(filter, err.Error())
			return
		}
		if st, ok := tok.(*mqtt.SubscribeToken); ok {
			for _, code := range st.Result() {
				if code >= 0x80 {
					p.setSubscriptionError(filter, fmt.Sprintf("refused by the broker (code %#x)", code))
					return
				}
			}
		}
		p.setSubscriptionError(filter, "")
	}()
}

func (p *pipeline) setSubscriptionError(filter, why string) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.subErr == nil {
		p.subErr = map[string]string{}
	}
	if why == "" {
		delete(p.subErr, filter)
		return
	}
	p.subErr[filter] = why
	p.log.Error("subscription refused", "filter", filter, "err", why)
}

// subscriptionError describes the subscriptions the broker refused, or is
// empty.
func (p *pipeline) subscriptionError() string {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	var parts []string
	for f, why := range p.subErr {
		parts = append(parts, f+": "+why)
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// newPipeline builds the pipeline of a gateway's configuration.
func newPipeline(cfg *config.Config, outbox *buffer.Buffer, ledger *filed.Ledger, now func() time.Time, log *slog.Logger) (*pipeline, error) {
	format, err := NewEncoder(cfg.Gateway.Format, outbox.Incarnation())
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	rules, err := validate.NewRules(validate.Config{Ranges: cfg.Validation.Ranges})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	bedNames := make([]string, len(cfg.Beds))
	for i, b := range cfg.Beds {
		bedNames[i] = b.Name
	}
	register := assoc.NewRegister(assoc.Options{Site: cfg.Gateway.Site, Ward: cfg.Gateway.Ward, Beds: bedNames,
		Horizon: max(assoc.DefaultHorizon, cfg.Buffer.MaxAge+24*time.Hour), Now: now})
	for _, b := range cfg.Beds {
		if b.NHSNumber != "" {
			if err := register.Static(b.Name, record.Patient{NHSNumber: b.NHSNumber}); err != nil {
				return nil, fmt.Errorf("gateway: bed %s: static patient: %w", b.Name, err)
			}
		}
	}
	decider, err := cfg.Association.Decider(register)
	if err != nil {
		return nil, fmt.Errorf("gateway: association: %w", err)
	}
	journal, err := holdfile.Open(filepath.Join(cfg.Gateway.DataDir, "held", "admissions"))
	if err != nil {
		return nil, fmt.Errorf("gateway: admission journal: %w", err)
	}
	journalled, err := journal.Entries()
	if err != nil {
		return nil, fmt.Errorf("gateway: admission journal: %w", err)
	}
	for _, e := range journalled {
		topic, payload, _ := strings.Cut(string(e.Data), "\n")
		_ = register.HandleMessage(topic, []byte(payload)) // refused now as then
	}
	feed := assoc.NewFeed(cfg.Association.Grace, register.Latest, bedNames)
	decider.Feed = feed
	heldFile, err := holdfile.Open(filepath.Join(cfg.Gateway.DataDir, "held", "readings"))
	if err != nil {
		return nil, fmt.Errorf("gateway: held readings: %w", err)
	}
	held := assoc.NewHeld(decider, assoc.DefaultMaxHeld, heldFile)
	// One at a time: the queue keeps what deciding takes, not the
	// readings (up to assoc.DefaultMaxHeld of 1 to 4 KB).
	var unreadable int64
	for _, key := range heldFile.Keys() {
		if err := held.Restore(key); err != nil {
			unreadable++
			log.Error("a held reading could not be read back; removed", "reason", "held-unreadable", "err", err)
		}
	}
	if st := heldFile.Stats(); st.Live > 0 || st.Damaged > 0 {
		log.Info("readings held before the restart are held again", "held", st.Live, "damaged_bytes", st.Damaged)
	}
	pipe := &pipeline{
		rules:          rules,
		maxClockOffset: cfg.Validation.MaxClockOffset,
		maxAge:         cfg.Validation.MaxMeasurementAge,
		outbox:         outbox,
		enc:            encoder{format: format},
		register:       register,
		feed:           feed,
		decider:        decider,
		held:           held,
		heldFile:       heldFile,
		journal:        journal,
		maxJournal:     len(cfg.Beds)*assoc.DefaultMaxEvents + 64,
		filed:          ledger,
		grace:          cmp.Or(cfg.Association.Grace, assoc.DefaultGrace),
		counts:         &validate.Counts{},
		now:            now,
		log:            log,
		wake:           make(chan struct{}, 1),
		scored:         make(chan record.Record, 64),
	}
	if ce, ok := format.(record.ContextEncoder); ok {
		pipe.contexts = newBedContexts(ce, outbox)
	}
	if cfg.Gateway.Format != "hl7v2" {
		// NEWS2 scores are published as FHIR Observations; HL7 v2 PCD-01
		// has no place for them.
		var scale2 []tracker.Bed
		for _, b := range cfg.Beds {
			if b.NEWS2Scale2 {
				scale2 = append(scale2, tracker.Bed{Site: cfg.Gateway.Site, Ward: cfg.Gateway.Ward, Name: b.Name})
			}
		}
		beds := make([]tracker.Bed, len(cfg.Beds))
		for i, b := range cfg.Beds {
			beds[i] = tracker.Bed{Site: cfg.Gateway.Site, Ward: cfg.Gateway.Ward, Name: b.Name}
		}
		pipe.scores, err = tracker.New(tracker.Options{Scale2: scale2, Beds: beds, Stays: register,
			Window: cfg.NEWS2.Window, Windows: cfg.NEWS2.InputWindows(), NurseFor: cfg.NEWS2.NurseEntryFor})
		if err != nil {
			return nil, fmt.Errorf("gateway: NEWS2: %w", err)
		}
	}
	pipe.lost.Add(unreadable)
	return pipe, nil
}

// forBed returns a bed's view of the pipeline, with its own validation
// state and charting cadence; period is its device's reading period and
// episodic the codes it measures episodically (drivers.Driver).
func (p *pipeline) forBed(bed Bed, period time.Duration, episodic []uint32) (*bedPipeline, error) {
	checker, err := validate.NewChecker(validate.Options{Rules: &p.rules, Cycle: period, Episodic: episodic,
		MaxClockOffset: p.maxClockOffset, MaxMeasurementAge: p.maxAge, Counts: p.counts})
	if err != nil {
		return nil, fmt.Errorf("gateway: bed %s: %w", bed.Name, err)
	}
	return &bedPipeline{p: p, bed: bed, checker: checker, measurements: newMeasurements(episodic), cadence: newCadence(bed.ForwardEvery, episodic)}, nil
}

// bedPipeline is one bed's view of the pipeline: its validation state and
// charting cadence.
type bedPipeline struct {
	p            *pipeline
	bed          Bed
	checker      *validate.Checker
	measurements *measurements
	cadence      *cadence
}

// Accept is where readings from every source enter the pipeline (the
// serial supervisors, the MLLP listener): observe (each episodic
// measurement a record of its own, at its time; see measurements),
// validate, associate (reconciled with the sender's claim, when the source
// has one; see Claim) and store. It returns once the records are durable,
// or with the error of the outbox that refused one: the reading must then
// not count as accepted. Calls for one bedPipeline must not overlap.
func (b *bedPipeline) Accept(ctx context.Context, r drivers.Reading, claim *Claim) error {
	for _, rec := range b.measurements.records(b.bed, r) {
		if err := b.accept(ctx, rec, claim); err != nil {
			return err
		}
	}
	return nil
}

// accept validates, associates and stores one record of a reading.
func (b *bedPipeline) accept(ctx context.Context, rec record.Record, claim *Claim) error {
	accepted, rejected := b.checker.Check(rec)
	if len(rejected) > 0 {
		if err := b.p.quarantine(ctx, accepted, rejected); err != nil {
			return err
		}
	}
	if len(accepted.Observations) == 0 {
		if len(rejected) > 0 {
			b.cadence.quarantinedAll(rec)
		}
		return nil
	}
	if err := accepted.Check(); err != nil {
		// A record the encoders would refuse is quarantined whole, with
		// the reason, rather than failing the device's session on every
		// reading.
		b.p.log.Error("a reading breaks the record contract; quarantined", "bed", b.bed.Name, "reason", "unencodable", "err", err)
		b.cadence.quarantinedAll(rec)
		return b.p.quarantineAll(ctx, accepted, "unencodable", err.Error())
	}
	if claim != nil && claim.Problem != "" {
		b.cadence.quarantinedAll(rec)
		return b.p.quarantineAll(ctx, accepted, ReasonPatientMismatch, "the sender's patient identifier is unusable: "+claim.Problem)
	}
	if b.cadence.chart(accepted, len(rejected) > 0) == "" {
		b.p.tally.addNotCharted(b.bed.Name)
		return nil
	}
	accepted.Claim = claim.record()
	return b.p.route(ctx, accepted, b.p.decider.Decide(accepted, b.p.now()))
}

// route applies an association decision to a record. The record names its
// own bed: a held record may be routed while another bed's reading is.
func (p *pipeline) route(ctx context.Context, rec record.Record, d assoc.Decision) error {
	d, mismatch := reconcile(rec.Claim, d)
	if mismatch != "" {
		return p.quarantineAll(ctx, rec, ReasonPatientMismatch, mismatch)
	}
	// A reading whose sender named the patient is the sender's to
	// correct: it stays out of the ledger of filings.
	claimed := rec.Claim != nil
	if d.Action != assoc.Hold {
		rec.Claim = nil // decided: the sender's claim is not carried on
	}
	switch d.Action {
	case assoc.Forward, assoc.ForwardUnassociated:
		rec.Patient, rec.Unassociated, rec.AssocReason = d.Patient, d.Patient == nil, ""
		if d.Patient == nil {
			rec.AssocReason = d.Reason
		}
		if !claimed {
			p.file(rec, d)
		}
		return p.forward(ctx, rec)
	case assoc.Hold:
		// Held readings are kept on the outbox's filesystem: they must not
		// eat into the reserve its engine needs (a full disk would crash
		// it). Refused, the reading is a loss the outbox counts as
		// disk-full, as a refused append is (see store).
		if err := p.outbox.Room(heldRoom); err != nil {
			return fmt.Errorf("gateway: hold reading: %w", err)
		}
		out, pushed, err := p.held.Add(rec, p.now())
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		if pushed {
			// The held queue was full: the oldest record leaves it now.
			// rec is held whatever becomes of it: a failure is not
			// rec's (the device session goes on), and the record is
			// held again, at the front, for the next look.
			if err := p.settle(ctx, out); err != nil {
				p.held.Return(out)
				p.log.Error("a reading pushed out of the full hold could not be stored; it stays held", "bed", out.Bed, "reason", "store-held", "err", err)
			}
		}
		return nil
	case assoc.Quarantine:
		if !claimed {
			p.file(rec, d)
		}
		return p.quarantineAll(ctx, rec, "no-patient", d.Reason)
	default:
		return fmt.Errorf("gateway: unknown association action %v", d.Action)
	}
}

// heldRoom is the disk space asked of the outbox's filesystem for one held
// reading: a record of a monitor's reading is 1 to 4 KB as JSON.
const heldRoom = 16 << 10

// quarantineAll quarantines every value of rec for one reason.
func (p *pipeline) quarantineAll(ctx context.Context, rec record.Record, reason validate.Reason, text string) error {
	all := make([]validate.Rejection, len(rec.Observations))
	for i, o := range rec.Observations {
		all[i] = validate.Rejection{Observation: o, Reason: reason, Text: text}
	}
	return p.quarantine(ctx, rec, all)
}

// quarantine stores the rejected values as one record for the bed's
// quarantine topic.
func (p *pipeline) quarantine(ctx context.Context, header record.Record, rejected []validate.Rejection) error {
	q := header
	q.Kind = record.KindRejected
	q.Topic = Bed{Site: header.Site, Ward: header.Ward, Name: header.Bed}.RejectedTopic()
	q.Patient, q.Claim, q.Observations, q.Unmeasured = nil, nil, nil, nil
	q.Rejected = make([]record.Rejected, len(rejected))
	for i, r := range rejected {
		q.Rejected[i] = record.Rejected{Observation: r.Observation, Reason: string(r.Reason), Text: r.Text}
	}
	// One line per reading would flood: the logger rate-limits this line
	// per bed and reason (drivers/ratelog); the counts are on the status
	// topic.
	p.log.Info("values quarantined", "bed", header.Bed, "count", len(rejected), "reason", string(rejected[0].Reason))
	p.tally.addQuarantined(header.Bed, rejected)
	return p.store(ctx, q)
}

// forward stores an observation record, then the NEWS2 score it
// completes, if any.
func (p *pipeline) forward(ctx context.Context, rec record.Record) error {
	if err := p.store(ctx, rec); err != nil {
		return err
	}
	if p.scores == nil {
		return nil
	}
	if score, ok := p.scores.Observe(rec); ok {
		p.enter(filed.Entry{Record: score})
		return p.store(ctx, score)
	}
	return nil
}

// nurse handles a nurse entry (consciousness, air or oxygen) for a bed. It
// runs on the MQTT client's goroutine; the score it may complete is stored
// by the nurse loop.
func (p *pipeline) nurse(topic string, payload []byte) {
	bed, err := tracker.ParseNurseTopic(topic)
	if err != nil {
		p.log.Warn("nurse entry on an unexpected topic", "topic", topic, "err", err)
		return
	}
	if !p.scores.Known(bed) {
		// Checked before the payload is read: an entry for a bed that does
		// not exist creates no state.
		p.log.Warn("nurse entry for a bed not configured", "topic", topic)
		return
	}
	entry, err := tracker.ParseNurseEntry(payload)
	if err != nil {
		p.log.Warn("nurse entry not applied", "topic", topic, "err", err)
		return
	}
	if score, ok := p.scores.Nurse(bed, entry, p.now()); ok {
		select {
		case p.scored <- score:
		default:
			// The loop is far behind: the next observation scores again.
			p.lost.Add(1)
			p.log.Warn("a NEWS2 score from a nurse entry was not stored: the gateway is busy", "bed", bed.Name)
		}
	}
}

// storeScores stores the NEWS2 scores nurse entries complete, until ctx ends.
func (p *pipeline) storeScores(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case score := <-p.scored:
			p.enter(filed.Entry{Record: score})
			if err := p.store(ctx, score); err != nil && !errors.Is(err, buffer.ErrDiskFull) {
				p.lost.Add(1)
				p.log.Error("a NEWS2 score could not be stored", "bed", score.Bed, "err", err)
			}
		}
	}
}

// store encodes a record, with the outbox sequence number it is stored
// under, and appends the message to the outbox: durable when it returns. A
// record refused because the disk is nearly full returns an error matching
// buffer.ErrDiskFull, which the outbox has counted (dropped "disk-full")
// and logged: a source that cannot send again (a serial device) goes on
// without it, one that can (an MLLP sender) is asked to send it again. An
// observation record that refers to its bed's context is stored after the
// context (storeReferring).
func (p *pipeline) store(ctx context.Context, rec record.Record) error {
	if p.contexts != nil && rec.Kind == record.KindObservations {
		return p.storeReferring(ctx, rec)
	}
	_, err := p.appendRecord(ctx, rec)
	return p.stored(rec, err)
}

// storeReferring stores rec after the context it refers to (see
// bedContexts.store). A context refused for want of space leaves rec
// unstored too (it would refer to nothing): refused for space as well.
func (p *pipeline) storeReferring(ctx context.Context, rec record.Record) error {
	err := p.contexts.store(ctx, rec, p.appendRecord)
	if errors.Is(err, errContextRefused) && !errors.Is(err, buffer.ErrDiskFull) {
		err = fmt.Errorf("%w: %w", err, buffer.ErrDiskFull)
	}
	return p.stored(rec, err)
}

// appendRecord encodes rec with the sequence number it gets and appends
// it to the outbox.
func (p *pipeline) appendRecord(ctx context.Context, rec record.Record) (buffer.Seq, error) {
	return p.append(ctx, rec.Topic, func(seq uint64) ([]byte, error) { return p.enc.Encode(rec, seq) })
}

// append stores one message for topic, encoded with the sequence number it
// is stored under.
func (p *pipeline) append(ctx context.Context, topic string, encode func(seq uint64) ([]byte, error)) (buffer.Seq, error) {
	seq, err := p.outbox.AppendFunc(ctx, func(seq buffer.Seq) ([]byte, error) {
		body, err := encode(uint64(seq))
		if err != nil {
			return nil, fmt.Errorf("encode record: %w", err)
		}
		return publish.Envelope(topic, body), nil
	})
	if err != nil {
		return seq, fmt.Errorf("store record: %w", err)
	}
	return seq, nil
}

// stored counts a record the outbox took; err is the outbox's answer.
func (p *pipeline) stored(rec record.Record, err error) error {
	if err != nil {
		return err
	}
	p.tally.addStored(rec.Kind)
	return nil
}

// admission handles a message on an admission topic. It runs on the MQTT
// client's goroutine, so it only updates the register and wakes the
// held-records loop.
func (p *pipeline) admission(topic string, payload []byte) {
	if err := p.register.HandleMessage(topic, payload); err != nil {
		// Register errors never contain patient identifiers.
		p.log.Warn("admission message not applied", "topic", topic, "err", err)
		return
	}
	if len(payload) > 0 {
		p.remember(topic, payload)
		if a, err := assoc.ParseAdmission(payload); err == nil {
			// Changes to the windows are at the event's time or later.
			p.rechecks.request(a.Time, p.now().Add(correctionSettle))
		}
	}
	p.wakeHeld()
}

// remember journals an applied admission message (see pipeline.journal).
func (p *pipeline) remember(topic string, payload []byte) {
	if _, err := p.journal.Add(append([]byte(topic+"\n"), payload...)); err != nil {
		p.log.Error("an admission message could not be journalled; it is applied but lost at a restart", "topic", topic, "err", err)
		return
	}
	if keys := p.journal.Keys(); len(keys) > p.maxJournal {
		for _, k := range keys[:len(keys)-p.maxJournal] {
			_ = p.journal.Done(k)
		}
	}
}

// releaseHeld routes held records once they can be decided (the feed is
// known complete up to their time, a patient covers them, or their wait
// ends), until ctx ends. Records still held then stay on disk and are held
// again at the next start.
func (p *pipeline) releaseHeld(ctx context.Context, beds int) {
	settlers := startSettlers(max(1, beds))
	defer settlers.stop()
	for {
		// On a full disk held readings wait on disk: stored now they
		// would be refused, and lost.
		p.settleAll(ctx, settlers, p.releasable())
		wait := time.Minute
		now := p.now()
		if next, ok := p.held.Next(now); ok {
			// Held readings become decidable as the watermark passes
			// their time: look again then.
			wait = lookAfter(next.Sub(now))
		}
		if from, ok, due := p.rechecks.take(p.now()); ok {
			if err := p.correctFiled(ctx, from); err != nil {
				p.rechecks.request(from, time.Time{})
				wait = time.Second
				p.log.Error("a correction could not be stored; tried again", "reason", "correction", "err", err)
			}
		} else if due > 0 {
			wait = min(wait, due)
		}
		select {
		case <-ctx.Done():
			if n := p.held.Len(); n > 0 {
				p.log.Info("stopping with readings held; they are on disk and held again at the next start", "held", n)
			}
			return
		case <-p.wake:
		case <-p.held.NotEmpty():
		case <-time.After(wait):
		}
	}
}

// The held-records loop looks again when the earliest held reading may be
// decided (assoc.Held.Next), and coalesce later, so that readings held
// together (a ward's monitors read in the same instant) are released
// together; but not sooner than minLook after its last look, since each
// look decides every held reading again (16,000 at 64 beds × 50 Hz), nor
// later than maxLook: a reading held since, from a device whose clock is
// behind the others', may be decidable sooner. At 64 beds × 1 Hz it looks
// about once a second rather than five times.
const (
	coalesce = 50 * time.Millisecond
	minLook  = 200 * time.Millisecond
	maxLook  = time.Second
)

// lookAfter is how long the held-records loop waits when the earliest held
// reading may be decided in untilNext (negative: already).
func lookAfter(untilNext time.Duration) time.Duration {
	return min(max(untilNext+coalesce, minLook), maxLook)
}

// releasable returns the held records whose decision is due, none while
// the outbox has no room for them.
func (p *pipeline) releasable() []assoc.Released {
	if !p.outbox.HasRoom(heldRoom) {
		return nil
	}
	return p.held.Release(p.now())
}

// settleAll carries out released records' decisions: each bed's in the
// order they were held, the beds in parallel on the settlers, so that their
// encoding runs on as many goroutines and their appends share the outbox's
// syncs (one goroutine storing a 64-bed ward's readings one sync at a time
// falls behind at 50 Hz). A bed's records that could not be stored are held
// again, in order, and decided again at the next look.
func (p *pipeline) settleAll(ctx context.Context, settlers settlers, released []assoc.Released) {
	byBed := map[string][]assoc.Released{}
	var beds []string
	for _, rel := range released {
		if _, ok := byBed[rel.Bed]; !ok {
			beds = append(beds, rel.Bed)
		}
		byBed[rel.Bed] = append(byBed[rel.Bed], rel)
	}
	var mu sync.Mutex
	var unsettled []assoc.Released
	var wg sync.WaitGroup
	for _, bed := range beds {
		rels := byBed[bed]
		wg.Add(1)
		settlers <- func() {
			defer wg.Done()
			for i, rel := range rels {
				if err := p.settle(ctx, rel); err != nil {
					p.log.Error("a held reading could not be stored; it stays held", "bed", bed, "reason", "store-held", "err", err)
					mu.Lock()
					unsettled = append(unsettled, rels[i:]...)
					mu.Unlock()
					return
				}
			}
		}
	}
	wg.Wait()
	for _, rel := range slices.Backward(unsettled) {
		p.held.Return(rel) // each to the front: in order again
	}
}

// settlers run the work sent to them on a fixed set of goroutines (one per
// bed: every bed released at one look is settled at once), which keep the
// stacks they grew: a goroutine started for each bed at every look (five a
// second) spent measurable CPU growing its stack through the encoder
// (BenchmarkWard, 64 beds × 1 Hz).
type settlers chan func()

func startSettlers(n int) settlers {
	s := make(settlers)
	for range n {
		go func() {
			for f := range s {
				f()
			}
		}()
	}
	return s
}

// stop ends the settlers once the work sent to them is done.
func (s settlers) stop() { close(s) }

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

// wakeHeld asks the held-records loop to look again.
func (p *pipeline) wakeHeld() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close releases what the pipeline holds open.
func (p *pipeline) close() error {
	return errors.Join(p.heldFile.Close(), p.journal.Close())
}

// encoder encodes every kind of record: observations and NEWS2 scores in
// the configured format, quarantined values as a JSON document.
type encoder struct {
	format record.Encoder
}

func (e encoder) ContentType() string { return e.format.ContentType() }

func (e encoder) Encode(r record.Record, seq uint64) ([]byte, error) {
	if r.Kind == record.KindRejected {
		return json.Marshal(QuarantineMessage{
			Seq: seq, Gateway: r.Gateway, Site: r.Site, Ward: r.Ward, Bed: r.Bed,
			Device: r.Device, DeviceTime: r.DeviceTime, ReceivedAt: r.ReceivedAt, Rejected: r.Rejected,
		})
	}
	return e.format.Encode(r, seq)
}

// QuarantineMessage is published on a bed's quarantine topic: the values
// of one reading that were not forwarded, each with its reason.
type QuarantineMessage struct {
	Seq        uint64            `json:"seq"`
	Gateway    string            `json:"gateway"`
	Site       string            `json:"site"`
	Ward       string            `json:"ward"`
	Bed        string            `json:"bed"`
	Device     drivers.DeviceID  `json:"device"`
	DeviceTime time.Time         `json:"device_time"`
	ReceivedAt time.Time         `json:"received_at"`
	Rejected   []record.Rejected `json:"rejected"`
}
