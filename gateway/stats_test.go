package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/stats"
)

// startWithHandle runs the gateway and returns its handle once it runs.
func startWithHandle(t *testing.T, ctx context.Context, cfg *config.Config) (*gateway.Gateway, <-chan error) {
	t.Helper()
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan *gateway.Gateway, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, gateway.Options{Config: cfg, Drivers: reg, Logger: slog.New(slog.DiscardHandler),
			Version: "test-1", OnStart: func(g *gateway.Gateway) { started <- g }})
	}()
	select {
	case g := <-started:
		return g, done
	case err := <-done:
		t.Fatalf("gateway stopped before it started: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not start within 10s")
	}
	return nil, nil
}

// retainedDevices keeps the latest device status of each bed.
type retainedDevices struct {
	mu     sync.Mutex
	latest map[string]gateway.DeviceStatus
}

func watchDevices(t *testing.T, url string) *retainedDevices {
	t.Helper()
	r := &retainedDevices{latest: map[string]gateway.DeviceStatus{}}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("devices-" + t.Name()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetOnConnectHandler(func(c pahomqtt.Client) {
			c.Subscribe("bedgate/v1/s/w/+/device", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
				var st gateway.DeviceStatus
				if err := json.Unmarshal(m.Payload(), &st); err != nil {
					t.Errorf("device status %q: %v", m.Payload(), err)
					return
				}
				bed := strings.Split(m.Topic(), "/")[4]
				r.mu.Lock()
				r.latest[bed] = st
				r.mu.Unlock()
			})
		}))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("device watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return r
}

func (r *retainedDevices) get(bed string) gateway.DeviceStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest[bed]
}

func bedOf(s stats.Snapshot, name string) stats.Bed {
	for _, b := range s.Beds {
		if b.Name == name {
			return b
		}
	}
	return stats.Bed{}
}

func vitalOf(b stats.Bed, key string) (stats.Vital, bool) {
	for _, v := range b.Vitals {
		if v.Key == key {
			return v, true
		}
	}
	return stats.Vital{}, false
}

// TestStatsSnapshot runs a gateway with a simulated Masimo monitor on bed1
// and, on bed2, a port that does not exist. The snapshot shows bed1
// connected with its SpO2 and pulse, its readings counted and stored, the
// link up with a PUBACK; bed2 port-missing with the error and a retry
// interval, not "opening". The retained device topics say the same as the
// snapshot, and no snapshot carries the static NHS number.
func TestStatsSnapshot(t *testing.T) {
	broker := brokertest.Start(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(t, t.TempDir(), broker.URL(), startMonitor(t, ctx, 100*time.Millisecond), 64<<20)
	missing := filepath.Join(t.TempDir(), "ttyUSB-not-plugged")
	cfg.Beds[0].NHSNumber = "9434765919"
	cfg.Beds = append(cfg.Beds, config.Bed{Name: "bed2", Driver: "masimo", Port: missing, Device: "bed2"})
	devices := watchDevices(t, broker.URL())
	g, done := startWithHandle(t, ctx, cfg)

	var snap stats.Snapshot
	// A PUBACK alone does not mean a reading was stored: the bed's context
	// Bundle is stored, and may be acknowledged, before its first reading.
	waitUntil(t, "bed1 connected with values, a stored reading and a PUBACK, bed2 port-missing", 10*time.Second, func() bool {
		snap = g.Stats()
		b1, b2 := bedOf(snap, "bed1"), bedOf(snap, "bed2")
		_, spo2 := vitalOf(b1, stats.KeySpO2)
		return b1.State == stats.Connected && spo2 && b1.Readings >= 3 && len(b1.Trend) > 0 && snap.Readings.Stored["obs"] >= 1 &&
			snap.Link.Connected && !snap.Link.LastAck.IsZero() && b2.State == stats.PortMissing
	})
	b1, b2 := bedOf(snap, "bed1"), bedOf(snap, "bed2")
	if snap.Gateway != "gw-dur" || snap.Version != "test-1" || !snap.Outbox.Open || snap.Outbox.MaxBytes != 64<<20 {
		t.Errorf("snapshot header %+v", snap)
	}
	if !b1.Admitted || b2.Admitted {
		t.Errorf("admitted: bed1 %v (static patient), bed2 %v (none)", b1.Admitted, b2.Admitted)
	}
	if b1.Device.Serial == "" || b1.DriverStats.Readings == 0 || b1.LastReading.IsZero() {
		t.Errorf("bed1 device %+v, driver stats %+v, last reading %v", b1.Device, b1.DriverStats, b1.LastReading)
	}
	for _, key := range []string{stats.KeySpO2, stats.KeyPulse} {
		if v, ok := vitalOf(b1, key); !ok || v.Value == nil || v.Unit == "" {
			t.Errorf("bed1 %s: %+v", key, v)
		}
	}
	if snap.Readings.Read < 3 || snap.Readings.Stored["obs"] < 1 {
		t.Errorf("readings %+v", snap.Readings)
	}
	if !strings.Contains(b2.Reason, "no such device") || strings.Contains(b2.Reason, "serialport:") ||
		b2.RetryIn <= 0 || b2.RetryIn > stats.Duration(time.Second) {
		t.Errorf("bed2 reason %q retry in %v: want the missing device, no package prefix, at most 1s", b2.Reason, b2.RetryIn)
	}
	body, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "9434765919") {
		t.Error("the snapshot carries the NHS number")
	}
	if !strings.Contains(string(body), `"retry_in":"`) {
		t.Errorf("retry interval not in human units: %s", body)
	}

	// The device topics are built from the same snapshot.
	waitUntil(t, "device topics", 5*time.Second, func() bool {
		return devices.get("bed1").State == "connected" && devices.get("bed2").State == "port-missing"
	})
	if d := devices.get("bed2"); d.Reason != b2.Reason || d.RetryIn == "" {
		t.Errorf("bed2 device topic %+v, snapshot reason %q", d, b2.Reason)
	}
	if d := devices.get("bed1"); d.Device != b1.Device {
		t.Errorf("bed1 device topic device %+v, snapshot %+v", d.Device, b1.Device)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
