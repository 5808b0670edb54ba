package filed

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/bedgate/bedgate/gateway/record"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func entry(bed string, i int, p *record.Patient) Entry {
	return Entry{Record: record.Record{
		Bed: bed, ReceivedAt: t0.Add(time.Duration(i) * time.Second), Patient: p,
		Observations: []record.Observation{{ID: fmt.Sprintf("%s-%d", bed, i), MDC: 150456}},
	}}
}

func TestLedgerKeepsFilingsAcrossRestartsAndCorrections(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: t0}
	p1, p2 := &record.Patient{NHSNumber: "9434765919"}, &record.Patient{NHSNumber: "9434765870"}
	l, err := Open(dir, Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := l.Add(entry("bed1", i, p1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Add(entry("bed2", 0, nil)); err != nil {
		t.Fatal(err)
	}
	// Correct readings 5..9 of bed1 to p2.
	for _, it := range l.Since(t0.Add(5 * time.Second)) {
		if it.Bed != "bed1" {
			continue
		}
		e, err := l.Read(it)
		if err != nil {
			t.Fatal(err)
		}
		e.Record.Patient = p2
		e.Record.Observations[0].ID += "-refiled"
		if err := l.Replace(it, e); err != nil {
			t.Fatal(err)
		}
	}
	check := func(l *Ledger) {
		t.Helper()
		if n := l.Len(); n != 11 {
			t.Errorf("Len = %d, want 11 (corrections replace their filings)", n)
		}
		for _, it := range l.Since(time.Time{}) {
			e, err := l.Read(it)
			if err != nil {
				t.Fatal(err)
			}
			want := p1
			switch {
			case it.Bed == "bed2":
				want = nil
			case !it.At.Before(t0.Add(5 * time.Second)):
				want = p2
			}
			if got, ok := e.Subject(); ok != (want != nil) || (ok && got != *want) || it.HasSubject != ok || it.Subject != got {
				t.Errorf("%s at %v: subject %v %v (item %v), want %v", it.Bed, it.At, got, ok, it.Subject, want)
			}
			if e.Origin != fmt.Sprintf("%s-%d", it.Bed, int(it.At.Sub(t0)/time.Second)) {
				t.Errorf("origin %q at %v", e.Origin, it.At)
			}
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	check(l)
}

func TestLedgerPrunesByTimeAndCountNeverRefusing(t *testing.T) {
	cases := []struct {
		name     string
		window   time.Duration
		max      int
		step     time.Duration
		n        int
		wantLeft func(n int) bool
	}{
		// 64 entries a second apart, a 32 s window: about the last 32 s kept.
		{"time", 32 * time.Second, 1000, time.Second, 64, func(n int) bool { return n >= 30 && n <= 36 }},
		// 64 entries, at most 32: at least 30, at most 32 kept.
		{"count", time.Hour, 32, time.Millisecond, 64, func(n int) bool { return n >= 30 && n <= 32 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := &clock{t: t0}
			l, err := Open(dir, Options{Now: clk.now, Window: tc.window, MaxEntries: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			for i := range tc.n {
				clk.set(t0.Add(time.Duration(i) * tc.step))
				e := entry("bed1", i, nil)
				e.Record.ReceivedAt = clk.now()
				if err := l.Add(e); err != nil {
					t.Fatalf("entry %d refused: %v", i, err)
				}
			}
			items := l.Since(time.Time{})
			if !tc.wantLeft(len(items)) {
				t.Errorf("%d entries left of %d", len(items), tc.n)
			}
			newest := false
			for _, it := range items {
				newest = newest || it.At.Equal(clk.now())
			}
			if !newest {
				t.Error("the newest entry was not kept")
			}
			segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			if len(segs) > segmentsPerLedger+2 {
				t.Errorf("%d segment files, want at most %d", len(segs), segmentsPerLedger+2)
			}
		})
	}
}

func TestLedgerCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := l.Add(entry("bed1", i, nil)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 40, 1, 2, 3}) // a frame cut short by a crash
	f.Close()
	l, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Add(entry("bed1", 3, nil)); err != nil {
		t.Fatal(err)
	}
	for _, it := range l.Since(time.Time{}) {
		if _, err := l.Read(it); err != nil {
			t.Errorf("after the torn tail: %v", err)
		}
	}
	if n := l.Len(); n != 4 {
		t.Errorf("Len = %d, want 4", n)
	}
}

// FuzzOpen: whatever a segment holds (a torn or garbled frame, garbage),
// Open does not fail or panic, every indexed entry reads back, a new entry
// is taken, and a second Open indexes the same entries plus it.
func FuzzOpen(f *testing.F) {
	good := func(e Entry) []byte {
		dir := f.TempDir()
		l, err := Open(dir, Options{})
		if err != nil {
			f.Fatal(err)
		}
		if err := l.Add(e); err != nil {
			f.Fatal(err)
		}
		l.Close()
		b, err := os.ReadFile(filepath.Join(dir, "0000000000000001.seg"))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	one := good(entry("bed1", 1, nil))
	f.Add(one)
	f.Add(append(one, one[:len(one)/2]...))
	f.Add([]byte{0, 0, 0, 4, 1, 2, 3, 4, '{', '}', 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0000000000000001.seg"), content, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range l.Since(time.Time{}) {
			if _, err := l.Read(it); err != nil {
				t.Fatalf("an indexed entry does not read back: %v", err)
			}
		}
		if err := l.Add(entry("bed2", 2, nil)); err != nil {
			t.Fatal(err)
		}
		n := l.Len()
		l.Close()
		l, err = Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if got := l.Len(); got != n {
			t.Fatalf("reopened with %d entries, had %d", got, n)
		}
	})
}

// TestLedgerPruneKeepsSubjects: the slots name their subjects through a
// table rebuilt at every prune; after prunes every item still names the
// patient its entry was filed for, and the table keeps only those named.
func TestLedgerPruneKeepsSubjects(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: t0}
	l, err := Open(dir, Options{Now: clk.now, Window: time.Hour, MaxEntries: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	patients := []*record.Patient{nil}
	for i := range 200 {
		// A new patient every 10 entries: the early ones are pruned.
		patients = append(patients, &record.Patient{NHSNumber: fmt.Sprintf("P%03d", i)})
	}
	for i := range 200 {
		clk.set(t0.Add(time.Duration(i) * time.Millisecond))
		if err := l.Add(entry("bed1", i, patients[i/10])); err != nil {
			t.Fatal(err)
		}
	}
	items := l.Since(time.Time{})
	if len(items) < 30 {
		t.Fatalf("%d items left", len(items))
	}
	named := map[record.Patient]bool{}
	for _, it := range items {
		e, err := l.Read(it)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := e.Subject()
		if ok != it.HasSubject || got != it.Subject {
			t.Errorf("item at %v names %v %v, its entry %v %v", it.At, it.Subject, it.HasSubject, got, ok)
		}
		if ok {
			named[got] = true
		}
	}
	if len(l.patients) != len(named) {
		t.Errorf("%d patients kept for %d named by the items", len(l.patients), len(named))
	}
	if size := unsafe.Sizeof(slot{}); size != 32 {
		t.Errorf("a slot is %d bytes; the package documents 32", size)
	}
}

// TestLedgerTimesBeyondNanoseconds: a slot holds a reading time as Unix
// nanoseconds, which end in 2262; a later time (a typing error in an
// admission event's year) still compares after every real time.
func TestLedgerTimesBeyondNanoseconds(t *testing.T) {
	clk := &clock{t: t0}
	l, err := Open(t.TempDir(), Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	far := time.Date(2924, 12, 4, 10, 0, 0, 0, time.UTC)
	today, future := entry("bed1", 1, nil), entry("bed1", 2, nil)
	future.Record.ReceivedAt = far
	for _, e := range []Entry{today, future} {
		if err := l.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(l.Since(t0)); got != 2 {
		t.Errorf("Since(today) returns %d filings, want both", got)
	}
	got := l.Since(far.Add(-time.Hour))
	if len(got) != 1 || !got[0].At.After(t0) {
		t.Errorf("Since(year 2924) returns %+v, want only the year-2924 filing", got)
	}
}
