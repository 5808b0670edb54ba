package gateway

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/holdfile"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/validate"
)

// TestHeldRecordPushedOutKeepsItsBed: when the held queue is full, the
// oldest held reading leaves it while another bed's reading is routed; it
// must go to its own bed's topic, never the other bed's.
func TestHeldRecordPushedOutKeepsItsBed(t *testing.T) {
	p, buf, route := newHoldOfOne(t, nil)
	route("a")
	route("b")
	if p.held.Len() != 1 {
		t.Fatalf("%d readings held, want 1 (bed b's)", p.held.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := buf.Next(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries stored, want bed a's pushed-out reading", len(entries))
	}
	topic, _, err := publish.OpenEnvelope(entries[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(topic, "bedgate/v1/s/w/a/") {
		t.Errorf("bed a's pushed-out reading went to %s", topic)
	}
}

// TestHeldReadingDamagedOnDiskIsLost: a held reading on disk only (held
// again after a restart: a queue keeps in memory only what it held
// itself) whose bytes changed on disk is not forwarded with whatever they
// now say: it is counted lost and removed, and the reading that pushed it
// out of the full hold is held.
func TestHeldReadingDamagedOnDiskIsLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held")
	file, err := holdfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	p, buf, route := newHoldOfOne(t, file)
	route("a")
	p.held = assoc.NewHeld(p.decider, 1, file) // as after a restart
	for _, key := range file.Keys() {
		if err := p.held.Restore(key); err != nil {
			t.Fatal(err)
		}
	}
	// One byte of bed a's held record (after the 13-byte frame header).
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	route("b")
	if n := p.lost.Load(); n != 1 {
		t.Errorf("lost = %d, want the damaged reading counted", n)
	}
	if st := file.Stats(); st.Live != 1 || p.held.Len() != 1 {
		t.Errorf("%d entries on disk, %d held; want bed b's only", st.Live, p.held.Len())
	}
	if st := buf.Stats(); st.Entries != 0 {
		t.Errorf("%d records stored, want none (the damaged reading must not go out)", st.Entries)
	}
}

// newHoldOfOne returns a pipeline over a real outbox and FHIR encoder
// whose beds a and b hold their readings (PolicyHold, no admission) in a
// queue of one, kept in store (nil: in memory); route routes one reading
// of a bed as the pipeline would decide it.
func newHoldOfOne(t *testing.T, store assoc.Store) (p *pipeline, outbox *buffer.Buffer, route func(bed string)) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	buf, err := buffer.Open(t.TempDir(), buffer.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { buf.Close() })
	format, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := assoc.NewRegister(assoc.Options{Site: "s", Ward: "w", Beds: []string{"a", "b"}})
	dec := assoc.Decider{Lookup: reg, Policy: assoc.PolicyHold, HoldFor: time.Hour, AfterHold: assoc.PolicyQuarantine}
	p = &pipeline{outbox: buf, enc: encoder{format: format}, decider: dec, held: assoc.NewHeld(dec, 1, store),
		counts: &validate.Counts{}, now: time.Now, log: quiet}
	now := time.Now().UTC().Truncate(time.Second)
	reading := drivers.Reading{Device: drivers.DeviceID{Driver: "masimo", Serial: "1"}, DeviceTime: now, ReceivedAt: now,
		Values: []drivers.Value{{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}}}
	return p, buf, func(name string) {
		t.Helper()
		rec := Bed{Gateway: "gw", Site: "s", Ward: "w", Name: name, Device: name}.Observe(reading)
		if err := p.route(context.Background(), rec, dec.Decide(rec, now)); err != nil {
			t.Fatalf("route bed %s: %v", name, err)
		}
	}
}
