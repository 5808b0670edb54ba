package gateway

import (
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/mllp"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/stats"
	"github.com/bedgate/bedgate/gateway/validate"
)

// Gateway is a running gateway, handed to Options.OnStart: what the status
// page, the metrics and the service manager read.
type Gateway struct {
	board    *board
	httpAddr string
}

// Stats returns a snapshot of the gateway: the same one its status topics
// are built from. Safe for concurrent use.
func (g *Gateway) Stats() stats.Snapshot { return g.board.snapshot() }

// HTTPAddr is the address the status server listens on (with the port it
// got for a ":0" listen address), or "" when http.listen is not set.
func (g *Gateway) HTTPAddr() string { return g.httpAddr }

// board gathers what a snapshot reports: the outbox, the publisher, the
// pipeline's tallies and one tracker per bed.
type board struct {
	gateway, site, ward, version string
	started                      time.Time
	now                          func() time.Time

	outbox   *buffer.Buffer
	maxBytes int64
	maxAge   time.Duration
	closed   atomic.Bool // the outbox is closed
	pub      atomic.Pointer[publish.Publisher]
	mllp     atomic.Pointer[mllp.Listener] // nil without mllp.listen
	pipe     *pipeline
	beds     []*bedTracker
}

func (b *board) snapshot() stats.Snapshot {
	now := b.now()
	s := stats.Snapshot{
		Gateway: b.gateway, Site: b.site, Ward: b.ward, Version: b.version,
		Time: now.UTC(), Started: b.started.UTC(), Clock: clockSync(),
	}
	o := b.outbox.Stats()
	s.Outbox = stats.Outbox{
		Open: !b.closed.Load(), Entries: o.Entries, Bytes: o.Bytes, MaxBytes: b.maxBytes,
		OldestAge: stats.Duration(o.OldestAge), MaxAge: stats.Duration(b.maxAge), InFlight: o.InFlight,
		Dropped: o.Dropped, Quarantined: o.Quarantined, RecoveredFrom: o.RecoveredFrom,
		Incarnation: o.Incarnation, NextSeq: uint64(o.NextSeq),
		DiskFree: o.DiskFree, DiskReserve: o.DiskReserve, LimitBytes: o.LimitBytes,
	}
	if sv := o.Salvage; sv.From != "" {
		s.Outbox.Salvage = &stats.Salvage{Recovered: sv.Recovered, Unreadable: sv.Unreadable, Missing: sv.Missing}
	}
	if pub := b.pub.Load(); pub != nil {
		p := pub.Stats()
		s.Link = stats.Link{
			Connected: p.Connected, Broker: p.Broker, LastAck: p.LastAck,
			Connects: p.Connects, Reconnects: max(p.Connects-1, 0), ConnectFailures: p.ConnectFailures,
			LastError: p.LastError, Published: p.Published, Acked: p.Acked, Resent: p.Resent,
		}
	}
	t := &b.pipe.tally
	s.Readings = stats.Readings{
		Stored:      t.storedByKind(),
		Quarantined: t.quarantinedByReason(""),
		Flagged:     byReason(b.pipe.counts.Flagged()),
		Repeats:     b.pipe.counts.Repeats(),
		Held:        b.pipe.held.Len(),
		Corrections: b.pipe.corrections.Load(),
		Lost:        b.pipe.lost.Load(),
		NotCharted:  t.notChartedIn(""),
	}
	s.SubscriptionError = b.pipe.subscriptionError()
	if l := b.mllp.Load(); l != nil {
		m := l.Stats()
		s.MLLP = &stats.MLLP{Connections: m.Connections, Refused: m.Refused, Messages: m.Messages,
			AA: m.AA, AE: m.AE, AR: m.AR, Duplicates: m.Duplicates, Unanswered: m.Unanswered}
	}
	s.Beds = make([]stats.Bed, len(b.beds))
	for i, bt := range b.beds {
		bed := bt.snapshot()
		bed.Quarantined = t.quarantinedByReason(bed.Name)
		bed.NotCharted = t.notChartedIn(bed.Name)
		_, bed.Admitted = b.pipe.register.PatientAt(bed.Name, now)
		s.Readings.Read += bed.Readings
		s.Beds[i] = bed
	}
	return s
}

func byReason(m map[validate.Reason]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

// tally counts the records the pipeline stores, by kind, and the values it
// quarantines, by bed and reason. The zero value is ready.
type tally struct {
	mu          sync.Mutex
	stored      map[string]int64
	quarantined map[string]map[string]uint64 // bed → reason → values
	notCharted  map[string]int64             // bed → readings
}

// addNotCharted counts a reading of bed its charting cadence left out.
func (t *tally) addNotCharted(bed string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.notCharted == nil {
		t.notCharted = map[string]int64{}
	}
	t.notCharted[bed]++
}

// notChartedIn counts one bed's readings left out by its cadence, or
// every bed's for "".
func (t *tally) notChartedIn(bed string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if bed != "" {
		return t.notCharted[bed]
	}
	var n int64
	for _, c := range t.notCharted {
		n += c
	}
	return n
}

// addStored counts a stored record of kind (a record.Kind*: "" counts
// as "obs").
func (t *tally) addStored(kind string) {
	if kind == record.KindObservations {
		kind = "obs"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stored == nil {
		t.stored = map[string]int64{}
	}
	t.stored[kind]++
}

func (t *tally) addQuarantined(bed string, rejected []validate.Rejection) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.quarantined == nil {
		t.quarantined = map[string]map[string]uint64{}
	}
	m := t.quarantined[bed]
	if m == nil {
		m = map[string]uint64{}
		t.quarantined[bed] = m
	}
	for _, r := range rejected {
		m[string(r.Reason)]++
	}
}

func (t *tally) storedByKind() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int64{"obs": 0, "news2": 0, "rejected": 0, kindCorrection: 0}
	maps.Copy(out, t.stored)
	return out
}

// quarantineReasons are the reasons a value is quarantined for, each
// counted from zero so that every count exists before its first value.
var quarantineReasons = []validate.Reason{
	validate.ReasonImplausibleLow, validate.ReasonImplausibleHigh, validate.ReasonNotFinite, validate.ReasonUnit,
	validate.ReasonStale, validate.ReasonDuplicate, validate.ReasonInconsistent, "no-patient", "unencodable",
}

// quarantinedByReason counts one bed's quarantined values, or every bed's
// for "".
func (t *tally) quarantinedByReason(bed string) map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]uint64, len(quarantineReasons))
	for _, r := range quarantineReasons {
		out[string(r)] = 0
	}
	for name, m := range t.quarantined {
		if bed != "" && name != bed {
			continue
		}
		for reason, n := range m {
			out[reason] += n
		}
	}
	return out
}

// bedTracker is one bed's part of the snapshot: the state of its device
// link, its latest key vitals and their trend. Safe for concurrent use.
type bedTracker struct {
	mu      sync.Mutex
	bed     stats.Bed // without Vitals, Trend, Quarantined, Admitted
	session drivers.Session
	ended   drivers.Stats // the bed's sessions before session, summed
	vitals  map[string]stats.Vital
	trend   [stats.TrendPoints]stats.TrendPoint
	points  int // points in trend, at most TrendPoints
	next    int // where the next point goes
}

func newBedTracker(name, driver, port string, now time.Time) *bedTracker {
	return &bedTracker{
		bed:    stats.Bed{Name: name, Driver: driver, Port: port, State: stats.Opening, Since: now.UTC()},
		vitals: map[string]stats.Vital{},
	}
}

// setState records the device link's state; it reports whether the state
// or its reason changed (the retry delay alone is no change).
func (t *bedTracker) setState(state stats.DeviceState, reason string, retryIn time.Duration, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bed.RetryIn = stats.Duration(retryIn)
	if state == t.bed.State && reason == t.bed.Reason {
		return false
	}
	t.bed.State, t.bed.Reason, t.bed.Since = state, reason, now.UTC()
	return true
}

// openFailed records a failed attempt to open the port.
func (t *bedTracker) openFailed(err error, retryIn time.Duration, now time.Time) bool {
	state := stats.PortError
	if errors.Is(err, serialport.ErrNoDevice) {
		state = stats.PortMissing
	}
	return t.setState(state, plainReason(err), retryIn, now)
}

// opened records the node a port resolved to.
func (t *bedTracker) opened(node string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bed.Node = node
}

// startSession records the bed's new driver session. The snapshot shows
// the counters of every session of the bed summed: a silent device's
// session ends once per silence limit, and its bad lines would otherwise
// vanish from the status page with it.
func (t *bedTracker) startSession(s drivers.Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.session != nil {
		t.ended = addStats(t.ended, t.session.Stats())
	}
	t.session = s
}

// addStats sums two sessions' counters; the later one's last error wins
// when it has one.
func addStats(earlier, later drivers.Stats) drivers.Stats {
	sum := drivers.Stats{
		Readings:  earlier.Readings + later.Readings,
		Frames:    earlier.Frames + later.Frames,
		Bad:       earlier.Bad + later.Bad,
		Skipped:   earlier.Skipped + later.Skipped,
		LastError: later.LastError,
	}
	if sum.LastError == "" {
		sum.LastError = earlier.LastError
	}
	return sum
}

// reading records a reading the driver delivered: its device, arrival
// time, clock offset and key vitals. It reports whether the device differs
// from the previous reading's.
func (t *bedTracker) reading(r drivers.Reading) (newDevice bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	newDevice = r.Device != t.bed.Device
	t.bed.Device = r.Device
	t.bed.Readings++
	t.bed.LastReading = r.ReceivedAt.UTC()
	t.bed.ClockOffset = 0
	if !r.DeviceTime.IsZero() {
		t.bed.ClockOffset = stats.Duration(r.DeviceTime.Sub(r.ReceivedAt))
	}
	ranks := map[string]int{}
	for _, v := range r.Values {
		key, label, rank, ok := stats.KeyVital(v.MDC)
		if !ok {
			continue
		}
		if best, seen := ranks[key]; seen && best <= rank {
			continue
		}
		ranks[key] = rank
		sv := stats.Vital{Key: key, Label: label, Unit: v.Unit, At: r.ReceivedAt.UTC()}
		if v.Value != nil {
			x := *v.Value
			sv.Value = &x
		}
		if v.Status != 0 {
			sv.Status = v.Status.String()
		}
		t.vitals[key] = sv
	}
	t.addTrendPoint(r.ReceivedAt)
	return newDevice
}

// addTrendPoint appends the latest valid SpO2, pulse and respiration rate
// to the trend, at most one point per stats.TrendStep.
func (t *bedTracker) addTrendPoint(at time.Time) {
	if t.points > 0 {
		last := t.trend[(t.next+stats.TrendPoints-1)%stats.TrendPoints]
		if at.Sub(last.Time) < stats.TrendStep {
			return
		}
	}
	valid := func(key string) *float64 {
		v, ok := t.vitals[key]
		if !ok || v.Value == nil || v.Status != "" || at.Sub(v.At) > stats.TrendStep {
			return nil
		}
		x := *v.Value
		return &x
	}
	p := stats.TrendPoint{Time: at.UTC(), SpO2: valid(stats.KeySpO2), Pulse: valid(stats.KeyPulse), Resp: valid(stats.KeyRespImpeda)}
	if p.Pulse == nil {
		p.Pulse = valid(stats.KeyHeartRate)
	}
	if p.Resp == nil {
		p.Resp = valid(stats.KeyRespAirway)
	}
	t.trend[t.next] = p
	t.next = (t.next + 1) % stats.TrendPoints
	t.points = min(t.points+1, stats.TrendPoints)
}

func (t *bedTracker) snapshot() stats.Bed {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.bed
	b.DriverStats = t.ended
	if t.session != nil {
		b.DriverStats = addStats(t.ended, t.session.Stats())
	}
	for _, k := range vitalOrder {
		if v, ok := t.vitals[k]; ok {
			b.Vitals = append(b.Vitals, v)
		}
	}
	b.Trend = make([]stats.TrendPoint, 0, t.points)
	for i := range t.points {
		b.Trend = append(b.Trend, t.trend[(t.next-t.points+i+stats.TrendPoints)%stats.TrendPoints])
	}
	return b
}

// vitalOrder is the order of a bed's key vitals.
var vitalOrder = []string{
	stats.KeySpO2, stats.KeyPulse, stats.KeyHeartRate, stats.KeyRespImpeda, stats.KeyRespAirway,
	stats.KeySystolic, stats.KeyDiastolic, stats.KeyTemperature, stats.KeyPerfusionIdx,
}

// plainReason is an error as a biomed engineer reads it: without the Go
// package prefixes of the errors it wraps.
func plainReason(err error) string {
	s := err.Error()
	for _, prefix := range []string{"serialport: ", "drivers: "} {
		s = strings.ReplaceAll(s, prefix, "")
	}
	return s
}
