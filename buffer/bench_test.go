package buffer

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// benchPayload is a reading-sized payload (an encoded FHIR bundle is 1-3 KiB).
var benchPayload = make([]byte, 1024)

// BenchmarkAppend measures durable appends from many concurrent appenders,
// the way device sessions feed the gateway. Compare readings/s with
// BenchmarkBadgerBatchSync, which writes the same payloads straight to the
// engine. Sub-benchmarks compare the two ways of making a group durable.
func BenchmarkAppend(b *testing.B) {
	modes := []struct {
		name string
		o    Options
	}{
		{"group-sync", Options{}},
		{"group-sync-2ms-window", Options{SyncWindow: 2 * time.Millisecond}},
		{"engine-sync-on-commit", Options{syncOnCommit: true}},
		{"engine-sync-on-commit-2ms-window", Options{SyncWindow: 2 * time.Millisecond, syncOnCommit: true}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			buf := open(b, b.TempDir(), m.o)
			b.SetParallelism(8) // 8 appenders per CPU
			b.SetBytes(int64(len(benchPayload)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := buf.Append(context.Background(), benchPayload); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			s := buf.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
			if s.Syncs > 0 {
				b.ReportMetric(float64(s.Appended)/float64(s.Syncs), "appends/sync")
			}
		})
	}
}

// BenchmarkBadgerBatchSync is the baseline: the same payloads written to
// the engine directly in batches, each batch followed by a sync, with the
// same tuning. batch=1 is what one sync per Append would cost.
func BenchmarkBadgerBatchSync(b *testing.B) {
	o, err := Options{Logger: quietLogger()}.withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	for _, batch := range []int{1, 16, 64} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			db, err := badger.Open(o.badgerOptions(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			b.SetBytes(int64(len(benchPayload)))
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				txn := db.NewTransaction(true)
				for j := i; j < min(i+batch, b.N); j++ {
					v := encodeValue(o.Now(), 0, benchPayload)
					if err := txn.Set(seqKey(entryPrefix, Seq(j+1)), v); err != nil {
						b.Fatal(err)
					}
				}
				if err := txn.Commit(); err != nil {
					b.Fatal(err)
				}
				if err := db.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
		})
	}
}

// BenchmarkDrain measures the publisher side: Next in batches of 100 and
// Ack, over backlogs of up to 10,000 entries refilled outside the timer.
func BenchmarkDrain(b *testing.B) {
	buf := open(b, b.TempDir(), Options{})
	ctx := context.Background()
	b.SetBytes(int64(len(benchPayload)))
	b.ResetTimer()
	for done := 0; done < b.N; {
		if buf.Stats().Entries == 0 {
			b.StopTimer()
			fill(b, buf, min(10000, b.N-done))
			b.StartTimer()
		}
		es, err := buf.Next(ctx, 100)
		if err != nil {
			b.Fatal(err)
		}
		seqs := make([]Seq, len(es))
		for i, e := range es {
			seqs[i] = e.Seq
		}
		if err := buf.Ack(seqs...); err != nil {
			b.Fatal(err)
		}
		done += len(es)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}

// fill appends n payloads from 64 goroutines.
func fill(b testing.TB, buf *Buffer, n int) {
	var wg sync.WaitGroup
	per := (n + 63) / 64
	for w := range 64 {
		wg.Go(func() {
			for i := w * per; i < min((w+1)*per, n); i++ {
				if _, err := buf.Append(context.Background(), benchPayload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkAppendVsBadger runs both sides in one benchmark and reports
// their ratio: durable appends through the buffer from 16 concurrent
// appenders (default options: group commit without a window), against
// the same payloads written straight to the engine in batches of 16, each
// batch synced. Each iteration writes ratioWrites payloads both ways.
func BenchmarkAppendVsBadger(b *testing.B) {
	const ratioWrites, appenders = 20000, 16
	var buffered, raw float64 // seconds
	for i := 0; i < b.N; i++ {
		buf := open(b, b.TempDir(), Options{})
		start := time.Now()
		var wg sync.WaitGroup
		for a := 0; a < appenders; a++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := a; n < ratioWrites; n += appenders {
					if _, err := buf.Append(context.Background(), benchPayload); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		buffered += time.Since(start).Seconds()

		o, err := Options{Logger: quietLogger()}.withDefaults()
		if err != nil {
			b.Fatal(err)
		}
		db, err := badger.Open(o.badgerOptions(b.TempDir()))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		for n := 0; n < ratioWrites; n += appenders {
			txn := db.NewTransaction(true)
			for j := n; j < min(n+appenders, ratioWrites); j++ {
				if err := txn.Set(seqKey(entryPrefix, Seq(j+1)), encodeValue(o.Now(), 0, benchPayload)); err != nil {
					b.Fatal(err)
				}
			}
			if err := txn.Commit(); err != nil {
				b.Fatal(err)
			}
			if err := db.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		raw += time.Since(start).Seconds()
		db.Close()
	}
	n := float64(b.N * ratioWrites)
	b.ReportMetric(n/buffered, "buffer-appends/s")
	b.ReportMetric(n/raw, "badger-batch16-writes/s")
	b.ReportMetric(raw/buffered, "ratio")
}
