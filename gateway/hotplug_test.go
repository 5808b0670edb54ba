package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers"
	drvall "github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/simulators"
	simmasimo "github.com/bedgate/bedgate/simulators/masimo"
	"github.com/bedgate/bedgate/simulators/pty"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// plugEvent is a device status message and when the subscriber got it.
type plugEvent struct {
	status gateway.DeviceStatus
	at     time.Time
}

// plugWatcher subscribes to what a gateway publishes, as the EPR and a ward
// dashboard would.
type plugWatcher struct {
	mu      sync.Mutex
	obs     map[string]int // observation id → times received
	events  []plugEvent
	errs    []string
	changed chan struct{}
}

func watchPlug(t *testing.T, broker, deviceTopic string) *plugWatcher {
	t.Helper()
	w := &plugWatcher{obs: map[string]int{}, changed: make(chan struct{}, 1)}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker).SetClientID("hotplug-plugWatcher").
		SetCleanSession(true).SetOrderMatters(true))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("plugWatcher: connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.SubscribeMultiple(map[string]byte{"bedgate/v1/+/+/+/obs": 1, deviceTopic: 1}, func(_ pahomqtt.Client, m pahomqtt.Message) {
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		if m.Topic() == deviceTopic {
			var st gateway.DeviceStatus
			if err := json.Unmarshal(m.Payload(), &st); err != nil {
				w.errs = append(w.errs, err.Error())
			} else {
				w.events = append(w.events, plugEvent{st, now})
			}
		} else {
			obs, err := epr.Parse(m.Payload())
			if err != nil {
				w.errs = append(w.errs, err.Error())
			}
			for _, o := range obs {
				w.obs[o.ID]++
			}
		}
		select {
		case w.changed <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("plugWatcher: subscribe: %v", tok.Error())
	}
	return w
}

// waitFor waits until cond holds on the watcher's state.
func (w *plugWatcher) waitFor(t *testing.T, what string, within time.Duration, cond func(w *plugWatcher) bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		w.mu.Lock()
		ok := cond(w)
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-w.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("no %s within %v; device states so far: %v", what, within, w.states())
		}
	}
}

// stateAfter returns the first device event after index from with the
// given state, and its index, or -1.
func (w *plugWatcher) stateAfter(from int, state string) (plugEvent, int) {
	for i := from; i < len(w.events); i++ {
		if w.events[i].status.State == state {
			return w.events[i], i
		}
	}
	return plugEvent{}, -1
}

func (w *plugWatcher) states() []string {
	var s []string
	for _, e := range w.events {
		s = append(s, e.status.State)
	}
	return s
}

// plugMonitor is a simulated Masimo monitor that can be moved from one
// pseudo-terminal to another, as a cable is moved between adapters.
type plugMonitor struct {
	dev    simulators.Device
	values *plugValues
	stop   func()
}

type plugValues struct {
	mu  sync.Mutex
	buf []byte
}

func (b *plugValues) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// waitFor waits until the monitor has sent at least n readings.
func (b *plugValues) waitFor(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(b.readings(t)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the monitor sent %d readings in %v, want at least %d", len(b.readings(t)), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *plugValues) readings(t *testing.T) []drivers.Reading {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var rs []drivers.Reading
	for dec := json.NewDecoder(bytes.NewReader(b.buf)); dec.More(); {
		var r drivers.Reading
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

// waitEveryReadingOnce waits until the observations of every reading in
// meant (its SpO2 and pulse rate, always forwarded) have reached the EPR,
// then checks that each arrived exactly once. note describes the readings
// in failures.
func (w *plugWatcher) waitEveryReadingOnce(t *testing.T, gatewayID string, meant []drivers.Reading, note string) {
	t.Helper()
	var ids []string
	idReading := map[string]int{}
	for i, r := range meant {
		for _, v := range r.Values {
			if v.MDC != 150456 && v.MDC != 149530 { // SpO2 and pulse rate: always forwarded
				continue
			}
			id := gateway.ObservationID(gatewayID, "masimo:"+r.Device.Serial, gateway.CodeKey(v.MDC, v.Label), r.DeviceTime)
			ids = append(ids, id)
			idReading[id] = i
		}
	}
	w.waitFor(t, "observation of every reading at the EPR", 10*time.Second, func(w *plugWatcher) bool {
		for _, id := range ids {
			if w.obs[id] == 0 {
				return false
			}
		}
		return true
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if n := w.obs[id]; n != 1 {
			t.Errorf("reading %d (of %d; %s): observation %s arrived %d times, want once", idReading[id], len(meant), note, id, n)
		}
	}
	if len(w.errs) > 0 {
		t.Errorf("unreadable messages: %q", w.errs)
	}
}

// newPlugMonitor makes a simulated Masimo monitor with serial whose clock
// runs 20 times faster: a reading every 50 ms.
// plugIn starts the monitor on port once the gateway listens on it, and
// waits until the gateway reports the device connected.
func (m *plugMonitor) plugIn(t *testing.T, w *plugWatcher, port *pty.PTY) {
	t.Helper()
	w.waitFor(t, "listening", 5*time.Second, func(w *plugWatcher) bool { _, i := w.stateAfter(0, "listening"); return i >= 0 })
	m.play(t, port)
	w.waitFor(t, "connected", 5*time.Second, func(w *plugWatcher) bool { _, i := w.stateAfter(0, "connected"); return i >= 0 })
}

func newPlugMonitor(t *testing.T, serial string) *plugMonitor {
	t.Helper()
	values := &plugValues{}
	dev, err := simmasimo.New(simulators.Options{
		Serial: serial, Period: 50 * time.Millisecond, Values: values, Logger: slog.New(slog.DiscardHandler),
		Now: simtest.FastClock(20),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &plugMonitor{dev: dev, values: values}
}

// play runs the monitor on p until stopped.
func (m *plugMonitor) play(t *testing.T, p *pty.PTY) {
	m.stop = simtest.RunDevice(t, m.dev, p)
}

// stopAndDrain stops the monitor and waits until the gateway has read what
// it sent on p; when names the moment in a failure.
func (m *plugMonitor) stopAndDrain(t *testing.T, ctx context.Context, p *pty.PTY, when string) {
	t.Helper()
	m.stop()
	drain, stopDrain := context.WithTimeout(ctx, 2*time.Second)
	defer stopDrain()
	if err := p.Drain(drain); err != nil {
		t.Fatalf("the gateway did not read what the monitor sent %s: %v", when, err)
	}
}

// masimoBedOnLink loads the configuration of gateway id with one masimo
// bed, bed1 of ward w1 at site s1, publishing to broker, whose port is a
// symlink in a temporary directory: returned, not yet created.
func masimoBedOnLink(t *testing.T, id, broker string) (*config.Config, *drivers.Registry, string) {
	t.Helper()
	dir := t.TempDir()
	link := filepath.Join(dir, "serial", "bed1")
	cfgPath := filepath.Join(dir, "bedgate.yaml")
	err := os.WriteFile(cfgPath, fmt.Appendf(nil, `gateway:
  id: %s
  site: s1
  ward: w1
  data_dir: %s
mqtt:
  broker: %s
  plaintext: true
beds:
  - name: bed1
    driver: masimo
    port: %s
`, id, filepath.Join(dir, "data"), broker, link), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := drvall.Registry()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, reg.Names())
	if err != nil {
		t.Fatal(err)
	}
	return cfg, reg, link
}

// TestHotPlug runs the gateway on a bed whose port is a symlink to a
// simulated monitor's pseudo-terminal, then unplugs it (the terminal
// closes) and plugs it back under another /dev/pts name (the link is
// repointed). The device topic must show disconnected within two seconds,
// then connected again, and every reading the gateway read before the
// unplug must reach the EPR.
func TestHotPlug(t *testing.T) {
	broker := brokertest.Start(t, "")
	cfg, reg, link := masimoBedOnLink(t, "hotplug-gw", broker.URL())
	w := watchPlug(t, broker.URL(), "bedgate/v1/s1/w1/bed1/device")

	first := simtest.OpenPTY(t)
	if err := first.Link(link); err != nil {
		t.Fatal(err)
	}

	ctx, stop := startGateway(t, gateway.Options{Config: cfg, Drivers: reg})
	defer stop()

	m := newPlugMonitor(t, "0000093112")
	values := m.values

	// Plugged in: the gateway opens the port, then readings flow.
	m.plugIn(t, w, first)
	values.waitFor(t, 5, 10*time.Second)

	// Unplug: the monitor stops, the gateway reads what it sent, the
	// terminal goes away.
	m.stopAndDrain(t, ctx, first, "before the unplug")
	beforeUnplug := len(values.readings(t))
	second := simtest.OpenPTY(t) // opened first, so that it gets another number
	w.mu.Lock()
	mark := len(w.events)
	w.mu.Unlock()
	unplugged := time.Now()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	var disc plugEvent
	w.waitFor(t, "disconnected", 5*time.Second, func(w *plugWatcher) bool {
		var i int
		disc, i = w.stateAfter(mark, "disconnected")
		return i >= 0
	})
	published := disc.status.Since.Sub(unplugged)
	received := disc.at.Sub(unplugged)
	t.Logf("disconnected %v after the terminal closed (status time), received by a subscriber after %v; reason %q",
		published.Round(100*time.Microsecond), received.Round(100*time.Microsecond), disc.status.Reason)
	if received > 2*time.Second {
		t.Errorf("disconnected reached the device topic %v after the unplug, want within 2s", received)
	}
	if disc.status.Reason == "" || disc.status.Stats.Readings == 0 {
		t.Errorf("disconnected status %+v should give the reason and the session's counts", disc.status)
	}

	// Plugged back in under another name.
	if second.Path() == first.Path() {
		t.Fatalf("the new terminal has the old name %s", first.Path())
	}
	replugged := time.Now()
	if err := second.Link(link); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	mark = len(w.events)
	w.mu.Unlock()
	w.waitFor(t, "listening after the replug", 10*time.Second, func(w *plugWatcher) bool { _, i := w.stateAfter(mark, "listening"); return i >= 0 })
	m.play(t, second)
	var conn plugEvent
	w.waitFor(t, "connected after the replug", 5*time.Second, func(w *plugWatcher) bool {
		var i int
		conn, i = w.stateAfter(mark, "connected")
		return i >= 0
	})
	t.Logf("connected again %v after the link was repointed to %s", conn.at.Sub(replugged).Round(time.Millisecond), second.Path())
	values.waitFor(t, beforeUnplug+3, 10*time.Second)
	m.stopAndDrain(t, ctx, second, "after the replug")

	// Every reading arrives exactly once, those before the unplug included.
	meant := values.readings(t)
	if beforeUnplug < 5 || len(meant) <= beforeUnplug {
		t.Fatalf("the plugMonitor sent %d readings before the unplug and %d in all; want several on each side", beforeUnplug, len(meant))
	}
	w.waitEveryReadingOnce(t, cfg.Gateway.ID, meant, fmt.Sprintf("%d before the unplug", beforeUnplug))
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("%d readings (%d before the unplug) all reached the EPR; device states %v", len(meant), beforeUnplug, w.states())
}

// TestSilentMonitorKeepsItsPort: a monitor that falls silent (switched off,
// its cable still in the adapter) is shown disconnected, with the reason;
// its port stays open, with a new session waiting on it after each
// silence limit (300 ms here, 10 s by default) and nothing polled. When it
// sends again the device topic goes from disconnected straight back to
// connected, with no reopening in between, and every reading it sent
// reaches the EPR once, its first line after the silence included.
func TestSilentMonitorKeepsItsPort(t *testing.T) {
	broker := brokertest.Start(t, "")
	cfg, _, link := masimoBedOnLink(t, "silent-gw", broker.URL())
	quick := masimo.Driver()
	var sessions atomic.Int64
	quick.NewSession = func(rw io.ReadWriter, opts drivers.Options) (drivers.Session, error) {
		sessions.Add(1)
		return masimo.NewSession(rw, masimo.Options{Options: opts, Silence: 300 * time.Millisecond})
	}
	var reg drivers.Registry
	if err := reg.Register(quick); err != nil {
		t.Fatal(err)
	}
	w := watchPlug(t, broker.URL(), "bedgate/v1/s1/w1/bed1/device")
	port := simtest.OpenPTY(t)
	if err := port.Link(link); err != nil {
		t.Fatal(err)
	}

	logs := &logWatch{}
	ctx, stop := startGateway(t, gateway.Options{Config: cfg, Drivers: &reg, Logger: slog.New(logs)})
	defer stop()

	m := newPlugMonitor(t, "0000093113")
	values := m.values
	m.plugIn(t, w, port)
	values.waitFor(t, 3, 10*time.Second)

	// Switched off: silent past the limit, three times over.
	w.mu.Lock()
	mark := len(w.events)
	w.mu.Unlock()
	m.stopAndDrain(t, ctx, port, "before the silence")
	before := len(values.readings(t))
	var disc plugEvent
	w.waitFor(t, "disconnected", 5*time.Second, func(w *plugWatcher) bool {
		var i int
		disc, i = w.stateAfter(mark, "disconnected")
		return i >= 0
	})
	if !strings.Contains(disc.status.Reason, "no data for 300ms") {
		t.Errorf("disconnected for %q, want the silence named", disc.status.Reason)
	}
	silentFrom := sessions.Load()
	waitUntil(t, "two more silent sessions on the open port", 5*time.Second, func() bool { return sessions.Load() >= silentFrom+2 })

	// Switched on again.
	m.play(t, port)
	w.waitFor(t, "connected after the silence", 5*time.Second, func(w *plugWatcher) bool { _, i := w.stateAfter(mark, "connected"); return i >= 0 })
	values.waitFor(t, before+3, 10*time.Second)
	m.stopAndDrain(t, ctx, port, "after the silence")
	w.mu.Lock()
	for _, e := range w.events[mark:] {
		if st := e.status.State; st != "disconnected" && st != "connected" {
			t.Errorf("device state %q during the silence (states after it began: %v); want the port kept open", st, w.states()[mark:])
			break
		}
	}
	w.mu.Unlock()
	if n := logs.Count("device link ended; reopening"); n != 0 {
		t.Errorf("the port was reopened %d times for a silent monitor", n)
	}
	w.waitEveryReadingOnce(t, cfg.Gateway.ID, values.readings(t), fmt.Sprintf("%d before the silence", before))
}
