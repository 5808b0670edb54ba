package assoc

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

var (
	t0    = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	pA    = record.Patient{NHSNumber: "9990000018", LocalID: "A1"}
	pB    = record.Patient{NHSNumber: "9990000026"}
	pC    = record.Patient{LocalID: "C3"}
	none  = record.Patient{}
	clock = func() time.Time { return t0.Add(24 * time.Hour) }
)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// step is one Apply; err is the error it must return (nil for accepted).
type step struct {
	bed   string
	event Event
	p     record.Patient
	at    int // minutes after t0
	id    string
	err   error
}

// probe is one PatientAt question; want none means nobody.
type probe struct {
	bed  string
	at   time.Time
	want record.Patient
}

func apply(t *testing.T, r *Register, steps []step) {
	t.Helper()
	for i, s := range steps {
		id := s.id
		if id == "" {
			id = fmt.Sprintf("step-%d", i)
		}
		bed := s.bed
		if bed == "" {
			bed = "1"
		}
		err := r.Apply(bed, Admission{Event: s.event, Patient: s.p, Time: minute(s.at), ID: id})
		if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
			t.Fatalf("step %d (%s at +%dm): err = %v, want %v", i, s.event, s.at, err, s.err)
		}
		if err != nil && (strings.Contains(err.Error(), pA.NHSNumber) || strings.Contains(err.Error(), pB.NHSNumber)) {
			t.Fatalf("step %d: error %q names a patient", i, err)
		}
	}
}

func check(t *testing.T, r *Register, probes []probe) {
	t.Helper()
	for _, q := range probes {
		bed := q.bed
		if bed == "" {
			bed = "1"
		}
		got, ok := r.PatientAt(bed, q.at)
		if ok != (q.want != none) || got != q.want {
			t.Errorf("PatientAt(%s, +%v) = %+v, %v; want %+v", bed, q.at.Sub(t0), got, ok, q.want)
		}
	}
}

func TestRegisterWindows(t *testing.T) {
	ns := time.Nanosecond
	tests := []struct {
		name   string
		steps  []step
		probes []probe
	}{
		{"admit then discharge: start inclusive, end exclusive",
			[]step{{event: Admit, p: pA, at: 10}, {event: Discharge, p: pA, at: 20}},
			[]probe{{at: minute(10).Add(-ns)}, {at: minute(10), want: pA}, {at: minute(15), want: pA}, {at: minute(20).Add(-ns), want: pA}, {at: minute(20)}, {at: minute(99)}}},
		{"open window lasts until further notice",
			[]step{{event: Admit, p: pA, at: 10}},
			[]probe{{at: minute(9)}, {at: minute(10), want: pA}, {at: minute(10000), want: pA}}},
		{"discharge naming nobody closes the window",
			[]step{{event: Admit, p: pA, at: 10}, {event: Discharge, at: 20}},
			[]probe{{at: minute(19), want: pA}, {at: minute(20)}}},
		{"transfer-in and transfer-out act as admit and discharge",
			[]step{{event: TransferIn, p: pB, at: 10}, {event: TransferOut, p: pB, at: 30}},
			[]probe{{at: minute(10), want: pB}, {at: minute(29), want: pB}, {at: minute(30)}}},
		{"transfer out and next patient in at the same instant",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: pB, at: 20, id: "b"}, {event: TransferOut, p: pA, at: 20}},
			[]probe{{at: minute(20).Add(-ns), want: pA}, {at: minute(20), want: pB}}},
		{"admit of another patient closes the previous window at its time",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: pB, at: 20}},
			[]probe{{at: minute(19), want: pA}, {at: minute(20), want: pB}, {at: minute(50), want: pB}}},
		{"re-admit after discharge opens a new window",
			[]step{{event: Admit, p: pA, at: 10}, {event: Discharge, p: pA, at: 20}, {event: Admit, p: pA, at: 30}},
			[]probe{{at: minute(15), want: pA}, {at: minute(25)}, {at: minute(30), want: pA}}},
		{"repeated admit of the patient in the bed changes nothing",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: record.Patient{NHSNumber: pA.NHSNumber}, at: 15}},
			[]probe{{at: minute(10), want: pA}, {at: minute(16), want: pA}}},
		{"two admits at the same instant: the later arrival is in the bed",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: pB, at: 10}},
			[]probe{{at: minute(10), want: pB}, {at: minute(11), want: pB}}},
		{"discharge of another patient is refused",
			[]step{{event: Admit, p: pA, at: 10}, {event: Discharge, p: pB, at: 20, err: ErrPatientMismatch}},
			[]probe{{at: minute(25), want: pA}}},
		{"discharge with nobody in the bed is kept and closes a late admit",
			[]step{{event: Discharge, p: pA, at: 20}, {event: Admit, p: pA, at: 10}},
			[]probe{{at: minute(15), want: pA}, {at: minute(20)}}},
		{"late discharge is inserted at its time",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: pB, at: 30}, {event: Discharge, p: pA, at: 20}},
			[]probe{{at: minute(19), want: pA}, {at: minute(20)}, {at: minute(29)}, {at: minute(30), want: pB}}},
		{"late admit fills a gap",
			[]step{{event: Admit, p: pA, at: 10}, {event: Discharge, p: pA, at: 20}, {event: Admit, p: pB, at: 40}, {event: Admit, p: pC, at: 25}},
			[]probe{{at: minute(24)}, {at: minute(25), want: pC}, {at: minute(39), want: pC}, {at: minute(40), want: pB}}},
		{"late admit contradicting a later discharge is refused",
			[]step{{event: Admit, p: pA, at: 10}, {event: Discharge, p: pA, at: 30}, {event: Admit, p: pB, at: 20, err: ErrConflict}},
			[]probe{{at: minute(25), want: pA}, {at: minute(30)}}},
		{"late discharge of a patient already replaced is refused",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: pB, at: 20}, {event: Discharge, p: pA, at: 25, err: ErrPatientMismatch}},
			[]probe{{at: minute(25), want: pB}}},
		{"same id again is a no-op",
			[]step{{event: Admit, p: pA, at: 10, id: "x"}, {event: Discharge, at: 20}, {event: Admit, p: pA, at: 10, id: "x"}},
			[]probe{{at: minute(15), want: pA}, {at: minute(25)}}},
		{"same id with other content is refused",
			[]step{{event: Admit, p: pA, at: 10, id: "x"}, {event: Admit, p: pB, at: 15, id: "x", err: ErrIDReused}},
			[]probe{{at: minute(16), want: pA}}},
		{"event stamped ahead of the gateway clock takes effect at its time",
			[]step{{event: Admit, p: pA, at: 24*60 + 60}},
			[]probe{{at: minute(24*60 + 59)}, {at: minute(24*60 + 60), want: pA}}},
		{"a future admit of another patient ends the stay only at its time",
			[]step{{event: Admit, p: pA, at: 10}, {event: Admit, p: pB, at: 24*60 + 60}},
			[]probe{{at: minute(24*60 + 59), want: pA}, {at: minute(24*60 + 60), want: pB}}},
		{"local id that is not UTF-8 is refused",
			[]step{{event: Admit, p: record.Patient{LocalID: "RX\xff1"}, at: 10, err: ErrLocalID}},
			[]probe{{at: minute(10)}}},
		{"unknown bed is refused",
			[]step{{bed: "9", event: Admit, p: pA, at: 10, err: ErrUnknownBed}},
			[]probe{{bed: "9", at: minute(10)}}},
		{"admit naming nobody is refused",
			[]step{{event: Admit, at: 10, err: ErrNoPatient}},
			[]probe{{at: minute(10)}}},
		{"bad NHS number is refused",
			[]step{{event: Admit, p: record.Patient{NHSNumber: "9990000019"}, at: 10, err: ErrNHSNumber}},
			[]probe{{at: minute(10)}}},
		{"display-form NHS number is normalised",
			[]step{{event: Admit, p: record.Patient{NHSNumber: "999 000 0018"}, at: 10}},
			[]probe{{at: minute(10), want: record.Patient{NHSNumber: "9990000018"}}}},
		{"beds are independent",
			[]step{{bed: "1", event: Admit, p: pA, at: 10}, {bed: "2", event: Admit, p: pB, at: 10}, {bed: "2", event: Discharge, at: 20}},
			[]probe{{bed: "1", at: minute(25), want: pA}, {bed: "2", at: minute(15), want: pB}, {bed: "2", at: minute(25)}}},
		{"admit to a second bed closes the first",
			[]step{{bed: "1", event: Admit, p: pA, at: 10}, {bed: "2", event: TransferIn, p: pA, at: 30}},
			[]probe{{bed: "1", at: minute(29), want: pA}, {bed: "1", at: minute(30)}, {bed: "2", at: minute(30), want: pA}}},
		{"late admit to a first bed is closed by the later admit elsewhere",
			[]step{{bed: "2", event: TransferIn, p: pA, at: 30}, {bed: "1", event: Admit, p: pA, at: 10}},
			[]probe{{bed: "1", at: minute(10), want: pA}, {bed: "1", at: minute(30)}, {bed: "2", at: minute(30), want: pA}}},
		{"the same patient into two beds at one instant is refused",
			[]step{{bed: "1", event: Admit, p: pA, at: 10}, {bed: "2", event: Admit, p: pA, at: 10, err: ErrConflict}},
			[]probe{{bed: "1", at: minute(10), want: pA}, {bed: "2", at: minute(10)}}},
		{"a closed window elsewhere does not touch the new bed",
			[]step{{bed: "1", event: Admit, p: pA, at: 10}, {bed: "1", event: Discharge, at: 20}, {bed: "2", event: Admit, p: pA, at: 30}},
			[]probe{{bed: "1", at: minute(15), want: pA}, {bed: "1", at: minute(30)}, {bed: "2", at: minute(30), want: pA}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegister(Options{Site: "s", Ward: "w", Beds: []string{"1", "2"}, Now: clock})
			apply(t, r, tt.steps)
			check(t, r, tt.probes)
		})
	}
}

func TestRegisterStatic(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		probes []probe
	}{
		{"static answers at every time while there is no feed",
			nil,
			[]probe{{at: minute(-1000), want: pA}, {at: minute(1000), want: pA}, {bed: "2", at: minute(0)}}},
		{"the feed takes over the bed at its first event",
			[]step{{event: Admit, p: pB, at: 100}},
			[]probe{{at: minute(99)}, {at: minute(100), want: pB}}},
		{"a discharge from the feed leaves the bed empty, not static",
			[]step{{event: Discharge, at: 100}},
			[]probe{{at: minute(50)}, {at: minute(150)}}},
		{"a refused event does not take the bed over",
			[]step{{event: Admit, at: 100, err: ErrNoPatient}},
			[]probe{{at: minute(150), want: pA}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegister(Options{Beds: []string{"1", "2"}, Now: clock})
			if err := r.Static("1", pA); err != nil {
				t.Fatal(err)
			}
			apply(t, r, tt.steps)
			check(t, r, tt.probes)
		})
	}
}

func TestRegisterStaticErrors(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	tests := []struct {
		name string
		bed  string
		p    record.Patient
		want error
	}{
		{"unknown bed", "2", pA, ErrUnknownBed},
		{"no identifier", "1", record.Patient{}, ErrNoPatient},
		{"bad NHS number", "1", record.Patient{NHSNumber: "1234567890"}, ErrNHSNumber},
		{"control character in local id", "1", record.Patient{LocalID: "a\x00"}, ErrLocalID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Static(tt.bed, tt.p); !errors.Is(err, tt.want) {
				t.Fatalf("Static = %v, want %v", err, tt.want)
			}
		})
	}
	if err := r.Static("1", record.Patient{NHSNumber: "943 476 5919"}); err != nil {
		t.Fatal(err)
	}
	if p, ok := r.PatientAt("1", t0); !ok || p.NHSNumber != "9434765919" {
		t.Fatalf("PatientAt = %+v, %v; want the normalised static patient", p, ok)
	}
}

func TestRegisterHorizon(t *testing.T) {
	now := t0
	r := NewRegister(Options{Horizon: time.Hour, Now: func() time.Time { return now }})
	apply(t, r, []step{
		{event: Admit, p: pA, at: -600, id: "a"},     // open long before the horizon
		{event: Discharge, p: pA, at: -300, id: "d"}, // closed before the horizon
	})
	// The window ended five hours ago, older than the one-hour horizon:
	// it is dropped once the bed is empty after it.
	check(t, r, []probe{{at: minute(-400)}})
	if n := len(r.tls["1"].events); n != 0 {
		t.Fatalf("%d events kept, want 0", n)
	}
	// A retained re-delivery of the dropped discharge is recognised.
	apply(t, r, []step{{event: Discharge, p: pA, at: -300, id: "d"}})
	// A late admit before the dropped history cannot be placed.
	apply(t, r, []step{{event: Admit, p: pB, at: -500, id: "late", err: ErrBeforeHistory}})
	// A late discharge before it changes nothing and is accepted.
	apply(t, r, []step{{event: Discharge, at: -350, id: "late2"}})

	// An open window is kept however old.
	apply(t, r, []step{{event: Admit, p: pB, at: -200, id: "b"}})
	now = t0.Add(48 * time.Hour)
	// A repeated admit of the patient in the bed runs the pruning of bed 1.
	apply(t, r, []step{{event: Admit, p: pB, at: 47 * 60, id: "b2"}})
	check(t, r, []probe{{at: minute(-200), want: pB}, {at: now, want: pB}})
}

func TestRegisterMaxEvents(t *testing.T) {
	r := NewRegister(Options{MaxEvents: 4, Now: clock})
	// Closed stays are dropped, oldest first, to stay within 4 events.
	for i := 0; i < 5; i++ {
		apply(t, r, []step{{event: Admit, p: pA, at: 10 * i, id: fmt.Sprintf("a%d", i)}, {event: Discharge, at: 10*i + 5, id: fmt.Sprintf("d%d", i)}})
	}
	if n := len(r.tls["1"].events); n > 4 {
		t.Fatalf("%d events kept, want at most 4", n)
	}
	check(t, r, []probe{{at: minute(1)}, {at: minute(41), want: pA}, {at: minute(46)}})

	// Events of one open stay are dropped too, but the one that opened it
	// is kept: the stay still answers from its start.
	r = NewRegister(Options{MaxEvents: 2, Now: clock})
	apply(t, r, []step{
		{event: Admit, p: pA, at: 0},
		{event: Admit, p: pA, at: 1},
		{event: Admit, p: pA, at: 2},
	})
	check(t, r, []probe{{at: minute(0), want: pA}, {at: minute(5), want: pA}})
	// A late discharge inside the dropped history cannot be placed.
	apply(t, r, []step{{event: Discharge, at: 1, id: "late", err: ErrBeforeHistory}})
	check(t, r, []probe{{at: minute(5), want: pA}})
}

// TestRegisterFloodOfEvents: an EPR re-sending with fresh ids puts 2,000
// events on one bed. Every new event takes effect (the history is pruned,
// never the new event refused), the memory stays bounded, and the stays
// the kept history covers still answer.
func TestRegisterFloodOfEvents(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	patients := []record.Patient{pA, pB, pC}
	for i := 0; i < 2000; i++ {
		apply(t, r, []step{{event: Admit, p: patients[i/3%3], at: i, id: fmt.Sprintf("resend-%d", i)}})
		if n := len(r.tls["1"].events); n > DefaultMaxEvents {
			t.Fatalf("after %d events, %d kept, more than %d", i+1, n, DefaultMaxEvents)
		}
		check(t, r, []probe{{at: minute(i), want: patients[i/3%3]}})
	}
	// The newest stays answer; the oldest history is gone.
	check(t, r, []probe{{at: minute(1998), want: patients[1998/3%3]}, {at: minute(1500), want: patients[1500/3%3]}})
	// A retained re-delivery of the newest event is still recognised.
	apply(t, r, []step{{event: Admit, p: patients[1999/3%3], at: 1999, id: "resend-1999"}})
	// And a discharge after the flood empties the bed.
	apply(t, r, []step{{event: Discharge, at: 2000, id: "out"}})
	check(t, r, []probe{{at: minute(2000)}})
}

func TestHandleMessage(t *testing.T) {
	r := NewRegister(Options{Site: "rx1", Ward: "w7", Beds: []string{"3"}, Now: clock})
	admit := []byte(`{"event":"admit","nhs_number":"9990000018","time":"2026-11-26T09:00:00Z","id":"e1"}`)
	tests := []struct {
		name    string
		topic   string
		payload []byte
		want    error
	}{
		{"admit on the bed's topic", "bedgate/v1/rx1/w7/3/admission", admit, nil},
		{"retained re-delivery", "bedgate/v1/rx1/w7/3/admission", admit, nil},
		{"cleared retained message", "bedgate/v1/rx1/w7/3/admission", nil, nil},
		{"other ward", "bedgate/v1/rx1/w8/3/admission", admit, ErrTopic},
		{"other site", "bedgate/v1/rx2/w7/3/admission", admit, ErrTopic},
		{"not an admission topic", "bedgate/v1/rx1/w7/3/obs", admit, ErrTopic},
		{"unknown bed", "bedgate/v1/rx1/w7/4/admission", admit, ErrUnknownBed},
		{"bad payload", "bedgate/v1/rx1/w7/3/admission", []byte(`{`), ErrMalformed},
		{"bad NHS number", "bedgate/v1/rx1/w7/3/admission", []byte(`{"event":"admit","nhs_number":"9990000019","time":"2026-11-26T09:00:00Z","id":"e2"}`), ErrNHSNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.HandleMessage(tt.topic, tt.payload)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("HandleMessage = %v, want %v", err, tt.want)
			}
		})
	}
	if p, ok := r.PatientAt("3", t0.Add(time.Hour)); !ok || p.NHSNumber != "9990000018" {
		t.Fatalf("PatientAt = %+v, %v", p, ok)
	}
	if _, ok := r.PatientAt("3", t0.Add(time.Hour-time.Nanosecond)); ok {
		t.Fatal("patient before the admit time")
	}
}

// TestRegisterConcurrent runs the feed, bed supervisors and static
// assignment at once; run with -race.
func TestRegisterConcurrent(t *testing.T) {
	beds := []string{"1", "2", "3", "4"}
	r := NewRegister(Options{Site: "s", Ward: "w", Beds: beds, Now: clock})
	var wg sync.WaitGroup
	for bi, bed := range beds {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a := Admission{Event: Admit, Patient: record.Patient{LocalID: fmt.Sprintf("p%d-%d", bi, i)}, Time: minute(2 * i), ID: fmt.Sprintf("a%d", i)}
				if i%2 == 1 {
					a = Admission{Event: Discharge, Time: minute(2*i - 1), ID: fmt.Sprintf("d%d", i)}
				}
				b, _ := a.MarshalJSON()
				if err := r.HandleMessage(AdmissionTopic("s", "w", bed), b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				r.PatientAt(bed, minute(i))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			_ = r.Static("1", pA)
		}
	}()
	wg.Wait()
	// Every even minute 2i opens patient i's stay, closed at 2i+1.
	for bi, bed := range beds {
		for i := 0; i < 200; i += 2 {
			want := fmt.Sprintf("p%d-%d", bi, i)
			if p, ok := r.PatientAt(bed, minute(2*i)); !ok || p.LocalID != want {
				t.Fatalf("bed %s at %d: %+v, %v; want %s", bed, 2*i, p, ok, want)
			}
			if _, ok := r.PatientAt(bed, minute(2*i+1)); ok {
				t.Fatalf("bed %s at %d: occupied, want empty", bed, 2*i+1)
			}
		}
	}
}
