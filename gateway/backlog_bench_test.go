package gateway_test

import (
	"context"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/publish"
)

// backlogReadings is the backlog BenchmarkBacklogMillion builds (a million
// takes some 6 minutes on a busy 2-core machine; a smaller one compares
// settings sooner).
var backlogReadings = flag.Int("backlog.readings", 1_000_000, "readings BenchmarkBacklogMillion appends")

// BenchmarkBacklogMillion appends a million (-backlog.readings) realistic
// records (a Masimo reading as the gateway stores it: a FHIR Bundle in a compressed envelope)
// from 30 beds at once, as after a long outage, and reports the disk bytes
// per reading, the peak resident memory of the process, and the append rate.
func BenchmarkBacklogMillion(b *testing.B) {
	readings := *backlogReadings
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		buf, err := buffer.Open(dir, buffer.Options{MaxBytes: 8 << 30, MaxAge: 30 * 24 * time.Hour,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		enc, err := fhir.New(fhir.Options{})
		if err != nil {
			b.Fatal(err)
		}
		const beds = 30
		sampler := startRSSSampler()
		start := time.Now()
		var wg sync.WaitGroup
		for bed := 0; bed < beds; bed++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g := gateway.Bed{Gateway: "gw", Site: "s", Ward: "w", Name: "bed" + strconv.Itoa(bed), Device: "d"}
				t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				for n := bed; n < readings; n += beds {
					at := t0.Add(time.Duration(n/beds) * time.Second)
					rec := g.Observe(sampleReading(at))
					// What the gateway stores: the FHIR Bundle with its
					// sequence number, in an envelope.
					_, err := buf.AppendFunc(context.Background(), func(seq buffer.Seq) ([]byte, error) {
						body, err := enc.Encode(rec, uint64(seq))
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
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		peakAnon, peakFile := sampler.stop()
		st := buf.Stats()
		if st.Entries != int64(readings) {
			b.Fatalf("outbox holds %d entries, want %d", st.Entries, readings)
		}
		if err := buf.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(dirSize(b, dir))/float64(readings), "disk-bytes/reading")
		b.ReportMetric(float64(st.Bytes)/float64(readings), "payload-bytes/reading")
		b.ReportMetric(peakAnon, "peak-anon-RSS-MiB")
		b.ReportMetric(peakFile, "peak-file-RSS-MiB")
		b.ReportMetric(float64(readings)/elapsed.Seconds(), "appends/s")
	}
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
// memory-mapped tables, which the kernel drops under memory pressure.
type rssSampler struct {
	done               chan struct{}
	finished           chan struct{}
	peakAnon, peakFile float64
}

func startRSSSampler() *rssSampler {
	s := &rssSampler{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			anon, file := rssMiB()
			s.peakAnon, s.peakFile = max(s.peakAnon, anon), max(s.peakFile, file)
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() (anon, file float64) {
	close(s.done)
	<-s.finished
	return s.peakAnon, s.peakFile
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
