package gateway_test

import (
	"context"
	"encoding/binary"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/publish"
)

// backlogReadings is the backlog BenchmarkBacklogMillion builds (a million
// takes some 5 minutes on a busy 2-core machine; a smaller one compares
// settings sooner).
var backlogReadings = flag.Int("backlog.readings", 1_000_000, "readings BenchmarkBacklogMillion appends")

// backlogBaseline runs the engine-defaults baseline of BenchmarkBacklogMillion.
var backlogBaseline = flag.Bool("backlog.baseline", true, "BenchmarkBacklogMillion: also store the backlog in Badger with its own defaults")

// BenchmarkBacklogMillion appends a million (-backlog.readings) realistic
// records (a Masimo reading as the gateway stores it: a FHIR Bundle in a
// compressed envelope) from 30 beds at once, as after a long outage, and
// reports the disk bytes per reading, the peak resident memory of the
// process and the append rate, with the memory limit `bedgate run` sets.
// The baseline, in the same run and after it, stores the same records in
// Badger with its own defaults (no memory limit), every group of up to 64
// synced, and the benchmark reports the ratio of the outbox's peak
// anonymous memory to the baseline's.
func BenchmarkBacklogMillion(b *testing.B) {
	readings := *backlogReadings
	for i := 0; i < b.N; i++ {
		mem := gateway.LimitMemory()
		ours := backlogOutbox(b, readings)
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(100)
		b.ReportMetric(float64(mem.Limit)/(1<<20), "memory-limit-MiB")
		b.ReportMetric(ours.diskBytes/float64(readings), "disk-bytes/reading")
		b.ReportMetric(ours.payloadBytes/float64(readings), "payload-bytes/reading")
		b.ReportMetric(ours.peak.anon, "peak-anon-RSS-MiB")
		b.ReportMetric(ours.peak.file, "peak-file-RSS-MiB")
		b.ReportMetric(ours.peak.heap, "peak-heap-MiB")
		b.ReportMetric(ours.appendsPerSec, "appends/s")
		if !*backlogBaseline {
			continue
		}
		debug.FreeOSMemory()
		base := backlogEngineDefaults(b, readings)
		b.ReportMetric(base.peak.anon, "engine-defaults-peak-anon-RSS-MiB")
		b.ReportMetric(base.appendsPerSec, "engine-defaults-appends/s")
		b.ReportMetric(ours.peak.anon/base.peak.anon, "anon-RSS-ratio")
	}
}

// backlogRun is what storing one backlog measured.
type backlogRun struct {
	peak                    peakMiB
	appendsPerSec           float64
	diskBytes, payloadBytes float64
}

// backlogOutbox stores the backlog in the outbox with bedgate's options.
func backlogOutbox(b *testing.B, readings int) backlogRun {
	dir := b.TempDir()
	buf, err := buffer.Open(dir, buffer.Options{MaxBytes: 8 << 30, MaxAge: 30 * 24 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	run := feedBacklog(b, readings, func(encode func(seq uint64) ([]byte, error)) error {
		_, err := buf.AppendFunc(context.Background(), func(seq buffer.Seq) ([]byte, error) { return encode(uint64(seq)) })
		return err
	})
	st := buf.Stats()
	if st.Entries != int64(readings) {
		b.Fatalf("outbox holds %d entries, want %d", st.Entries, readings)
	}
	if err := buf.Close(); err != nil {
		b.Fatal(err)
	}
	run.diskBytes, run.payloadBytes = float64(dirSize(b, dir)), float64(st.Bytes)
	return run
}

// backlogEngineDefaults stores the backlog in Badger opened with its own
// defaults: each appender encodes its record under the next sequence
// number, and one writer commits whatever up to 64 appenders queued in one
// transaction, syncs it, and only then answers them.
func backlogEngineDefaults(b *testing.B, readings int) backlogRun {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	type write struct {
		key, value []byte
		done       chan error
	}
	queue := make(chan write, 64)
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for w := range queue {
			group := []write{w}
			for len(group) < 64 && len(queue) > 0 {
				group = append(group, <-queue)
			}
			err := db.Update(func(txn *badger.Txn) error {
				for _, w := range group {
					if err := txn.Set(w.key, w.value); err != nil {
						return err
					}
				}
				return nil
			})
			if err == nil {
				err = db.Sync()
			}
			for _, w := range group {
				w.done <- err
			}
		}
	}()
	var next atomic.Uint64
	run := feedBacklog(b, readings, func(encode func(seq uint64) ([]byte, error)) error {
		seq := next.Add(1)
		v, err := encode(seq)
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		queue <- write{binary.BigEndian.AppendUint64([]byte{'e'}, seq), v, done}
		return <-done
	})
	close(queue)
	<-writer
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return run
}

// feedBacklog has 30 beds store readings records at once through store,
// which calls encode with the sequence number the record is stored under,
// and measures the peak memory and the rate.
func feedBacklog(b *testing.B, readings int, store func(encode func(seq uint64) ([]byte, error)) error) backlogRun {
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		b.Fatal(err)
	}
	const beds = 30
	sampler := startRSSSampler()
	start := time.Now()
	var wg sync.WaitGroup
	for bed := 0; bed < beds; bed++ {
		wg.Go(func() {
			g := gateway.Bed{Gateway: "gw", Site: "s", Ward: "w", Name: "bed" + strconv.Itoa(bed), Device: "d"}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for n := bed; n < readings; n += beds {
				rec := g.Observe(sampleReading(t0.Add(time.Duration(n/beds) * time.Second)))
				// What the gateway stores: the FHIR Bundle with its
				// sequence number, in an envelope.
				err := store(func(seq uint64) ([]byte, error) {
					body, err := enc.Encode(rec, seq)
					if err != nil {
						return nil, err
					}
					return publish.Envelope(rec.Topic, body), nil
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return backlogRun{peak: sampler.stop(), appendsPerSec: float64(readings) / elapsed.Seconds()}
}

func sampleReading(at time.Time) drivers.Reading {
	return drivers.Reading{
		Device:     drivers.DeviceID{Driver: "masimo", Serial: "0000093112"},
		DeviceTime: at, ReceivedAt: at.Add(300 * time.Millisecond),
		DeviceStatus: "ALARM=0000 EXC=000800",
		Values: []drivers.Value{
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Label: "SPO2", Value: drivers.Float(97), Unit: "%"},
			{MDC: 149530, Ref: "MDC_PULS_OXIM_PULS_RATE", Label: "BPM", Value: drivers.Float(72), Unit: "/min"},
			{MDC: 150448, Ref: "MDC_PULS_OXIM_PERF_REL", Label: "PI", Value: drivers.Float(3.1), Unit: "%"},
			{MDC: 160128, Ref: "MDC_CONC_HB_CO_GEN", Label: "SPCO", Unit: "%", Status: drivers.Unavailable},
			{Label: "PVI", Unit: "%", Status: drivers.Unavailable},
		},
	}
}

func dirSize(b *testing.B, dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}

// rssSampler records the peak anonymous and file-backed resident memory
// of the process (Linux /proc/self/status RssAnon and RssFile): anonymous
// memory is what the gateway really holds; file-backed pages are Badger's
// memory-mapped tables, which the kernel drops under memory pressure. It
// also records the peak of the Go heap's objects (runtime/metrics), live
// and not yet collected, to tell what the process holds from the
// collector's headroom.
type rssSampler struct {
	done     chan struct{}
	finished chan struct{}
	peak     peakMiB
}

// peakMiB is what an rssSampler saw at most, in MiB.
type peakMiB struct{ anon, file, heap float64 }

func startRSSSampler() *rssSampler {
	s := &rssSampler{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			anon, file := rssMiB()
			metrics.Read(heap)
			s.peak.anon, s.peak.file = max(s.peak.anon, anon), max(s.peak.file, file)
			s.peak.heap = max(s.peak.heap, float64(heap[0].Value.Uint64())/(1<<20))
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() peakMiB {
	close(s.done)
	<-s.finished
	return s.peak
}

func rssMiB() (anon, file float64) {
	if runtime.GOOS != "linux" {
		return 0, 0
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "RssAnon:":
			anon = kb / 1024
		case "RssFile:":
			file = kb / 1024
		}
	}
	return anon, file
}
