package gateway_test

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/simulators"
	simmasimo "github.com/bedgate/bedgate/simulators/masimo"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// contextInbox is an EPR on one bed's observation topic that files the
// Bundles in the order they arrive and checks every reference.
type contextInbox struct {
	mu         sync.Mutex
	msgs       []epr.Message
	contexts   epr.Contexts
	unresolved []string
	changed    chan struct{}
}

func subscribeContexts(t *testing.T, broker, topic string) *contextInbox {
	t.Helper()
	in := &contextInbox{changed: make(chan struct{}, 1)}
	// A persistent session: the broker keeps what the gateway publishes
	// while this subscriber reconnects after the broker's restart.
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker).SetClientID("epr-" + t.Name()).
		SetCleanSession(false).SetOrderMatters(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(200 * time.Millisecond))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR: connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		msg, err := epr.ParseMessage(m.Payload())
		in.mu.Lock()
		defer in.mu.Unlock()
		if err != nil {
			in.unresolved = append(in.unresolved, "unreadable: "+err.Error())
		}
		for _, r := range in.contexts.Add(m.Topic(), msg) {
			in.unresolved = append(in.unresolved, fmt.Sprintf("seq %d: %s", msg.Seq, r))
		}
		in.msgs = append(in.msgs, msg)
		select {
		case in.changed <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR: subscribe: %v", tok.Error())
	}
	return in
}

// waitFor waits until cond holds on the messages received so far.
func (in *contextInbox) waitFor(t *testing.T, what string, within time.Duration, cond func([]epr.Message) bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		in.mu.Lock()
		ok := cond(in.msgs)
		n := len(in.msgs)
		in.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-in.changed:
		case <-deadline:
			t.Fatalf("no %s within %v (%d messages)", what, within, n)
		}
	}
}

// readingsOf counts the observation Bundles (not contexts) whose device
// references name serial.
func readingsOf(msgs []epr.Message, serial string) int {
	n := 0
	for _, m := range msgs {
		if !m.IsContext() && len(m.Observations) > 0 && strings.Contains(m.Observations[0].Device, "|"+serial+"/") {
			n++
		}
	}
	return n
}

// contextFor returns the index of the first context Bundle creating the
// Device with serial, or -1.
func contextFor(msgs []epr.Message, serial string) int {
	for i, m := range msgs {
		for _, c := range m.Creates {
			if m.IsContext() && strings.HasPrefix(c, "Device?") && strings.HasSuffix(c, "|"+serial) {
				return i
			}
		}
	}
	return -1
}

// countContexts counts the context Bundles creating the Device with serial.
func countContexts(msgs []epr.Message, serial string) int {
	n := 0
	for i := range msgs {
		if contextFor(msgs[i:i+1], serial) == 0 {
			n++
		}
	}
	return n
}

// TestContextBundles runs the gateway on a simulated Masimo monitor through
// a real mosquitto and files what it publishes on the bed's topic in order,
// as an EPR does: the first message is the bed's context Bundle, every
// observation Bundle's references resolve to a context published before it
// on the topic, a different device on the same port (another serial
// number) brings a new context before its first reading, and after a
// restart of the gateway the context is sent once again before the next
// reading. A device that arrives during a broker outage has its context in
// the backlog when the broker returns, which fresh readings may overtake:
// the references must still resolve. Contexts stay few: not one per
// reading.
func TestContextBundles(t *testing.T) {
	broker := brokertest.Start(t, "")
	cfg, reg, link := masimoBedOnLink(t, "ctx-gw", broker.URL())
	// The backlog of an outage drains at 20 a second; readings wait a
	// second for the admission feed, then go without a patient.
	cfg.MQTT.BacklogRate = 20
	cfg.Association.Grace, cfg.Association.MaxWait = time.Second, time.Second
	in := subscribeContexts(t, broker.URL(), "bedgate/v1/s1/w1/bed1/obs")
	port := simtest.OpenPTY(t)
	if err := port.Link(link); err != nil {
		t.Fatal(err)
	}

	start := func() (stop func()) {
		_, stop = startGateway(t, gateway.Options{Config: cfg, Drivers: reg})
		return stop
	}
	// monitor plays a Masimo with the given serial on the port, its clock
	// 20 times faster (a reading every 50 ms), until stopped.
	clock := simtest.FastClock(20)
	monitor := func(serial string, values io.Writer) (stop func()) {
		dev, err := simmasimo.New(simulators.Options{
			Serial: serial, Period: 50 * time.Millisecond, Values: values, Logger: slog.New(slog.DiscardHandler), Now: clock,
		})
		if err != nil {
			t.Fatal(err)
		}
		return simtest.RunDevice(t, dev, port)
	}

	stopGateway := start()
	stopMonitor := monitor("0000093112", nil)
	in.waitFor(t, "10 readings of the first monitor", 20*time.Second, func(m []epr.Message) bool { return readingsOf(m, "0000093112") >= 10 })
	stopMonitor()
	second := &plugValues{}
	stopMonitor = monitor("0000093555", second) // another device on the same port
	in.waitFor(t, "5 readings of the second monitor", 20*time.Second, func(m []epr.Message) bool { return readingsOf(m, "0000093555") >= 5 })

	// The broker goes down; the second device's readings, then a third
	// device's context and readings wait in the outbox. When the broker is
	// back the backlog drains at 20 a second and the gateway's fresh
	// readings overtake it: the third device's context must be sent again
	// among them.
	broker.Stop()
	n := len(second.readings(t))
	second.waitFor(t, n+20, 20*time.Second)
	stopMonitor()
	third := &plugValues{}
	stopMonitor = monitor("0000093999", third)
	third.waitFor(t, 50, 20*time.Second) // 2.5 s: held a second for the admission feed, then stored
	broker.Restart()
	in.waitFor(t, "20 readings of the third monitor", 30*time.Second, func(m []epr.Message) bool { return readingsOf(m, "0000093999") >= 20 })
	stopGateway()

	in.mu.Lock()
	beforeRestart := len(in.msgs)
	in.mu.Unlock()
	stopGateway = start()
	in.waitFor(t, "5 readings after the restart", 20*time.Second, func(m []epr.Message) bool {
		return readingsOf(m[beforeRestart:], "0000093999") >= 5
	})
	// The backlog of the outage, delivered: every sequence number up to
	// the highest.
	in.waitFor(t, "the whole backlog", 30*time.Second, func(m []epr.Message) bool {
		seen := map[uint64]bool{}
		var top uint64
		for _, x := range m {
			seen[x.Seq], top = true, max(top, x.Seq)
		}
		return len(seen) == int(top)
	})
	stopMonitor()
	stopGateway()

	in.mu.Lock()
	defer in.mu.Unlock()
	msgs := in.msgs
	if len(in.unresolved) > 0 {
		t.Errorf("references that no context published before them created: %q", in.unresolved)
	}
	if !msgs[0].IsContext() {
		t.Errorf("the first message on the topic (seq %d) is not a context Bundle", msgs[0].Seq)
	}
	for _, serial := range []string{"0000093112", "0000093555", "0000093999"} {
		c := contextFor(msgs, serial)
		first := -1
		for i, m := range msgs {
			if !m.IsContext() && readingsOf([]epr.Message{m}, serial) > 0 {
				first = i
				break
			}
		}
		if c < 0 || first < 0 || c > first {
			t.Errorf("device %s: context Bundle at message %d, first reading at %d: the context must come first", serial, c, first)
		}
	}
	if c := contextFor(msgs[beforeRestart:], "0000093999"); c < 0 {
		t.Error("no context Bundle after the restart")
	}
	// Its context in the backlog, another in the fresh lane when the broker
	// returned, another after the restart.
	if n := countContexts(msgs, "0000093999"); n < 3 {
		t.Errorf("the third device's context was published %d times, want 3: in the outage's backlog, again when the broker returned (fresh readings overtake the backlog), again after the restart", n)
	}
	contexts, readings := 0, 0
	for _, m := range msgs {
		if m.IsContext() {
			contexts++
		} else {
			readings++
		}
	}
	t.Logf("%d context Bundles for %d observation Bundles", contexts, readings)
	// Three devices and a restart: a context each, plus one per connection
	// that found the context in its backlog.
	if contexts > 10 {
		t.Errorf("%d context Bundles for %d readings: contexts are sent when needed, not with readings", contexts, readings)
	}
}
