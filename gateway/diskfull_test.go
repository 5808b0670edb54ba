package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/buffer/tmpfstest"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/epr"
)

// seqWatcher records the sequence numbers of the Bundles the EPR receives.
type seqWatcher struct {
	mu   sync.Mutex
	seqs map[uint64]bool
}

func watchSeqs(t *testing.T, url string) *seqWatcher {
	t.Helper()
	w := &seqWatcher{seqs: make(map[uint64]bool)}
	// A persistent session: the broker keeps what arrives while this
	// subscriber reconnects after the broker's restart.
	// The subscriptions must be in the session before the test stops the
	// broker: the first connection's are waited for.
	subscribed := make(chan struct{}, 1)
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("seqs-" + t.Name()).SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(200 * time.Millisecond).
		SetOnConnectHandler(func(c pahomqtt.Client) {
			obsTok := c.Subscribe("bedgate/v1/s/w/bed1/obs", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
				// Context Bundles take sequence numbers too.
				msg, err := epr.ParseMessage(m.Payload())
				if err != nil || msg.Seq == 0 || len(msg.Observations) == 0 && !msg.IsContext() {
					t.Errorf("observation message %d: %v", msg.Seq, err)
					return
				}
				w.mu.Lock()
				w.seqs[msg.Seq] = true
				w.mu.Unlock()
			})
			// Quarantined values take sequence numbers too.
			rejTok := c.Subscribe("bedgate/v1/s/w/bed1/rejected", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
				var q gateway.QuarantineMessage
				if err := json.Unmarshal(m.Payload(), &q); err != nil {
					t.Errorf("quarantine message: %v", err)
					return
				}
				w.mu.Lock()
				w.seqs[q.Seq] = true
				w.mu.Unlock()
			})
			if obsTok.WaitTimeout(5*time.Second) && rejTok.WaitTimeout(5*time.Second) {
				select {
				case subscribed <- struct{}{}:
				default:
				}
			}
		}))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatal("watcher: subscriptions not granted within 10 s")
	}
	return w
}

// missing returns how many of 1..n have not arrived.
func (w *seqWatcher) missing(n uint64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := 0
	for s := uint64(1); s <= n; s++ {
		if !w.seqs[s] {
			m++
		}
	}
	return m
}

// TestDiskFullDuringOutage runs the gateway with its data directory on a
// real 8 MiB tmpfs, a monitor sending 500 readings a second and the broker
// down: the disk fills to the guard, readings are refused and counted
// (dropped "disk-full") while the gateway runs on; once the broker returns
// every stored reading is delivered, without a gap. Then, stopped, its disk
// filled to the last block by something else, it starts again, drains and
// takes readings again once there is room.
func TestDiskFullDuringOutage(t *testing.T) {
	mnt := tmpfstest.Mount(t, "8m")
	broker := brokertest.Start(t, "")
	w := watch(t, broker.URL())
	seqs := watchSeqs(t, broker.URL())
	broker.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startMonitor(t, ctx, 2*time.Millisecond)
	cfg := testConfig(t, mnt, broker.URL(), port, 256<<20)
	// With the broker down the admission feed is unknown: readings are held
	// (on the same disk, within the outbox's reserve) for association.max_wait,
	// then stored without a patient.
	cfg.Association.MaxWait = time.Second
	runCtx, stop := context.WithCancel(ctx)
	logs := &logWatch{}
	done := runGatewayWith(t, runCtx, gateway.Options{Config: cfg, Logger: slog.New(logs)})

	waitUntil(t, "the outbox to refuse readings for space", 60*time.Second, func() bool {
		return logs.Saw("buffer: disk nearly full, refusing new entries")
	})
	st := endOutage(t, broker, w, done, "disk-full")
	stored := st.Outbox.NextSeq - 1
	t.Logf("outage: %d readings stored, %d refused for space (%d bytes free, reserve %d)",
		stored, st.Outbox.Dropped["disk-full"], st.Outbox.DiskFree, st.Outbox.DiskReserve)
	if st.Outbox.Dropped["full"] != 0 || st.Outbox.Dropped["age"] != 0 {
		t.Fatalf("entries dropped from the outbox: %v; only new readings may be refused", st.Outbox.Dropped)
	}
	deadline := time.Now().Add(30 * time.Second)
	for seqs.missing(stored) > 0 {
		if time.Now().After(deadline) {
			seqs.mu.Lock()
			var miss []uint64
			for s := uint64(1); s <= stored && len(miss) < 20; s++ {
				if !seqs.seqs[s] {
					miss = append(miss, s)
				}
			}
			seqs.mu.Unlock()
			now, _ := w.get()
			t.Fatalf("%d of the %d readings stored during the outage did not arrive in 30 s, first %v; outbox now %+v", seqs.missing(stored), stored, miss, now.Outbox)
		}
		time.Sleep(50 * time.Millisecond)
	}
	inc := st.Outbox.Incarnation
	// The reserve file beside the outbox, released if something eats into
	// the reserve, is made again once the drained store leaves room for it;
	// it is what lets the gateway start on a disk that then fills up.
	waitUntil(t, "the outbox's reserve file", 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(mnt, "outbox.reserve"))
		return err == nil
	})

	stop()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	filler := filepath.Join(mnt, "filler")
	tmpfstest.Fill(t, filler)
	w.reset()
	done = runGateway(t, ctx, cfg)
	waitUntil(t, "the gateway online again on a full disk", 30*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("gateway.Run on a full disk: %v", err)
		default:
		}
		st, _ := w.get()
		return st.State == "online" && st.Outbox != nil
	})
	st, _ = w.get()
	if st.Outbox.Incarnation != inc || st.Outbox.RecoveredFrom != "" {
		t.Fatalf("restart on a full disk replaced the outbox: %+v", st.Outbox)
	}
	backlog := st.Outbox.NextSeq - 1
	waitUntil(t, "the backlog stored before the restart to arrive", 30*time.Second, func() bool { return seqs.missing(backlog) == 0 })
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "new readings delivered once the disk has room", 30*time.Second, func() bool {
		st, _ := w.get()
		return st.Outbox != nil && st.Outbox.NextSeq > stored+50 && seqs.missing(st.Outbox.NextSeq-1) == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("gateway.Run: %v", err)
	}
}
