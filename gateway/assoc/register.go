package assoc

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// Defaults of Options.
const (
	// DefaultHorizon keeps a day more history than the outbox's default
	// maximum age (config.DefaultMaxAge, 7 days), so that any reading the
	// gateway still holds can be associated.
	DefaultHorizon = 8 * 24 * time.Hour
	// DefaultMaxEvents bounds the events kept per bed: at about 150 bytes
	// an event, 1024 events are about 150 KB a bed.
	DefaultMaxEvents = 1024
)

// Options configure a Register. The zero value of each field means its
// default.
type Options struct {
	// Site and Ward are the gateway's; HandleMessage accepts only their
	// topics.
	Site, Ward string
	// Beds are the configured bed names. When set, events and static
	// assignments for other beds are refused with ErrUnknownBed, which
	// also bounds the register's memory. Empty accepts any bed.
	Beds []string
	// Horizon is how long history is kept: events older than the clock
	// minus Horizon are dropped (the event that put the patient still in
	// the bed there is kept). It should exceed the outbox's maximum age.
	// The default is DefaultHorizon.
	Horizon time.Duration
	// MaxEvents bounds the events kept per bed (at least 2): when a new
	// event would exceed it, the oldest are dropped early. A new event is
	// never refused for it. The default is DefaultMaxEvents.
	MaxEvents int
	// Now is the clock. The default is time.Now.
	Now func() time.Time
}

// Register holds the association history of the beds of one gateway: for
// each bed, non-overlapping windows [start, end) during which one patient
// was in the bed, built from the EPR's admission events, and an optional
// static assignment from the configuration.
//
// All methods are safe for concurrent use.
type Register struct {
	opts  Options
	known map[string]bool // nil: any bed

	mu  sync.RWMutex
	tls map[string]*timeline
	seq uint64
}

// NewRegister returns an empty register.
func NewRegister(opts Options) *Register {
	if opts.Horizon <= 0 {
		opts.Horizon = DefaultHorizon
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	opts.MaxEvents = max(opts.MaxEvents, 2)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Register{opts: opts, tls: make(map[string]*timeline)}
	if len(opts.Beds) > 0 {
		r.known = make(map[string]bool, len(opts.Beds))
		for _, b := range opts.Beds {
			r.known[b] = true
		}
	}
	return r
}

func (r *Register) checkBed(bed string) error {
	if bed == "" || (r.known != nil && !r.known[bed]) {
		return fmt.Errorf("%w: %q", ErrUnknownBed, bed)
	}
	return nil
}

// Static assigns p to the bed for sites without an admission feed. The
// static assignment answers PatientAt at every time until the bed's first
// accepted admission event; from then on the feed alone answers for the bed
// (including "nobody"), because it is the more recent source: a
// configuration is not edited when a patient leaves. p's NHS number, if
// any, is Modulus 11 checked and normalised to ten digits.
func (r *Register) Static(bed string, p record.Patient) error {
	if err := r.checkBed(bed); err != nil {
		return err
	}
	p, err := checkPatient(p)
	if err != nil {
		return err
	}
	if p == (record.Patient{}) {
		return fmt.Errorf("%w: static assignment of bed %q", ErrNoPatient, bed)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tl := r.timeline(bed)
	tl.static = &p
	return nil
}

func checkPatient(p record.Patient) (record.Patient, error) {
	if p.NHSNumber != "" {
		n, err := NormalizeNHSNumber(p.NHSNumber)
		if err != nil {
			return p, err
		}
		p.NHSNumber = n
	}
	if p.LocalID != "" {
		if err := checkText(p.LocalID, MaxLocalIDLen); err != nil {
			return p, fmt.Errorf("%w: %s", ErrLocalID, err)
		}
	}
	return p, nil
}

// timeline returns the bed's timeline, creating it. r.mu must be held.
func (r *Register) timeline(bed string) *timeline {
	tl := r.tls[bed]
	if tl == nil {
		tl = &timeline{}
		r.tls[bed] = tl
	}
	return tl
}

// PatientAt returns the patient who was in the bed at t: the patient of the
// window [start, end) containing t (a window includes its start instant and
// excludes its end instant, so at an instant where one patient leaves and
// another arrives the answer is the arriving patient), or the static
// assignment of a bed that never had an admission event. ok is false when
// nobody was in the bed at t, or t is before the kept history.
func (r *Register) PatientAt(bed string, t time.Time) (p record.Patient, ok bool) {
	p, _, ok = r.StayAt(bed, t)
	return p, ok
}

// StayAt is PatientAt with the start of the patient's stay in the bed
// (zero for a static assignment): two times with the same patient and the
// same start are in one stay.
func (r *Register) StayAt(bed string, t time.Time) (p record.Patient, since time.Time, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	tl := r.tls[bed]
	switch {
	case tl == nil:
		return record.Patient{}, time.Time{}, false
	case tl.fed:
		if w, ok := tl.at(t); ok {
			return w.patient, w.start, true
		}
		return record.Patient{}, time.Time{}, false
	case tl.static != nil:
		return *tl.static, time.Time{}, true
	}
	return record.Patient{}, time.Time{}, false
}

// Apply applies one admission event to the bed. The bed's windows are the
// events taken in time order (at one instant closing events first, then by
// arrival):
//
//   - admit or transfer-in of P opens P's window at its time; if another
//     patient is in the bed then, that window is closed at the same
//     instant (implicit discharge); if P is already in the bed, nothing
//     changes;
//   - transfer-out or discharge closes the window open at its time; it is
//     refused with ErrPatientMismatch if it names another patient; with
//     nobody in the bed it changes nothing but is kept (a later, back-dated
//     admit before it is then closed by it);
//   - a patient is in one bed at a time: when P's window in this bed
//     overlaps P's window in another bed of the register, the window that
//     started first is closed when the other starts (windows starting at
//     the same instant are refused with ErrConflict).
//
// Events may arrive out of order (an EPR back-dating a discharge): a late
// event is inserted at its time and the windows recomputed, unless it would
// make a later event inconsistent (ErrConflict). Readings already
// associated are not revisited here (the gateway corrects them). An event
// whose id was already applied is a no-op (retained messages are
// re-delivered on every reconnect); the same id
// with other content is ErrIDReused. An admit older than the kept history is
// ErrBeforeHistory, and so is a closing event older than it while a patient
// was in the bed at its end; with the bed empty there a closing event is a
// no-op. An event stamped ahead of the gateway's clock (a clock that is
// slow) takes effect at its time: readings until then are not its
// patient's. History is pruned by time and count (Options), never by
// refusing the new event. On error the register is unchanged.
func (r *Register) Apply(bed string, a Admission) error {
	if err := r.checkBed(bed); err != nil {
		return err
	}
	if err := checkAdmission(&a); err != nil {
		return fmt.Errorf("%w (bed %s)", err, bed)
	}
	now := r.opts.Now()

	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.tls[bed]
	if cur == nil {
		cur = &timeline{}
	}
	e := event{kind: a.Event, patient: a.Patient, at: a.Time, id: a.ID, seq: r.seq + 1}
	if old, ok := cur.findID(a.ID); ok {
		if sameEvent(old, e) {
			return nil
		}
		return fmt.Errorf("%w: bed %s, id %q", ErrIDReused, bed, clip(a.ID))
	}
	if slices.Contains(cur.dropped, a.ID) {
		return nil
	}
	if !cur.floor.IsZero() {
		closesBefore := !e.kind.Opens() && !e.at.After(cur.floor)
		switch {
		case closesBefore && !cur.floorOccupied:
			return nil
		case closesBefore, e.kind.Opens() && e.at.Before(cur.floor):
			return fmt.Errorf("%w: bed %s", ErrBeforeHistory, bed)
		}
	}
	next := *cur
	next.events = insert(cur.events, e)
	ws, bad := fold(next.events)
	if bad >= 0 {
		if next.events[bad].seq == e.seq {
			return fmt.Errorf("%w: bed %s, %s at %s", ErrPatientMismatch, bed, e.kind, e.at.Format(time.RFC3339))
		}
		return fmt.Errorf("%w: bed %s, %s at %s", ErrConflict, bed, e.kind, e.at.Format(time.RFC3339))
	}
	next.windows, next.fed = ws, true
	r.seq++

	changed := map[string]*timeline{bed: &next}
	if e.kind.Opens() {
		if err := r.separate(changed, bed, e.patient); err != nil {
			return err
		}
	}
	cutoff := now.Add(-r.opts.Horizon)
	for name, tl := range changed {
		tl.prune(cutoff, r.opts.MaxEvents)
		r.tls[name] = tl
	}
	return nil
}

// separate closes overlapping windows of patient p in bed and any other bed
// by implied transfer-out events, working on copies in changed. r.mu must
// be held.
func (r *Register) separate(changed map[string]*timeline, bed string, p record.Patient) error {
	others := make([]string, 0, len(r.tls))
	for name, tl := range r.tls {
		if name != bed && tl.fed {
			others = append(others, name)
		}
	}
	sort.Strings(others)
	get := func(name string) *timeline {
		if tl, ok := changed[name]; ok {
			return tl
		}
		c := *r.tls[name]
		changed[name] = &c
		return &c
	}
	x := changed[bed]
	for _, name := range others {
		y := get(name)
		// Each pass closes one overlap; a window pair overlaps at most once.
		for pass := 0; pass <= len(x.windows)+len(y.windows); pass++ {
			wx, wy, ok := overlap(x.windows, y.windows, p)
			if !ok {
				break
			}
			switch {
			case wx.start.Equal(wy.start):
				return fmt.Errorf("%w: bed %s: patient admitted to bed %s at the same instant", ErrConflict, bed, name)
			case wy.start.Before(wx.start):
				r.imply(y, wy.patient, wx.start)
			default:
				r.imply(x, wx.patient, wy.start)
			}
		}
	}
	return nil
}

// overlap finds overlapping windows of p in xs and ys.
func overlap(xs, ys []window, p record.Patient) (window, window, bool) {
	for _, wx := range xs {
		if !SamePatient(wx.patient, p) {
			continue
		}
		for _, wy := range ys {
			if SamePatient(wy.patient, p) && wx.overlaps(wy) {
				return wx, wy, true
			}
		}
	}
	return window{}, window{}, false
}

// imply closes p's window in tl at t by an implied transfer-out. Closing a
// window of p at a time inside it never makes a later event inconsistent.
func (r *Register) imply(tl *timeline, p record.Patient, t time.Time) {
	r.seq++
	events := insert(tl.events, event{kind: TransferOut, patient: p, at: t, seq: r.seq})
	ws, bad := fold(events)
	if bad >= 0 {
		return
	}
	tl.events, tl.windows = events, ws
}

// checkAdmission checks an Admission built by the caller rather than by
// ParseAdmission, and normalises it.
func checkAdmission(a *Admission) error {
	if !a.Event.valid() {
		return fmt.Errorf("%w: %q", ErrEvent, clip(string(a.Event)))
	}
	p, err := checkPatient(a.Patient)
	if err != nil {
		return err
	}
	a.Patient = p
	if a.Event.Opens() && p == (record.Patient{}) {
		return fmt.Errorf("%w: %s needs an NHS number or local id", ErrNoPatient, a.Event)
	}
	if a.Time.IsZero() {
		return fmt.Errorf("%w: time is missing", ErrTime)
	}
	a.Time = a.Time.UTC()
	if a.ID == "" {
		return fmt.Errorf("%w: id is missing", ErrID)
	}
	if err := checkText(a.ID, MaxIDLen); err != nil {
		return fmt.Errorf("%w: %s", ErrID, err)
	}
	return nil
}

// HandleMessage is the MQTT handler for AdmissionFilter(site, ward): it takes
// the bed from the topic, parses the payload and applies it. An empty
// payload (a retained message being cleared) is ignored. Errors wrap
// ErrTopic, a ParseAdmission error or an Apply error, and carry no patient
// identifier.
func (r *Register) HandleMessage(topic string, payload []byte) error {
	site, ward, bed, err := ParseAdmissionTopic(topic)
	if err != nil {
		return err
	}
	if site != r.opts.Site || ward != r.opts.Ward {
		return fmt.Errorf("%w: %q", ErrTopic, topic)
	}
	if len(payload) == 0 {
		return nil
	}
	a, err := ParseAdmission(payload)
	if err != nil {
		return fmt.Errorf("%w (bed %s)", err, bed)
	}
	return r.Apply(bed, a)
}
