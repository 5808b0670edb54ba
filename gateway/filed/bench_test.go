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
// durable cost, as a ratio in one run: 16 concurrent appenders each add a
// pulse oximeter's reading to the ledger (group-committed syncs), against
// the same appenders appending the reading's JSON to the outbox.
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
	var ledgerSec, outboxSec float64
	for range b.N {
		l, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		ledgerSec += run(func(i int) error {
			r := rec
			r.ReceivedAt = r.ReceivedAt.Add(time.Duration(i) * time.Second)
			return l.Add(Entry{Origin: r.ReceivedAt.String(), Record: r})
		})
		l.Close()
		out, err := buffer.Open(b.TempDir(), buffer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		outboxSec += run(func(int) error { _, err := out.Append(context.Background(), payload); return err })
		out.Close()
	}
	n := float64(b.N * writes)
	b.ReportMetric(n/ledgerSec, "ledger-adds/s")
	b.ReportMetric(n/outboxSec, "outbox-appends/s")
	b.ReportMetric(ledgerSec/outboxSec, "ledger/outbox-time")
}
