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
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	buf, err := buffer.Open(t.TempDir(), buffer.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	format, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := assoc.NewRegister(assoc.Options{Site: "s", Ward: "w", Beds: []string{"a", "b"}})
	dec := assoc.Decider{Lookup: reg, Policy: assoc.PolicyHold, HoldFor: time.Hour, AfterHold: assoc.PolicyQuarantine}
	p := &pipeline{outbox: buf, enc: encoder{format: format}, decider: dec, held: assoc.NewHeld(dec, 1, nil),
		counts: &validate.Counts{}, now: time.Now, log: quiet}

	now := time.Now().UTC().Truncate(time.Second)
	reading := drivers.Reading{Device: drivers.DeviceID{Driver: "masimo", Serial: "1"}, DeviceTime: now, ReceivedAt: now,
		Values: []drivers.Value{{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}}}
	for _, name := range []string{"a", "b"} {
		rec := Bed{Gateway: "gw", Site: "s", Ward: "w", Name: name, Device: name}.Observe(reading)
		if err := p.route(context.Background(), rec, dec.Decide(rec, now)); err != nil {
			t.Fatalf("route bed %s: %v", name, err)
		}
	}
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

// TestHeldReadingDamagedOnDiskIsLost: a held reading whose bytes changed
// on disk is not forwarded with whatever they now say: it is counted lost
// and removed, and the reading that pushed it out of the full hold is held.
func TestHeldReadingDamagedOnDiskIsLost(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	buf, err := buffer.Open(t.TempDir(), buffer.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	format, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "held")
	file, err := holdfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	reg := assoc.NewRegister(assoc.Options{Site: "s", Ward: "w", Beds: []string{"a", "b"}})
	dec := assoc.Decider{Lookup: reg, Policy: assoc.PolicyHold, HoldFor: time.Hour, AfterHold: assoc.PolicyQuarantine}
	p := &pipeline{outbox: buf, enc: encoder{format: format}, decider: dec, held: assoc.NewHeld(dec, 1, file),
		counts: &validate.Counts{}, now: time.Now, log: quiet}

	now := time.Now().UTC().Truncate(time.Second)
	reading := drivers.Reading{Device: drivers.DeviceID{Driver: "masimo", Serial: "1"}, DeviceTime: now, ReceivedAt: now,
		Values: []drivers.Value{{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}}}
	route := func(name string) {
		t.Helper()
		rec := Bed{Gateway: "gw", Site: "s", Ward: "w", Name: name, Device: name}.Observe(reading)
		if err := p.route(context.Background(), rec, dec.Decide(rec, now)); err != nil {
			t.Fatalf("route bed %s: %v", name, err)
		}
	}
	route("a")
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
