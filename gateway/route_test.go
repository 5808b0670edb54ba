package gateway

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/fhir"
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
