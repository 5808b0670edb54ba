package assoc

import (
	"slices"
	"sort"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// event is one accepted admission event of a bed.
type event struct {
	kind    Event
	patient record.Patient // zero when a closing event names nobody
	at      time.Time
	id      string // empty for implied events (see Register.separate)
	seq     uint64 // arrival order, the last tie-break
}

// before orders events: by time; at the same instant closing events come
// before opening ones (a discharge and the next admit at one instant leave
// the new patient in the bed); then by arrival.
func before(a, b event) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.kind.Opens() != b.kind.Opens() {
		return !a.kind.Opens()
	}
	return a.seq < b.seq
}

func sameEvent(a, b event) bool {
	return a.kind == b.kind && a.patient == b.patient && a.at.Equal(b.at)
}

// window is one stay of one patient in the bed: [start, end), end zero
// while the patient is still in the bed.
type window struct {
	patient    record.Patient
	start, end time.Time
}

func (w window) covers(t time.Time) bool {
	return !t.Before(w.start) && (w.end.IsZero() || t.Before(w.end))
}

func (w window) overlaps(v window) bool {
	return (v.end.IsZero() || w.start.Before(v.end)) && (w.end.IsZero() || v.start.Before(w.end))
}

// samePatient reports whether two identifications are of one patient: the
// NHS numbers decide when both have one, else the local identifiers when
// both have one; otherwise they are not known to be the same.
func samePatient(a, b record.Patient) bool {
	if a.NHSNumber != "" && b.NHSNumber != "" {
		return a.NHSNumber == b.NHSNumber
	}
	if a.LocalID != "" && b.LocalID != "" {
		return a.LocalID == b.LocalID
	}
	return false
}

// fold turns events (in the order of before) into windows. An opening event
// while another patient is in the bed closes that patient's window at its
// time; an opening event for the patient already in the bed changes
// nothing; a closing event closes the open window, or changes nothing when
// the bed is empty. It returns the index of the first closing event that
// names a patient other than the one in the bed, or -1. Empty windows
// ([t, t)) are left out.
func fold(events []event) ([]window, int) {
	var ws []window
	open := false
	closeAt := func(t time.Time) {
		cur := &ws[len(ws)-1]
		cur.end = t
		if !cur.start.Before(t) {
			ws = ws[:len(ws)-1]
		}
		open = false
	}
	for i, e := range events {
		if e.kind.Opens() {
			if open {
				if samePatient(ws[len(ws)-1].patient, e.patient) {
					continue
				}
				closeAt(e.at)
			}
			ws = append(ws, window{patient: e.patient, start: e.at})
			open = true
			continue
		}
		if !open {
			continue
		}
		if e.patient != (record.Patient{}) && !samePatient(ws[len(ws)-1].patient, e.patient) {
			return nil, i
		}
		closeAt(e.at)
	}
	return ws, -1
}

// timeline is the association history of one bed.
type timeline struct {
	events  []event // sorted by before
	windows []window
	// fed is set by the first accepted admission event: from then on the
	// feed, not the static assignment, answers for the bed.
	fed    bool
	static *record.Patient
	// floor is the time of the last dropped event; history before it is
	// gone (and the bed was empty at it).
	floor time.Time
	// dropped holds the ids of the most recently dropped events, so that a
	// retained message re-delivered after its event was dropped is still
	// recognised.
	dropped []string
}

// maxDroppedIDs bounds timeline.dropped.
const maxDroppedIDs = 8

func (tl *timeline) findID(id string) (event, bool) {
	for _, e := range tl.events {
		if e.id == id {
			return e, true
		}
	}
	return event{}, false
}

// insert returns the events with e in its place (a new slice).
func insert(events []event, e event) []event {
	i := sort.Search(len(events), func(i int) bool { return before(e, events[i]) })
	out := make([]event, 0, len(events)+1)
	out = append(out, events[:i]...)
	out = append(out, e)
	return append(out, events[i:]...)
}

// emptyAfter returns, for each k in 0..len(events), whether the bed is
// empty after events[:k].
func emptyAfter(events []event) []bool {
	empty := make([]bool, len(events)+1)
	empty[0] = true
	var cur *record.Patient
	for i, e := range events {
		switch {
		case e.kind.Opens():
			p := e.patient
			cur = &p
		default:
			cur = nil
		}
		empty[i+1] = cur == nil
	}
	return empty
}

// prune drops the longest prefix of the events that is all before cutoff
// and leaves the bed empty (so the fold of the rest is unchanged), and then,
// if more than max events remain, the shortest longer such prefix (at any
// time) that leaves at most max. It reports false, changing nothing, when
// no prefix does.
func (tl *timeline) prune(cutoff time.Time, max int) bool {
	empty := emptyAfter(tl.events)
	k := 0
	for i := 1; i <= len(tl.events); i++ {
		if !tl.events[i-1].at.Before(cutoff) {
			break
		}
		if empty[i] {
			k = i
		}
	}
	if len(tl.events)-k > max {
		k = -1
		for i := len(tl.events) - max; i <= len(tl.events); i++ {
			if empty[i] {
				k = i
				break
			}
		}
		if k < 0 {
			return false
		}
	}
	if k == 0 {
		return true
	}
	dropped := slices.Clone(tl.dropped)
	for _, e := range tl.events[:k] {
		if e.id != "" {
			dropped = append(dropped, e.id)
		}
	}
	tl.dropped = dropped
	if n := len(tl.dropped); n > maxDroppedIDs {
		tl.dropped = slices.Clone(tl.dropped[n-maxDroppedIDs:])
	}
	tl.floor = tl.events[k-1].at
	tl.events = slices.Clone(tl.events[k:])
	tl.windows, _ = fold(tl.events)
	return true
}

// at returns the window covering t.
func (tl *timeline) at(t time.Time) (window, bool) {
	i := sort.Search(len(tl.windows), func(i int) bool { return tl.windows[i].start.After(t) })
	if i == 0 {
		return window{}, false
	}
	w := tl.windows[i-1]
	return w, w.covers(t)
}
