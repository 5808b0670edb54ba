package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
)

// TestClockJumpDuringOutage: the gateway's clock steps while a backlog
// waits for the broker (max_age 1h): a forward NTP jump of a year, and a box
// that booted with its clock at 1970 before NTP set it. Nothing expires;
// every stored reading is delivered once the broker returns.
func TestClockJumpDuringOutage(t *testing.T) {
	tests := []struct {
		name          string
		before, after time.Duration // the clock's offset from real time
	}{
		{"forward NTP jump of a year", 0, 365 * 24 * time.Hour},
		{"clock at 1970 until NTP", -time.Since(time.Unix(0, 0)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broker := brokertest.Start(t, "")
			w := watch(t, broker.URL())
			seqs := watchSeqs(t, broker.URL())
			broker.Stop()

			var offset atomic.Int64
			offset.Store(int64(tt.before))
			now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dataDir := t.TempDir()
			cfg := testConfig(t, dataDir, broker.URL(), startMonitor(t, ctx, 5*time.Millisecond), 64<<20)
			cfg.Association.MaxWait = time.Second // the feed is down with the broker
			done := runGatewayWith(t, ctx, gateway.Options{Config: cfg, Now: now})

			waitUntil(t, "a backlog of 200 readings", 30*time.Second, func() bool { return storedNext(dataDir) > 200 })
			offset.Store(int64(tt.after))
			st := endOutageWhen(t, broker, w, done, "the backlog", func(o *gateway.OutboxStatus) bool { return o.NextSeq > 200 }).Outbox
			if st.Dropped["age"] != 0 || st.OldestAgeSec > 3600 {
				t.Fatalf("after the clock step: dropped %v, oldest age %.0f s; want nothing expired", st.Dropped, st.OldestAgeSec)
			}
			stored := st.NextSeq - 1
			waitUntil(t, "every reading stored to arrive", 30*time.Second, func() bool { return seqs.missing(stored) == 0 })
			cancel()
			if err := <-done; err != nil {
				t.Errorf("gateway.Run: %v", err)
			}
		})
	}
}

// storedNext reads the next sequence number from the outbox's state file,
// which it writes every second (0 before the first).
func storedNext(dataDir string) uint64 {
	b, err := os.ReadFile(filepath.Join(dataDir, "outbox", "bedgate-state"))
	if err != nil {
		return 0
	}
	var st struct {
		Next uint64 `json:"next"`
	}
	_ = json.Unmarshal(b, &st)
	return st.Next
}
