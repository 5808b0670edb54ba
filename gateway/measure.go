package gateway

import (
	"math"
	"slices"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/record"
)

// measurements splits the episodic values off one device's readings, so
// that each measurement becomes a record of its own, at the time it was
// taken (record.Record.Episodic), which validation forwards once and
// counts as a repeat after (validate.ReasonRepeat). A value is episodic
// when the device stamped it with its own time (drivers.Value.MeasuredAt)
// or its code is one the driver lists as episodic (drivers.Driver.Episodic).
// Not safe for concurrent use: one per bed, used from the bed's goroutine.
type measurements struct {
	episodic map[uint32]bool
	// unstamped remembers, per code, the last episodic value the device
	// sent without a time stamp and the time it was first reported.
	unstamped map[string]sighting
}

// sighting is an episodic value without a device time stamp and when it
// was first reported.
type sighting struct {
	value drivers.Value
	at    time.Time
}

func newMeasurements(episodic []uint32) *measurements {
	m := &measurements{episodic: map[uint32]bool{}, unstamped: map[string]sighting{}}
	for _, code := range episodic {
		m.episodic[code] = true
	}
	return m
}

// records observes r at bed: the record of its continuous values (none
// when it has none) and one record per measurement time of its episodic
// values, at that time. A value the device stamped is at its MeasuredAt.
// An episodic value without one is at the time the same value (number,
// unit, status) was first reported, so a monitor repeating its last
// measurement repeats one record; a new value is a new measurement at the
// time of its reading, and so are the other parts of its blood pressure
// (freshPanels). (Without a stamp a new measurement equal to the
// previous cannot be told from it: it is taken as a repeat, never as a new
// value.)
func (m *measurements) records(bed Bed, r drivers.Reading) []record.Record {
	reported := r.DeviceTime
	if reported.IsZero() {
		reported = r.ReceivedAt
	}
	continuous := r
	continuous.Values = nil
	var times []time.Time // each measurement's, in the device's zone
	byTime := map[int64][]drivers.Value{}
	fresh := m.freshPanels(r.Values)
	for _, v := range r.Values {
		at := v.MeasuredAt
		if at.IsZero() && m.episodic[v.MDC] {
			if _, p := mdc.RoleOf(v.MDC); p.Code != 0 && slices.Contains(fresh, p.Code) {
				at = m.sighted(v, reported)
			} else {
				at = m.firstReported(v, reported)
			}
		}
		if at.IsZero() {
			continuous.Values = append(continuous.Values, v)
			continue
		}
		if _, ok := byTime[at.UnixNano()]; !ok {
			times = append(times, at)
		}
		byTime[at.UnixNano()] = append(byTime[at.UnixNano()], v)
	}
	var out []record.Record
	if len(continuous.Values) > 0 || len(times) == 0 {
		out = append(out, bed.Observe(continuous))
	}
	for _, at := range times {
		ep := r
		ep.DeviceTime, ep.Values = at, byTime[at.UnixNano()]
		rec := bed.observe(ep, r.DeviceTime)
		rec.Episodic = true
		out = append(out, rec)
	}
	return out
}

// firstReported returns when the device first reported v, an episodic
// value without a time stamp: now, unless the last such value of its code
// was the same.
func (m *measurements) firstReported(v drivers.Value, now time.Time) time.Time {
	if at, again := m.repeated(v); again {
		return at
	}
	return m.sighted(v, now)
}

// repeated reports whether v, an episodic value without a time stamp, is
// the last such value of its code reported again, and when that was first
// reported.
func (m *measurements) repeated(v drivers.Value) (first time.Time, again bool) {
	last, ok := m.unstamped[CodeKey(v.MDC, v.Label)]
	return last.at, ok && sameValue(last.value, v)
}

// sighted records v, an episodic value without a time stamp, as a new
// measurement reported now.
func (m *measurements) sighted(v drivers.Value, now time.Time) time.Time {
	m.unstamped[CodeKey(v.MDC, v.Label)] = sighting{value: v, at: now}
	return now
}

// freshPanels returns the blood pressures (their panel codes) of which
// values holds a new measurement: an unstamped episodic part that differs
// from the last reported. The parts of a cuff measurement are one
// measurement: when one part is new, all are, although a part may read
// as before (120/80 then 120/75: the systolic taken at the earlier time
// would be a second record, stale, and the panel lose its systolic).
func (m *measurements) freshPanels(values []drivers.Value) []uint32 {
	var fresh []uint32
	for _, v := range values {
		if !v.MeasuredAt.IsZero() || !m.episodic[v.MDC] {
			continue
		}
		if _, p := mdc.RoleOf(v.MDC); p.Code != 0 {
			if _, again := m.repeated(v); !again {
				fresh = append(fresh, p.Code)
			}
		}
	}
	return fresh
}

// sameValue reports whether two values say the same: number, unit and
// status.
func sameValue(a, b drivers.Value) bool {
	if (a.Value == nil) != (b.Value == nil) || a.Value != nil && math.Float64bits(*a.Value) != math.Float64bits(*b.Value) {
		return false
	}
	return a.Unit == b.Unit && a.Status == b.Status
}
