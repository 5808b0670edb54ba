//go:build unix

package holdfile

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAddBurst: a ward's monitors all sending at once, each bed's
// session adding its reading (1.5 KB, a Masimo reading's JSON) and waiting
// for it to be synced, as the gateway's holds do. Beside it, the floor: one
// goroutine writing the same frames and syncing once. It reports CPU per
// entry for both and their ratio (CPU, not wall time: the sync's wait is
// the disk's).
func BenchmarkAddBurst(b *testing.B) {
	const beds = 64
	data := make([]byte, 1500)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	dir := b.TempDir()

	h, err := Open(filepath.Join(dir, "held"))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	var burst, floor time.Duration
	for range b.N {
		start := make(chan struct{})
		var wg sync.WaitGroup
		keys := make([]uint64, beds)
		for i := range beds {
			wg.Go(func() {
				<-start
				k, err := h.Add(data)
				if err != nil {
					b.Error(err)
				}
				keys[i] = k
			})
		}
		before := cpuTime(b)
		close(start)
		wg.Wait()
		burst += cpuTime(b) - before
		for _, k := range keys {
			h.Done(k)
		}
	}

	f, err := os.Create(filepath.Join(dir, "floor"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for i := range b.N {
		before := cpuTime(b)
		for k := range beds {
			if _, err := f.Write(frame(opAdd, uint64(i*beds+k), data)); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		floor += cpuTime(b) - before
		f.Truncate(0)
		f.Seek(0, 0)
	}
	n := float64(b.N * beds)
	b.ReportMetric(float64(burst.Microseconds())/n, "cpu-µs/add")
	b.ReportMetric(float64(floor.Microseconds())/n, "floor-cpu-µs/add")
	b.ReportMetric(float64(burst)/float64(floor), "cpu-ratio")
}
