package filed

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// BenchmarkLedgerVsOutbox reports what the ledger adds to a reading's
// durable cost, as the gateway pays it, as a ratio in one run: 16
// concurrent appenders each write a pulse oximeter's reading to the ledger
// and append it to an outbox that syncs the ledger before each group of
// appends (buffer.Options.BeforeWrite), against the same appenders
// appending to an outbox alone.
func BenchmarkLedgerVsOutbox(b *testing.B) {
	const writes, appenders = 5000, 16
	rec := recordtest.PulseOximetry()
	payload, err := json.Marshal(rec)
	if err != nil {
		b.Fatal(err)
	}
	run := func(add func(i int) error) float64 {
		start := time.Now()
		var wg sync.WaitGroup
		for a := range appenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := a; n < writes; n += appenders {
					if err := add(n); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start).Seconds()
	}
	var withSec, aloneSec float64
	for range b.N {
		l, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		out, err := buffer.Open(b.TempDir(), buffer.Options{BeforeWrite: func() {
			if err := l.Sync(); err != nil {
				b.Error(err)
			}
		}})
		if err != nil {
			b.Fatal(err)
		}
		withSec += run(func(i int) error {
			r := rec
			r.ReceivedAt = r.ReceivedAt.Add(time.Duration(i) * time.Second)
			if err := l.Write(Entry{Origin: r.ReceivedAt.String(), Record: r}); err != nil {
				return err
			}
			_, err := out.Append(context.Background(), payload)
			return err
		})
		out.Close()
		l.Close()
		alone, err := buffer.Open(b.TempDir(), buffer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		aloneSec += run(func(int) error { _, err := alone.Append(context.Background(), payload); return err })
		alone.Close()
	}
	n := float64(b.N * writes)
	b.ReportMetric(n/withSec, "with-ledger/s")
	b.ReportMetric(n/aloneSec, "outbox-alone/s")
	b.ReportMetric(withSec/aloneSec, "with-ledger/alone-time")
}
