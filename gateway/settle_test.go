package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/holdfile"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/validate"
)

// failingEncoder is the pipeline's encoder failing the records fail picks.
type failingEncoder struct {
	record.Encoder
	fail func(record.Record) bool
}

var errEncodeInjected = errors.New("injected encoding failure")

func (e failingEncoder) Encode(r record.Record, seq uint64) ([]byte, error) {
	if e.fail(r) {
		return nil, errEncodeInjected
	}
	return e.Encoder.Encode(r, seq)
}

// TestSettleAllBatch: released records are stored in the order they were
// held, each bed's context before its first reading, and leave the hold
// file once stored; when one of a bed's records cannot be stored, it and
// the bed's later records are held again, in order, while the other beds'
// are stored; decided again, they are stored.
func TestSettleAllBatch(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	outbox, err := buffer.Open(filepath.Join(dir, "outbox"), buffer.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { outbox.Close() })
	hold, err := holdfile.Open(filepath.Join(dir, "held"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hold.Close() })
	format, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	failing := true
	enc := failingEncoder{Encoder: encoder{format: format}, fail: func(r record.Record) bool {
		return failing && r.Bed == "b" && r.DeviceTime.Equal(t0.Add(time.Second))
	}}
	reg := assoc.NewRegister(assoc.Options{Site: "s", Ward: "w", Beds: []string{"a", "b"}})
	dec := assoc.Decider{Lookup: reg, Policy: assoc.PolicyHold, HoldFor: time.Hour, AfterHold: assoc.PolicyForward}
	p := &pipeline{outbox: outbox, enc: enc, contexts: newBedContexts(format, outbox), decider: dec,
		held: assoc.NewHeld(dec, 100, hold), counts: &validate.Counts{}, now: time.Now, log: quiet}

	observe := func(bed string, k int) record.Record {
		at := t0.Add(time.Duration(k) * time.Second)
		return Bed{Gateway: "gw", Site: "s", Ward: "w", Name: bed, Device: bed}.Observe(drivers.Reading{
			Device: drivers.DeviceID{Driver: "masimo", Serial: bed}, DeviceTime: at, ReceivedAt: at,
			Values: []drivers.Value{{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(float64(90 + k)), Unit: "%"}}})
	}
	want := map[string][]int{} // each bed's reading numbers, in the order stored
	for k := range 3 {
		for _, bed := range []string{"a", "b"} {
			rec := observe(bed, k)
			if err := p.route(context.Background(), rec, dec.Decide(rec, time.Now())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := hold.Stats().Live; n != 6 {
		t.Fatalf("%d readings held on disk, want 6", n)
	}
	later := time.Now().Add(2 * time.Hour) // past HoldFor: forwarded without a patient
	p.settleAll(context.Background(), p.held.Release(later))

	// Bed b's second reading failed: it and b's third stay held, in order.
	again := p.held.Release(later)
	if len(again) != 2 || again[0].Bed != "b" || again[1].Bed != "b" || !again[0].At.Before(again[1].At) {
		t.Fatalf("held again: %+v; want bed b's second and third readings, in order", again)
	}
	if n := hold.Stats().Live; n != 2 {
		t.Fatalf("%d readings on disk after settling, want bed b's 2", n)
	}
	want["a"] = []int{0, 1, 2}
	want["b"] = []int{0, 2} // b's third was stored before b's second failed
	failing = false
	p.settleAll(context.Background(), again)
	want["b"] = append(want["b"], 1, 2)
	if n, st := p.held.Len(), hold.Stats(); n != 0 || st.Live != 0 {
		t.Fatalf("%d readings held, %d on disk after settling again; want none", n, st.Live)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := outbox.Next(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	contexts := map[string]int{}
	for _, e := range entries {
		topic, body, err := publish.OpenEnvelope(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		bed := string(topic[len("bedgate/v1/s/w/")])
		switch {
		case !bytes.Contains(body, []byte(`"Observation"`)):
			if len(got[bed]) > 0 {
				t.Errorf("bed %s: a context after its readings", bed)
			}
			contexts[bed]++
		default:
			if contexts[bed] == 0 {
				t.Errorf("bed %s: a reading before its context", bed)
			}
			for k := range 3 {
				if bytes.Contains(body, fmt.Appendf(nil, `"value":%d`, 90+k)) {
					got[bed] = append(got[bed], k)
				}
			}
		}
	}
	for _, bed := range []string{"a", "b"} {
		if !slices.Equal(got[bed], want[bed]) {
			t.Errorf("bed %s: readings stored %v, want %v", bed, got[bed], want[bed])
		}
		if contexts[bed] != 1 {
			t.Errorf("bed %s: %d contexts stored, want 1", bed, contexts[bed])
		}
	}
}
