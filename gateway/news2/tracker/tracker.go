package tracker

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/record"
)

// DefaultMinInterval is the Options.MinInterval used when it is zero.
const DefaultMinInterval = time.Minute

// DefaultNurseFor is the Options.NurseFor used when it is zero: a nurse
// entry is used for 15 minutes after the assessment, the default NEWS2
// input window, so a score never pairs an assessment with monitor values
// taken longer after it than the window allows between any two inputs.
const DefaultNurseFor = 15 * time.Minute

// maxEntries bounds the nurse entries kept per bed (newest kept).
const maxEntries = 8

// MaxEntryAhead is how far a nurse entry's time may be ahead of the time it
// was received: an entry from a clock further ahead would make every device
// input look stale, so it is ignored.
const MaxEntryAhead = 5 * time.Minute

// ErrOptions is returned by New for invalid options.
var ErrOptions = errors.New("tracker: invalid options")

// Bed names a bed: its site, ward and configured name, as in records and
// topics.
type Bed struct {
	Site, Ward, Name string
}

// BedOf returns the bed of a record.
func BedOf(r record.Record) Bed { return Bed{Site: r.Site, Ward: r.Ward, Name: r.Bed} }

// String returns "<site>/<ward>/<bed>".
func (b Bed) String() string { return b.Site + "/" + b.Ward + "/" + b.Name }

// Options configure a Tracker. The zero value is valid.
type Options struct {
	// Window is the news2.Options.Window of every score: the longest time
	// an input may precede the newest. Zero means news2.DefaultWindow.
	Window time.Duration
	// Windows are the news2.Options.Windows of every score: per input, the
	// longest time it may precede the newest, so that an old blood
	// pressure is not current. The zero value means news2.DefaultWindows()
	// (1 h for systolic pressure and temperature, Window for the others).
	Windows news2.Windows
	// MinInterval is the shortest time between two scores of one bed, on
	// the receive clock of the inputs that trigger them. Zero means
	// DefaultMinInterval.
	MinInterval time.Duration
	// Scale2 lists the beds whose patients are scored on SpO2 Scale 2.
	Scale2 []Bed
	// NurseFor is how long a nurse entry is used after its assessment
	// time, on the gateway's clock. Zero means DefaultNurseFor.
	NurseFor time.Duration
	// Stays answers which stay of which patient a bed was in at a time
	// (*assoc.Register implements it). When set, a nurse entry is used
	// only within the stay it was made in: a patient discharged and
	// admitted again does not get the entry of the earlier stay. When nil,
	// entries are matched by patient only.
	Stays Stays
	// Beds are the configured beds. When set, nurse entries and records of
	// other beds change nothing and create no state (a flood of entries
	// for beds that do not exist cannot grow the tracker). Empty accepts
	// any bed.
	Beds []Bed
}

// Stays answers who was in a bed at t, and since when (zero for a static
// assignment); ok is false when nobody was.
type Stays interface {
	StayAt(bed string, t time.Time) (p record.Patient, since time.Time, ok bool)
}

// slot is one NEWS2 input of a bed.
type slot int

const (
	slotResp slot = iota
	slotSpO2
	slotAir
	slotSys
	slotPulse
	slotACVPU
	slotTemp
	numSlots
)

// source is an MDC code a slot reads, with its unit and precedence.
type source struct {
	slot slot
	unit string
	rank int // lower wins a tie in time
}

// slots maps the mdc table's NEWS2 parameters to the tracker's slots.
var slots = map[mdc.NEWS2]slot{
	mdc.NEWS2RespRate:    slotResp,
	mdc.NEWS2SpO2:        slotSpO2,
	mdc.NEWS2Systolic:    slotSys,
	mdc.NEWS2Pulse:       slotPulse,
	mdc.NEWS2Temperature: slotTemp,
}

// sources maps the MDC codes the tracker reads, from the mdc table: each
// vital with a NEWS2 parameter, its codes in precedence order; see the
// package documentation.
var sources = func() map[uint32]source {
	out := map[uint32]source{}
	for _, v := range mdc.Vitals() {
		sl, ok := slots[v.NEWS2]
		if !ok {
			continue
		}
		for rank, code := range v.Codes {
			out[code] = source{sl, v.Unit, rank}
		}
	}
	return out
}()

// input is the current value of one slot.
type input struct {
	value float64 // the number, or the ACVPU or Breathing level
	time  time.Time
	id    string
	rank  int
	panel *record.NEWS2Panel // a systolic read as part of a panel
}

// newer reports whether in should replace cur.
func (in input) newer(cur *input) bool {
	switch {
	case cur == nil || in.time.After(cur.time):
		return true
	case in.time.Equal(cur.time):
		return in.rank < cur.rank
	}
	return false
}

// bedState is what the tracker knows of one bed.
type bedState struct {
	// inputs are the device inputs of the bed's current patient, and the
	// nurse inputs picked for the latest call (see pickNurse).
	inputs [numSlots]*input
	// entries are the bed's latest nurse entries, oldest first, whatever
	// patient they name: they are matched to the patient at each call.
	entries []NurseEntry
	// now is the gateway time of the latest call.
	now  time.Time
	seen bool // an observation record has set the context below
	// Context of the bed's latest observation record.
	gateway, topic string
	patient        *record.Patient
	unassociated   bool
	assocReason    string
	// The bed's last score.
	lastID string
	lastAt time.Time
}

// Tracker keeps the NEWS2 inputs of every bed and produces score records.
// It is safe for concurrent use.
type Tracker struct {
	window      time.Duration
	windows     news2.Windows
	minInterval time.Duration
	nurseFor    time.Duration
	stays       Stays
	ns          uuid.UUID

	known map[Bed]bool // nil: any bed

	mu     sync.Mutex
	beds   map[Bed]*bedState
	scale2 map[Bed]bool
}

// scoreNamespace is the UUIDv5 namespace of score IDs.
const scoreNamespace = "6f1d2c84-9a3e-5b7f-8c21-4e0a9b6d3f57"

// New returns a Tracker, or an error wrapping ErrOptions.
func New(opts Options) (*Tracker, error) {
	if opts.Window < 0 {
		return nil, fmt.Errorf("%w: negative window %v", ErrOptions, opts.Window)
	}
	if opts.MinInterval < 0 {
		return nil, fmt.Errorf("%w: negative minimum interval %v", ErrOptions, opts.MinInterval)
	}
	if opts.NurseFor < 0 {
		return nil, fmt.Errorf("%w: negative nurse entry time %v", ErrOptions, opts.NurseFor)
	}
	if err := opts.Windows.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	t := &Tracker{
		window:      opts.Window,
		windows:     opts.Windows,
		minInterval: opts.MinInterval,
		nurseFor:    cmp.Or(opts.NurseFor, DefaultNurseFor),
		stays:       opts.Stays,
		ns:          uuid.MustParse(scoreNamespace),
		beds:        make(map[Bed]*bedState),
		scale2:      make(map[Bed]bool),
	}
	if t.window == 0 {
		t.window = news2.DefaultWindow
	}
	if t.windows == (news2.Windows{}) {
		t.windows = news2.DefaultWindows()
	}
	if t.minInterval == 0 {
		t.minInterval = DefaultMinInterval
	}
	for _, b := range opts.Scale2 {
		t.scale2[b] = true
	}
	if len(opts.Beds) > 0 {
		t.known = make(map[Bed]bool, len(opts.Beds))
		for _, b := range opts.Beds {
			t.known[b] = true
		}
	}
	return t, nil
}

// SetScale2 marks bed for SpO2 Scale 2 (on) or Scale 1. The next call for
// the bed scores on the new scale, which counts as a new input set.
func (t *Tracker) SetScale2(bed Bed, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if on {
		t.scale2[bed] = true
	} else {
		delete(t.scale2, bed)
	}
}

// Observe takes the NEWS2 inputs of an observation record (see the package
// documentation for which values count) and returns a KindNEWS2 record when
// the bed has a new score to publish. Records of other kinds are ignored.
func (t *Tracker) Observe(rec record.Record) (record.Record, bool) {
	if rec.Kind != record.KindObservations {
		return record.Record{}, false
	}
	bed := BedOf(rec)
	if !t.Known(bed) {
		return record.Record{}, false
	}
	at := rec.DeviceTime
	if at.IsZero() {
		at = rec.ReceivedAt
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(bed)
	if st.seen && patientKey(st.patient) != patientKey(rec.Patient) {
		st.inputs = [numSlots]*input{}
		st.lastID, st.lastAt = "", time.Time{}
	}
	st.seen = true
	st.gateway, st.topic = rec.Gateway, rec.Topic
	st.patient = clonePatient(rec.Patient)
	st.unassociated, st.assocReason = rec.Unassociated, rec.AssocReason

	if !at.IsZero() {
		for _, o := range rec.Observations {
			src, ok := sources[o.MDC]
			if !ok || !usable(o, src.unit) {
				continue
			}
			in := input{value: *o.Value, time: at, id: o.ID, rank: src.rank, panel: panelOf(rec, o)}
			if in.newer(st.inputs[src.slot]) {
				st.inputs[src.slot] = &in
			}
		}
	}
	return t.score(bed, st, rec.ReceivedAt)
}

// panelOf returns the blood pressure o, a systolic pressure, was read in:
// when rec has exactly one systolic and one diastolic of its pressure and
// at most one mean, as gateway/fhir forms a panel Observation of them; else
// nil (the parts are published on their own).
func panelOf(rec record.Record, o record.Observation) *record.NEWS2Panel {
	role, p := mdc.RoleOf(o.MDC)
	if role != mdc.Systolic {
		return nil
	}
	var n [3]int
	dia := ""
	for _, x := range rec.Observations {
		switch x.MDC {
		case p.Systolic:
			n[0]++
		case p.Diastolic:
			n[1]++
			dia = x.ID
		case p.Mean:
			n[2]++
		}
	}
	if n[0] != 1 || n[1] != 1 || n[2] > 1 {
		return nil
	}
	return &record.NEWS2Panel{MDC: p.Code, Diastolic: dia}
}

// Nurse takes a nurse entry for bed, received by the gateway at at, and
// returns a KindNEWS2 record when the bed has a new score to publish. An
// entry that is not valid (NurseEntry.Validate), for a bed not configured,
// or timed more than MaxEntryAhead after at changes nothing. The entry is
// kept with the patient it names, and used only for that patient (see
// pickNurse); a retained entry re-delivered (same id) is kept once.
func (t *Tracker) Nurse(bed Bed, e NurseEntry, at time.Time) (record.Record, bool) {
	if !t.Known(bed) || e.Validate() != nil || e.Time.After(at.Add(MaxEntryAhead)) {
		return record.Record{}, false
	}
	if e.Patient.NHSNumber != "" {
		e.Patient.NHSNumber, _ = assoc.NormalizeNHSNumber(e.Patient.NHSNumber)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(bed)
	if i := slices.IndexFunc(st.entries, func(x NurseEntry) bool { return x.ID == e.ID }); i >= 0 {
		st.entries = slices.Delete(st.entries, i, i+1)
	}
	i, _ := slices.BinarySearchFunc(st.entries, e.Time, func(x NurseEntry, t time.Time) int { return x.Time.Compare(t) })
	st.entries = slices.Insert(st.entries, i, e)
	if n := len(st.entries); n > maxEntries {
		st.entries = slices.Delete(st.entries, 0, n-maxEntries)
	}
	return t.score(bed, st, at)
}

// pickNurse sets the bed's consciousness and air-or-oxygen inputs for a
// call at now: for each, the latest entry that names the bed's current
// patient, was assessed no more than NurseFor before now, and (with Stays)
// in the stay the patient is in at now. Entries of an earlier patient, or
// of an earlier stay of the same patient, are never used.
func (t *Tracker) pickNurse(bed Bed, st *bedState, now time.Time) {
	st.inputs[slotACVPU], st.inputs[slotAir] = nil, nil
	if st.patient == nil {
		return
	}
	var since time.Time
	if t.stays != nil {
		p, s, ok := t.stays.StayAt(bed.Name, now)
		if !ok || !assoc.SamePatient(p, *st.patient) {
			return
		}
		since = s
	}
	for _, e := range st.entries { // oldest first: the latest usable wins
		if !assoc.SamePatient(e.Patient, *st.patient) || now.Sub(e.Time) > t.nurseFor || e.Time.Before(since) {
			continue
		}
		if t.stays != nil {
			if p, s, ok := t.stays.StayAt(bed.Name, e.Time); !ok || !s.Equal(since) || !assoc.SamePatient(p, e.Patient) {
				continue
			}
		}
		if e.ACVPU != 0 {
			st.inputs[slotACVPU] = &input{value: float64(e.ACVPU), time: e.Time, id: e.ID}
		}
		if e.Breathing != 0 {
			st.inputs[slotAir] = &input{value: float64(e.Breathing), time: e.Time, id: e.ID}
		}
	}
}

// Known reports whether bed is one of Options.Beds (every bed when none
// are configured).
func (t *Tracker) Known(bed Bed) bool {
	return t.known == nil || t.known[bed]
}

// Check scores bed's current inputs and returns nil when they form a
// complete set inside the window, or the reason they do not (an error from
// news2.Score, such as an *news2.IncompleteError naming the missing and
// stale parameters). It changes nothing.
func (t *Tracker) Check(bed Bed) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.beds[bed]
	if !ok {
		st = &bedState{}
	}
	t.pickNurse(bed, st, st.now)
	_, err := news2.Score(st.set(), news2.Options{Scale2: t.scale2[bed], Window: t.window, Windows: t.windows})
	return err
}

// Forget drops everything the tracker knows of bed, for example when the
// bed is removed from the configuration.
func (t *Tracker) Forget(bed Bed) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.beds, bed)
}

func (t *Tracker) state(bed Bed) *bedState {
	st, ok := t.beds[bed]
	if !ok {
		st = &bedState{}
		t.beds[bed] = st
	}
	return st
}

// usable reports whether o is a value the tracker scores.
func usable(o record.Observation, unit string) bool {
	return o.Value != nil && !math.IsNaN(*o.Value) && !math.IsInf(*o.Value, 0) &&
		o.Absent == "" && !o.Questionable && o.Status&^drivers.AlarmActive == 0 &&
		o.Unit == unit && o.ID != ""
}

// set returns the news2.Set of the bed's inputs.
func (st *bedState) set() news2.Set {
	num := func(s slot) *news2.Observation[float64] {
		if in := st.inputs[s]; in != nil {
			return &news2.Observation[float64]{Value: in.value, Time: in.time}
		}
		return nil
	}
	var set news2.Set
	set.RespRate, set.SpO2, set.SystolicBP = num(slotResp), num(slotSpO2), num(slotSys)
	set.Pulse, set.Temperature = num(slotPulse), num(slotTemp)
	if in := st.inputs[slotAir]; in != nil {
		set.AirOrOxygen = &news2.Observation[news2.Breathing]{Value: news2.Breathing(in.value), Time: in.time}
	}
	if in := st.inputs[slotACVPU]; in != nil {
		set.Consciousness = &news2.Observation[news2.ACVPU]{Value: news2.ACVPU(in.value), Time: in.time}
	}
	return set
}

// slotOf maps a scored parameter to its slot.
func slotOf(p news2.Parameter) slot {
	switch p {
	case news2.RespRate:
		return slotResp
	case news2.SpO2Scale1, news2.SpO2Scale2:
		return slotSpO2
	case news2.AirOrOxygen:
		return slotAir
	case news2.SystolicBP:
		return slotSys
	case news2.Pulse:
		return slotPulse
	case news2.Consciousness:
		return slotACVPU
	}
	return slotTemp
}

// score returns the bed's new score record, if it has one; at is the
// receive time of the call's input.
func (t *Tracker) score(bed Bed, st *bedState, at time.Time) (record.Record, bool) {
	st.now = at
	if !st.seen {
		return record.Record{}, false
	}
	t.pickNurse(bed, st, at)
	scale2 := t.scale2[bed]
	res, err := news2.Score(st.set(), news2.Options{Scale2: scale2, Window: t.window, Windows: t.windows})
	if err != nil {
		return record.Record{}, false
	}
	id := t.scoreID(st, bed, res.Newest, scale2)
	if id == st.lastID || (!st.lastAt.IsZero() && at.Sub(st.lastAt) < t.minInterval) {
		return record.Record{}, false
	}
	st.lastID, st.lastAt = id, at

	s := &record.NEWS2{
		ID:        id,
		Total:     res.Total,
		Band:      res.Band.String(),
		Scale2:    scale2,
		Effective: res.Newest,
		Advisory:  res.Advisory,
		SubScores: make([]record.NEWS2SubScore, 0, len(res.Items)),
	}
	for _, it := range res.Items {
		in := st.inputs[slotOf(it.Parameter)]
		sub := record.NEWS2SubScore{
			Parameter:    it.Parameter.String(),
			Code:         it.Parameter.ScoreCode(),
			Score:        it.Score,
			Observations: []string{in.id},
			Panel:        in.panel,
			Time:         in.time,
		}
		switch it.Parameter {
		case news2.Consciousness:
			sub.ValueText = news2.ACVPU(in.value).String()
		case news2.AirOrOxygen:
			sub.ValueText = news2.Breathing(in.value).String()
		default:
			v := it.Charted
			sub.Value = &v
		}
		s.SubScores = append(s.SubScores, sub)
	}
	return record.Record{
		Gateway:      st.gateway,
		Site:         bed.Site,
		Ward:         bed.Ward,
		Bed:          bed.Name,
		Topic:        st.topic,
		ReceivedAt:   at,
		Patient:      clonePatient(st.patient),
		Kind:         record.KindNEWS2,
		Unassociated: st.unassociated,
		AssocReason:  st.assocReason,
		NEWS2:        s,
	}, true
}

// scoreID is the UUIDv5 of the gateway, the bed, the effective time, the
// scale and the ids of the inputs in chart order.
func (t *Tracker) scoreID(st *bedState, bed Bed, effective time.Time, scale2 bool) string {
	var b strings.Builder
	b.WriteString(st.gateway)
	for _, s := range []string{bed.Site, bed.Ward, bed.Name, effective.UTC().Format(time.RFC3339Nano)} {
		b.WriteByte(0)
		b.WriteString(s)
	}
	b.WriteByte(0)
	if scale2 {
		b.WriteString("scale2")
	} else {
		b.WriteString("scale1")
	}
	for _, in := range st.inputs {
		b.WriteByte(0)
		b.WriteString(in.id)
	}
	return uuid.NewSHA1(t.ns, []byte(b.String())).String()
}

// patientKey identifies a patient for comparison; "" is no patient.
func patientKey(p *record.Patient) string {
	if p == nil || (p.NHSNumber == "" && p.LocalID == "") {
		return ""
	}
	return "nhs:" + p.NHSNumber + "\x00local:" + p.LocalID
}

// clonePatient copies p; an empty patient is no patient.
func clonePatient(p *record.Patient) *record.Patient {
	if patientKey(p) == "" {
		return nil
	}
	c := *p
	return &c
}
