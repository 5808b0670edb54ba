package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// startMonitor runs a stable simulated Masimo monitor on a PTY and returns
// the PTY's path.
func startMonitor(t *testing.T, ctx context.Context, period time.Duration) string {
	t.Helper()
	return startScenarioMonitor(t, ctx, "stable", period)
}

// startScenarioMonitor runs a simulated Masimo monitor on a PTY, its clock
// 1000 times faster than real time so that it sends readings with distinct
// device times every period, until ctx ends or the test ends.
func startScenarioMonitor(t *testing.T, ctx context.Context, scenario string, period time.Duration) string {
	t.Helper()
	p := simtest.OpenPTY(t)
	stop := simtest.Run(t, "masimo", p, simulators.Options{Scenario: scenario, Serial: "Q0001", Period: period, Now: simtest.FastClock(1000)})
	context.AfterFunc(ctx, stop)
	return p.Path()
}

func testConfig(t *testing.T, dataDir, broker, port string, maxBytes int64) *config.Config {
	t.Helper()
	return &config.Config{
		Gateway: config.Gateway{ID: "gw-dur", Site: "s", Ward: "w", DataDir: dataDir, Format: "fhir", DeviceTimezone: "UTC"},
		MQTT:    config.MQTT{Broker: broker, Plaintext: true, ClientID: "gw-dur-" + t.Name(), KeepAlive: 30 * time.Second, Window: 64},
		Buffer:  config.Buffer{MaxBytes: maxBytes, MaxAge: time.Hour},
		// The monitor's clock runs fast: its offset is expected.
		Validation: config.Validation{MaxClockOffset: 1000 * time.Hour},
		Beds:       []config.Bed{{Name: "bed1", Driver: "masimo", Port: port, Device: "bed1"}},
	}
}

// statusWatcher keeps the latest retained gateway status.
type statusWatcher struct {
	mu     sync.Mutex
	latest gateway.GatewayStatus
	obs    int
}

func watch(t *testing.T, url string) *statusWatcher {
	t.Helper()
	w := &statusWatcher{}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("watch-" + t.Name()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetOnConnectHandler(func(c pahomqtt.Client) {
			c.Subscribe("bedgate/v1/s/gateway/gw-dur/status", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
				var st gateway.GatewayStatus
				if err := json.Unmarshal(m.Payload(), &st); err != nil {
					t.Errorf("status payload %q: %v", m.Payload(), err)
					return
				}
				w.mu.Lock()
				w.latest = st
				w.mu.Unlock()
			})
			c.Subscribe("bedgate/v1/s/w/bed1/obs", 1, func(pahomqtt.Client, pahomqtt.Message) {
				w.mu.Lock()
				w.obs++
				w.mu.Unlock()
			})
		}))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return w
}

// reset forgets the latest status, so that the next one seen is new.
func (w *statusWatcher) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latest = gateway.GatewayStatus{}
}

func (w *statusWatcher) get() (gateway.GatewayStatus, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.latest, w.obs
}

func runGateway(t *testing.T, ctx context.Context, cfg *config.Config) <-chan error {
	t.Helper()
	return runGatewayLogging(t, ctx, cfg, slog.NewTextHandler(testLog(io.Discard), nil))
}

// runGatewayLogging runs the gateway with its log going to h.
func runGatewayLogging(t *testing.T, ctx context.Context, cfg *config.Config, h slog.Handler) <-chan error {
	t.Helper()
	return runGatewayWith(t, ctx, gateway.Options{Config: cfg, Logger: slog.New(h)})
}

// runGatewayWith runs the gateway with opts and, unless opts has them, the
// shipped drivers and a logger that discards.
func runGatewayWith(t *testing.T, ctx context.Context, opts gateway.Options) <-chan error {
	t.Helper()
	if opts.Drivers == nil {
		reg, err := all.Registry()
		if err != nil {
			t.Fatal(err)
		}
		opts.Drivers = reg
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testLog(io.Discard), nil))
	}
	done := make(chan error, 1)
	go func() { done <- gateway.Run(ctx, opts) }()
	return done
}

// startGateway runs the gateway as runGatewayWith does until stop, which
// cancels it and checks that it returns, without error, within 10 s.
func startGateway(t *testing.T, opts gateway.Options) (ctx context.Context, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := runGatewayWith(t, ctx, opts)
	return ctx, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway.Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("gateway.Run did not return within 10s of cancel")
		}
	}
}

// endOutage checks that the gateway still runs, restarts the broker and
// returns the first status that reports drops for reason.
func endOutage(t *testing.T, broker *brokertest.Broker, w *statusWatcher, done <-chan error, reason string) gateway.GatewayStatus {
	t.Helper()
	return endOutageWhen(t, broker, w, done, "drops for "+reason, func(o *gateway.OutboxStatus) bool { return o.Dropped[reason] > 0 })
}

// endOutageWhen is endOutage waiting for a status whose outbox meets cond.
func endOutageWhen(t *testing.T, broker *brokertest.Broker, w *statusWatcher, done <-chan error, what string, cond func(*gateway.OutboxStatus) bool) gateway.GatewayStatus {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("gateway stopped during the outage: %v", err)
	default:
	}
	broker.Restart()
	waitUntil(t, "a status that reports "+what, 20*time.Second, func() bool {
		st, _ := w.get()
		return st.State == "online" && st.Outbox != nil && cond(st.Outbox)
	})
	st, _ := w.get()
	return st
}

// logWatch keeps the messages logged (gateway.LogWatch, in an internal
// test file so that the package's own tests use it too).
type logWatch = gateway.LogWatch

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQuotaDuringOutage: a 1 MiB outbox and a broker that is down while a
// monitor sends fast: the gateway stays up, the oldest entries are dropped,
// and after the broker returns the status topic reports the drops and the
// rest is delivered.
func TestQuotaDuringOutage(t *testing.T) {
	broker := brokertest.Start(t, "")
	w := watch(t, broker.URL())
	broker.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startMonitor(t, ctx, 2*time.Millisecond)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 1<<20)
	// With the broker down the admission feed is unknown: readings wait
	// association.max_wait (held on disk), then go to the outbox without a
	// patient. A short wait lets the outage fill the outbox.
	cfg.Association.MaxWait = time.Second
	log := &logWatch{}
	done := runGatewayLogging(t, ctx, cfg, log)

	// About 1 KiB a record: a few thousand readings overflow 1 MiB. Wait
	// until the outbox has dropped for its bound more than once, so the
	// gateway has gone on past the first drop.
	waitUntil(t, "the outbox to drop its oldest entries twice", 30*time.Second, func() bool {
		return log.Count("buffer: full, dropped oldest entries") >= 2
	})
	st := endOutage(t, broker, w, done, "full")
	if st.Outbox.Bytes > 1<<20 {
		t.Errorf("outbox holds %d bytes, over its 1 MiB bound", st.Outbox.Bytes)
	}
	waitUntil(t, "observations after the outage", 20*time.Second, func() bool { _, n := w.get(); return n > 100 })
	t.Logf("dropped %d entries for the quota; %d observation messages delivered", st.Outbox.Dropped["full"], func() int { _, n := w.get(); return n }())
	cancel()
	if err := <-done; err != nil {
		t.Errorf("gateway.Run: %v", err)
	}
}

// TestCorruptStoreAtStart: garbage in the outbox directory at start is moved
// aside and reported; the gateway starts and delivers.
func TestCorruptStoreAtStart(t *testing.T) {
	broker := brokertest.Start(t, "")
	w := watch(t, broker.URL())
	dataDir := t.TempDir()
	outbox := filepath.Join(dataDir, "outbox")
	if err := os.MkdirAll(outbox, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"MANIFEST": "not a manifest", "000001.vlog": "garbage", "000002.sst": "\x00\x01garbage"} {
		if err := os.WriteFile(filepath.Join(outbox, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startMonitor(t, ctx, 50*time.Millisecond)
	done := runGateway(t, ctx, testConfig(t, dataDir, broker.URL(), port, 16<<20))

	waitUntil(t, "observations and a status naming the moved store", 20*time.Second, func() bool {
		st, n := w.get()
		return n > 5 && st.Outbox != nil && st.Outbox.RecoveredFrom != ""
	})
	st, _ := w.get()
	if _, err := os.Stat(st.Outbox.RecoveredFrom); err != nil {
		t.Errorf("the status names %q as where the bad store went, but: %v", st.Outbox.RecoveredFrom, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("gateway.Run: %v", err)
	}
}

// testLog is where the gateway's log goes in tests: w, or stderr with
// BEDGATE_TEST_LOG=1.
func testLog(w io.Writer) io.Writer {
	if os.Getenv("BEDGATE_TEST_LOG") == "1" {
		return os.Stderr
	}
	return w
}
