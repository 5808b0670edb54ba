package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/config"
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

	outbox   *buffer.Buffer
	enc      record.Encoder
	register *assoc.Register
	decider  assoc.Decider
	held     *assoc.Held
	counts   *validate.Counts
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
	// readings released, NEWS2 scores) and that could not be stored: never
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
func newPipeline(cfg *config.Config, outbox *buffer.Buffer, now func() time.Time, log *slog.Logger) (*pipeline, error) {
	format, err := NewEncoder(cfg.Gateway.Format)
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
	pipe := &pipeline{
		rules:          rules,
		maxClockOffset: cfg.Validation.MaxClockOffset,
		outbox:         outbox,
		enc:            encoder{format: format},
		register:       register,
		decider:        decider,
		held:           assoc.NewHeld(decider, assoc.DefaultMaxHeld),
		counts:         &validate.Counts{},
		now:            now,
		log:            log,
		wake:           make(chan struct{}, 1),
		scored:         make(chan record.Record, 64),
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
		if pipe.scores, err = tracker.New(tracker.Options{Scale2: scale2}); err != nil {
			return nil, fmt.Errorf("gateway: NEWS2: %w", err)
		}
	}
	return pipe, nil
}

// forBed returns a bed's view of the pipeline, with its own validation
// state; period is its device's reading period.
func (p *pipeline) forBed(bed Bed, period time.Duration) (*bedPipeline, error) {
	checker, err := validate.NewChecker(validate.Options{Rules: &p.rules, Cycle: period, MaxClockOffset: p.maxClockOffset, Counts: p.counts})
	if err != nil {
		return nil, fmt.Errorf("gateway: bed %s: %w", bed.Name, err)
	}
	return &bedPipeline{p: p, bed: bed, checker: checker}, nil
}

// bedPipeline is one bed's view of the pipeline: its validation state.
type bedPipeline struct {
	p       *pipeline
	bed     Bed
	checker *validate.Checker
}

// accept runs one reading through the pipeline. It returns an error only
// when the outbox refuses a record: the reading must then not count as
// accepted.
func (b *bedPipeline) accept(ctx context.Context, r drivers.Reading) error {
	rec := b.bed.Observe(r)
	accepted, rejected := b.checker.Check(rec)
	if len(rejected) > 0 {
		if err := b.p.quarantine(ctx, accepted, rejected); err != nil {
			return err
		}
	}
	if len(accepted.Observations) == 0 {
		return nil
	}
	if err := accepted.Check(); err != nil {
		// A record the encoders would refuse is quarantined whole, with
		// the reason, rather than failing the device's session on every
		// reading.
		b.p.log.Error("a reading breaks the record contract; quarantined", "bed", b.bed.Name, "reason", "unencodable", "err", err)
		all := make([]validate.Rejection, len(accepted.Observations))
		for i, o := range accepted.Observations {
			all[i] = validate.Rejection{Observation: o, Reason: "unencodable", Text: err.Error()}
		}
		return b.p.quarantine(ctx, accepted, all)
	}
	return b.p.route(ctx, accepted, b.p.decider.Decide(accepted, b.p.now()))
}

// route applies an association decision to a record. The record names its
// own bed: a held record may be routed while another bed's reading is.
func (p *pipeline) route(ctx context.Context, rec record.Record, d assoc.Decision) error {
	switch d.Action {
	case assoc.Forward:
		rec.Patient = d.Patient
		return p.forward(ctx, rec)
	case assoc.ForwardUnassociated:
		rec.Patient, rec.Unassociated, rec.AssocReason = nil, true, d.Reason
		return p.forward(ctx, rec)
	case assoc.Hold:
		if out, pushed := p.held.Add(rec, p.now()); pushed {
			// The held queue was full: the oldest record leaves it now.
			return p.route(ctx, out.Record, out.Decision)
		}
		return nil
	case assoc.Quarantine:
		rejected := make([]validate.Rejection, len(rec.Observations))
		for i, o := range rec.Observations {
			rejected[i] = validate.Rejection{Observation: o, Reason: "no-patient", Text: d.Reason}
		}
		return p.quarantine(ctx, rec, rejected)
	default:
		return fmt.Errorf("gateway: unknown association action %v", d.Action)
	}
}

// quarantine stores the rejected values as one record for the bed's
// quarantine topic.
func (p *pipeline) quarantine(ctx context.Context, header record.Record, rejected []validate.Rejection) error {
	q := header
	q.Kind = record.KindRejected
	q.Topic = Bed{Site: header.Site, Ward: header.Ward, Name: header.Bed}.RejectedTopic()
	q.Patient, q.Observations, q.Unmeasured = nil, nil, nil
	q.Rejected = make([]record.Rejected, len(rejected))
	for i, r := range rejected {
		q.Rejected[i] = record.Rejected{Observation: r.Observation, Reason: string(r.Reason), Text: r.Text}
	}
	// One line per reading would flood: the logger rate-limits this line
	// per bed and reason (internal/ratelog); the counts are on the status
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
			if err := p.store(ctx, score); err != nil {
				p.lost.Add(1)
				p.log.Error("a NEWS2 score could not be stored", "bed", score.Bed, "err", err)
			}
		}
	}
}

// store encodes a record, with the outbox sequence number it is stored
// under, and appends the message to the outbox: durable when it returns.
func (p *pipeline) store(ctx context.Context, rec record.Record) error {
	_, err := p.outbox.AppendFunc(ctx, func(seq buffer.Seq) ([]byte, error) {
		body, err := p.enc.Encode(rec, uint64(seq))
		if err != nil {
			return nil, fmt.Errorf("encode record: %w", err)
		}
		return publish.Envelope(rec.Topic, body), nil
	})
	if err != nil {
		return fmt.Errorf("store record: %w", err)
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
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// releaseHeld routes held records once an admission covers them or their
// hold expires, until ctx ends. Records still held then are lost with the
// process: the hold policy trades that for never filing against no one.
func (p *pipeline) releaseHeld(ctx context.Context) {
	for {
		for _, rel := range p.held.Release(p.now()) {
			if err := p.route(ctx, rel.Record, rel.Decision); err != nil {
				p.lost.Add(1)
				p.log.Error("a held reading could not be stored", "bed", rel.Record.Bed, "err", err)
			}
		}
		wait := time.Minute
		if next, ok := p.held.Next(); ok {
			wait = max(next.Sub(p.now()), 10*time.Millisecond)
		}
		select {
		case <-ctx.Done():
			if n := p.held.Len(); n > 0 {
				p.log.Warn("stopping with readings held for an association; they are not stored", "held", n)
			}
			return
		case <-p.wake:
		case <-time.After(wait):
		}
	}
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
