package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/record"
)

// contextRig stores records the way the pipeline does, in a real outbox
// on disk, and remembers what each stored entry was.
type contextRig struct {
	t        *testing.T
	outbox   *buffer.Buffer
	contexts *bedContexts
	stored   []record.Record // by seq-1
}

func newContextRig(t *testing.T, opts buffer.Options) *contextRig {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	outbox, err := buffer.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = outbox.Close() })
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &contextRig{t: t, outbox: outbox, contexts: newBedContexts(enc, outbox)}
}

func (r *contextRig) append(ctx context.Context, rec record.Record) (buffer.Seq, error) {
	seq, err := r.outbox.AppendFunc(ctx, func(buffer.Seq) ([]byte, error) { return json.Marshal(rec) })
	if err == nil {
		r.stored = append(r.stored, rec)
		if int(seq) != len(r.stored) {
			r.t.Fatalf("stored as seq %d, the rig counted %d", seq, len(r.stored))
		}
	}
	return seq, err
}

// store stores rec as the pipeline does (bedContexts.store) and returns
// the context stored right before it, if any.
func (r *contextRig) store(rec record.Record) *record.Record {
	r.t.Helper()
	before := len(r.stored)
	if err := r.contexts.store(context.Background(), rec, r.append); err != nil {
		r.t.Fatal(err)
	}
	// The record last, after its context; both again when the context
	// was overtaken meanwhile.
	n := len(r.stored) - before
	if n < 1 || r.stored[len(r.stored)-1].Kind != record.KindObservations {
		r.t.Fatalf("%d entries stored for one record, the last not the record", n)
	}
	if n == 1 {
		return nil
	}
	if r.stored[len(r.stored)-2].Kind != record.KindContext {
		r.t.Fatalf("%d entries stored for one record: the one before it is not a context", n)
	}
	return &r.stored[len(r.stored)-2]
}

// ack delivers every stored entry, as the publisher does on PUBACKs.
func (r *contextRig) ack() {
	r.t.Helper()
	for {
		st := r.outbox.Stats()
		if st.Entries == 0 {
			return
		}
		entries, err := r.outbox.Next(context.Background(), 1000)
		if err != nil {
			r.t.Fatal(err)
		}
		var seqs []buffer.Seq
		for _, e := range entries {
			seqs = append(seqs, e.Seq)
		}
		if err := r.outbox.Ack(seqs...); err != nil {
			r.t.Fatal(err)
		}
	}
}

func oximetry(serial string, at time.Time, values ...drivers.Value) record.Record {
	b := Bed{Gateway: "gw", Site: "s", Ward: "w", Name: "bed1", Device: "spo2"}
	return b.Observe(drivers.Reading{Device: drivers.DeviceID{Driver: "masimo", Serial: serial}, DeviceTime: at, ReceivedAt: at, Values: values})
}

func metricCodes(ms []record.Metric) []uint32 {
	var out []uint32
	for _, m := range ms {
		out = append(out, m.MDC)
	}
	return out
}

// TestBedContexts walks one bed through the events that decide whether a
// context Bundle is stored before a reading: first reading, same device and
// values, a new value, fewer values, another device, the first device
// again, a connection that puts the context in its backlog, the context
// delivered. TestBedContextDropped covers the outbox dropping it.
func TestBedContexts(t *testing.T) {
	spo2 := drivers.Value{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}
	pr := drivers.Value{MDC: 149530, Ref: "MDC_PULS_OXIM_PULS_RATE", Value: drivers.Float(72), Unit: "/min"}
	pi := drivers.Value{MDC: 150448, Ref: "MDC_PULS_OXIM_PERF_REL", Value: drivers.Float(3.1), Unit: "%"}
	rig := newContextRig(t, buffer.Options{})
	t0 := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		before func()
		record record.Record
		// want is the context stored before the record: nil for none,
		// else its serial and metric codes.
		want        bool
		wantSerial  string
		wantMetrics []uint32
	}{
		{name: "first reading: context first", record: oximetry("A1", t0, spo2, pr),
			want: true, wantSerial: "A1", wantMetrics: []uint32{150456, 149530}},
		{name: "same device and values: none", record: oximetry("A1", t0.Add(time.Second), spo2, pr)},
		{name: "a value not seen before: the context with it added", record: oximetry("A1", t0.Add(2*time.Second), spo2, pi),
			want: true, wantSerial: "A1", wantMetrics: []uint32{150456, 149530, 150448}},
		{name: "fewer values: none", record: oximetry("A1", t0.Add(3*time.Second), pr)},
		{name: "another device: its own context", record: oximetry("B2", t0.Add(4*time.Second), spo2),
			want: true, wantSerial: "B2", wantMetrics: []uint32{150456}},
		{name: "the first device again (a station naming two devices): its context still serves",
			record: oximetry("A1", t0.Add(4500*time.Millisecond), spo2, pr)},
		{name: "a connection came up with the context in its backlog: again",
			before: func() { rig.contexts.split() },
			record: oximetry("B2", t0.Add(5*time.Second), spo2), want: true, wantSerial: "B2", wantMetrics: []uint32{150456}},
		{name: "the context in the new connection's lane: none", record: oximetry("B2", t0.Add(6*time.Second), spo2)},
		{name: "delivered, then another connection: none",
			before: func() { rig.ack(); rig.contexts.split() },
			record: oximetry("B2", t0.Add(7*time.Second), spo2)},
	}
	for _, tt := range tests {
		if tt.before != nil {
			tt.before()
		}
		got := rig.store(tt.record)
		switch {
		case !tt.want && got != nil:
			t.Errorf("%s: context stored (%s %v), want none", tt.name, got.Device.Serial, metricCodes(got.Metrics))
		case tt.want && got == nil:
			t.Errorf("%s: no context stored", tt.name)
		case tt.want && (got.Kind != record.KindContext || got.Device.Serial != tt.wantSerial ||
			!equalCodes(metricCodes(got.Metrics), tt.wantMetrics) || got.Topic != tt.record.Topic):
			t.Errorf("%s: context %q %s %v on %s, want a context of %s %v on %s", tt.name, got.Kind, got.Device.Serial,
				metricCodes(got.Metrics), got.Topic, tt.wantSerial, tt.wantMetrics, tt.record.Topic)
		}
	}
}

func equalCodes(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBedContextDropped: when the outbox, full, drops the oldest entries,
// the context among them, the next reading is preceded by the context
// again; while the context is still stored, drops of other entries change
// nothing.
func TestBedContextDropped(t *testing.T) {
	spo2 := drivers.Value{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}
	rig := newContextRig(t, buffer.Options{MaxBytes: 64 << 10})
	t0 := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	if rig.store(oximetry("A1", t0, spo2)) == nil {
		t.Fatal("no context before the first reading")
	}
	resent := 0
	for i := 1; i < 400; i++ {
		if rig.store(oximetry("A1", t0.Add(time.Duration(i)*time.Second), spo2)) != nil {
			resent++
			if dropped, _ := rig.outbox.Dropped(); dropped == 0 {
				t.Fatalf("reading %d: context stored again before the outbox dropped anything", i)
			}
		}
	}
	dropped, oldest := rig.outbox.Dropped()
	if dropped == 0 {
		t.Fatal("the outbox dropped nothing: the test did not fill it")
	}
	if resent == 0 {
		t.Errorf("the outbox dropped %d entries (oldest now %d), the context among them, and it was never stored again", dropped, oldest)
	}
	// Once per pass through the outbox, not once per reading.
	if resent > 400/10 {
		t.Errorf("context stored again %d times for 400 readings while the outbox was full", resent)
	}
	t.Logf("%d entries dropped, context stored again %d times", dropped, resent)
}

// BenchmarkBedContextCheck measures what deciding whether a reading needs
// its context costs (the steady state: it does not), as a ratio to
// encoding the reading's Bundle, which every reading costs anyway.
func BenchmarkBedContextCheck(b *testing.B) {
	spo2 := drivers.Value{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}
	pr := drivers.Value{MDC: 149530, Ref: "MDC_PULS_OXIM_PULS_RATE", Value: drivers.Float(72), Unit: "/min"}
	pi := drivers.Value{MDC: 150448, Ref: "MDC_PULS_OXIM_PERF_REL", Value: drivers.Float(3.1), Unit: "%"}
	t := &testing.T{}
	rig := newContextRig(t, buffer.Options{})
	rec := oximetry("A1", time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), spo2, pr, pi)
	if rig.store(rec) == nil {
		b.Fatal("no context first")
	}
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	none := func(context.Context, record.Record) (buffer.Seq, error) {
		b.Fatal("context stored again")
		return 0, nil
	}
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := rig.contexts.ensure(ctx, rec, none); err != nil {
			b.Fatal(err)
		}
	}
	check := time.Since(start)
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := enc.Encode(rec, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	encode := time.Since(start)
	b.ReportMetric(float64(check.Nanoseconds())/float64(b.N), "check-ns/reading")
	b.ReportMetric(float64(encode.Nanoseconds())/float64(b.N), "encode-ns/reading")
	b.ReportMetric(check.Seconds()/encode.Seconds(), "check/encode")
}

// TestSplitWaitsForAStoreInProgress: a connection that comes up while a
// record is between its look at the boundary and its sequence number
// splits the outbox after the record, never between the record and the
// context it checked (the record would reach the broker first, on the
// live lane, referring to a context still in the backlog).
func TestSplitWaitsForAStoreInProgress(t *testing.T) {
	spo2 := drivers.Value{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}
	rig := newContextRig(t, buffer.Options{})
	t0 := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	rig.store(oximetry("A1", t0, spo2)) // context 1, record 2

	checked := make(chan struct{}) // the record checked its context
	release := make(chan struct{})
	stored := make(chan buffer.Seq, 1)
	go func() {
		var seq buffer.Seq
		err := rig.contexts.store(context.Background(), oximetry("A1", t0.Add(time.Second), spo2),
			func(ctx context.Context, rec record.Record) (buffer.Seq, error) {
				if rec.Kind == record.KindObservations {
					close(checked)
					<-release
				}
				var err error
				seq, err = rig.append(ctx, rec)
				return seq, err
			})
		if err != nil {
			t.Error(err)
		}
		stored <- seq
	}()
	<-checked
	split := make(chan buffer.Seq, 1)
	go func() { split <- rig.contexts.split() }()
	select {
	case s := <-split:
		t.Fatalf("split at %d while a record checked against the old boundary had no number yet", s)
	case <-time.After(100 * time.Millisecond):
		// Still waiting, as it must; the record may now take its number.
	}
	close(release)
	seq := <-stored
	if s := <-split; s <= seq {
		t.Errorf("split at %d, the record stored as %d: split from its context (seq 1)", s, seq)
	}
}

// TestStoreAfterSplitBeforeBoundary: a record stored after a connection
// split the outbox but before the publisher took the split as its
// boundary sees the split: its context, now in the backlog, is stored
// again before it.
func TestStoreAfterSplitBeforeBoundary(t *testing.T) {
	spo2 := drivers.Value{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"}
	rig := newContextRig(t, buffer.Options{})
	t0 := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	rig.store(oximetry("A1", t0, spo2)) // context 1, record 2
	if got := rig.store(oximetry("A1", t0.Add(time.Second), spo2)); got != nil {
		t.Fatal("a context stored again with nothing changed")
	}
	rig.contexts.split() // the publisher has not set its boundary yet
	if got := rig.store(oximetry("A1", t0.Add(2*time.Second), spo2)); got == nil {
		t.Error("no context stored after the split: the record would go out on the live lane before its context")
	}
}
