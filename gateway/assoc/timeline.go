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

// SamePatient reports whether two identifications are of one patient: the
// NHS numbers decide when both have one, else the local identifiers when
// both have one; otherwise they are not known to be the same.
func SamePatient(a, b record.Patient) bool {
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
				if SamePatient(ws[len(ws)-1].patient, e.patient) {
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
		if e.patient != (record.Patient{}) && !SamePatient(ws[len(ws)-1].patient, e.patient) {
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
	// gone. floorOccupied says a patient was in the bed at it (the event
	// that put them there is kept).
	floor         time.Time
	floorOccupied bool
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

// opener returns the index of the event that opened the window still open
// after events (a repeated admit of the patient in the bed opens nothing),
// and false when the bed is empty after them.
func opener(events []event) (int, bool) {
	idx, open := -1, false
	for i, e := range events {
		switch {
		case e.kind.Opens() && open && SamePatient(events[idx].patient, e.patient):
		case e.kind.Opens():
			idx, open = i, true
		default:
			open = false
		}
	}
	return idx, open
}

// prune drops the events before cutoff and then, oldest first, as many
// more as it takes to keep at most limit (at least 2): it never refuses a new
// event. The event that opened the window still open after the dropped
// prefix is kept, so the windows from then on are unchanged; history
// before the last dropped event's time (the floor) is gone.
func (tl *timeline) prune(cutoff time.Time, limit int) {
	k := 0
	for k < len(tl.events) && tl.events[k].at.Before(cutoff) {
		k++
	}
	k = min(len(tl.events), max(k, len(tl.events)-(limit-1)))
	if k == 0 {
		return
	}
	kept := make([]event, 0, len(tl.events)-k+1)
	i, open := opener(tl.events[:k])
	if open {
		kept = append(kept, tl.events[i])
	}
	tl.floorOccupied = open
	dropped := slices.Clone(tl.dropped)
	for i, e := range tl.events[:k] {
		if e.id != "" && (len(kept) == 0 || kept[0].seq != tl.events[i].seq) {
			dropped = append(dropped, e.id)
		}
	}
	if n := len(dropped); n > maxDroppedIDs {
		dropped = dropped[n-maxDroppedIDs:]
	}
	tl.dropped = slices.Clone(dropped)
	tl.floor = tl.events[k-1].at
	tl.events = append(kept, tl.events[k:]...)
	tl.windows, _ = fold(tl.events)
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
