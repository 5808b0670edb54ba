package publish

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/brokertest"
)

// testMessage is the body the tests publish: its outbox sequence number and
// an identifier, so that receivers can check for gaps and duplicates.
func testMessage(seq buffer.Seq, id string) []byte {
	body, err := json.Marshal(map[string]any{"seq": uint64(seq), "id": id})
	if err != nil {
		panic(err)
	}
	return body
}

type message struct {
	Seq uint64 `json:"seq"`
	ID  string `json:"id"`
}

// collector is a subscriber with a persistent session, so that it misses
// nothing across a broker restart.
type collector struct {
	mu    sync.Mutex
	count map[uint64]int
	ids   map[uint64]string
	order []uint64
}

func collect(t *testing.T, url, topic string) *collector {
	t.Helper()
	return collectTLS(t, url, topic, nil)
}

// collectTLS is collect over TLS when tlsCfg is not nil.
func collectTLS(t *testing.T, url, topic string, tlsCfg *tls.Config) *collector {
	t.Helper()
	c := &collector{count: map[uint64]int{}, ids: map[uint64]string{}}
	subscribed := make(chan error, 1)
	handler := func(_ pahomqtt.Client, m pahomqtt.Message) {
		var msg message
		if err := json.Unmarshal(m.Payload(), &msg); err != nil {
			t.Errorf("subscriber: %v", err)
			return
		}
		c.mu.Lock()
		c.count[msg.Seq]++
		if id, seen := c.ids[msg.Seq]; seen && id != msg.ID {
			t.Errorf("seq %d arrived with ids %s and %s", msg.Seq, id, msg.ID)
		}
		c.ids[msg.Seq] = msg.ID
		c.order = append(c.order, msg.Seq)
		c.mu.Unlock()
	}
	co := pahomqtt.NewClientOptions().AddBroker(url).
		SetClientID("collector-" + t.Name()).SetCleanSession(false).SetOrderMatters(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(200 * time.Millisecond).
		SetOnConnectHandler(func(cl pahomqtt.Client) {
			tok := cl.Subscribe(topic, 1, handler)
			go func() {
				tok.Wait()
				select {
				case subscribed <- tok.Error():
				default:
				}
			}()
		})
	if tlsCfg != nil {
		co.SetTLSConfig(tlsCfg)
	}
	client := pahomqtt.NewClient(co)
	tok := client.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	// The broker keeps the persistent session from here on.
	select {
	case err := <-subscribed:
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscribe did not complete")
	}
	t.Cleanup(func() { client.Disconnect(100) })
	return c
}

func (c *collector) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.count)
}

// appendRecords appends n messages for topic, built with their sequence
// numbers, the way the gateway stores records.
func appendRecords(t *testing.T, b *buffer.Buffer, topic string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		appendOne(t, b, topic, i)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startPublisher(t *testing.T, b *buffer.Buffer, url string) (*Publisher, func()) {
	t.Helper()
	return startPublisherWith(t, b, Options{Broker: url})
}

// startPublisherWith runs a publisher with opts, filling in the client id,
// status topic, encoder, window and a silent logger when they are unset.
func startPublisherWith(t *testing.T, b *buffer.Buffer, opts Options) (*Publisher, func()) {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "gw-" + t.Name()
	}
	if opts.StatusTopic == "" {
		opts.StatusTopic = "test/status"
	}
	if opts.Window == 0 {
		opts.Window = 16
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := New(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return p, func() {
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
		}
	}
}

func openBuffer(t *testing.T) *buffer.Buffer {
	t.Helper()
	b, err := buffer.Open(t.TempDir(), buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// checkComplete asserts that seqs 1..n arrived, each with one identifier,
// and that the outbox is empty.
func checkComplete(t *testing.T, c *collector, b *buffer.Buffer, n int) {
	t.Helper()
	waitFor(t, "the outbox to empty", 10*time.Second, func() bool { return b.Stats().Entries == 0 })
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := uint64(1); s <= uint64(n); s++ {
		if c.count[s] == 0 {
			t.Errorf("seq %d never arrived", s)
		}
		if want := fmt.Sprintf("obs-%d", s-1); c.ids[s] != want {
			t.Errorf("seq %d carried id %q, want %q", s, c.ids[s], want)
		}
	}
	if len(c.count) != n {
		t.Errorf("%d distinct seqs arrived, want %d", len(c.count), n)
	}
}

func TestPublishDeliversEverythingInOrder(t *testing.T) {
	broker := brokertest.Start(t, "max_inflight_messages 1") // broker-side order for the order check
	c := collect(t, broker.URL(), "test/obs")
	b := openBuffer(t)
	appendRecords(t, b, "test/obs", 0, 300)
	p, stop := startPublisher(t, b, broker.URL())
	waitFor(t, "300 messages", 20*time.Second, func() bool { return c.distinct() == 300 })
	stop()
	checkComplete(t, c, b, 300)
	if st := p.Stats(); st.Acked != 300 || st.Undecodable != 0 {
		t.Errorf("stats %+v, want 300 acked", st)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 1; i < len(c.order); i++ {
		if c.order[i] < c.order[i-1] {
			t.Fatalf("seq %d arrived after %d", c.order[i], c.order[i-1])
		}
	}
}

func TestPublishSurvivesBrokerOutage(t *testing.T) {
	broker := brokertest.Start(t, "")
	c := collect(t, broker.URL(), "test/obs")
	b := openBuffer(t)
	p, stop := startPublisher(t, b, broker.URL())
	defer stop()

	appendRecords(t, b, "test/obs", 0, 100)
	waitFor(t, "the first 100 messages", 10*time.Second, func() bool { return c.distinct() == 100 })

	// Stop the broker mid-stream; readings keep arriving meanwhile.
	broker.Stop()
	appendRecords(t, b, "test/obs", 100, 200)
	waitFor(t, "the publisher to see the outage", 10*time.Second, func() bool {
		st := p.Stats()
		return !st.Connected && st.ConnectFailures > 0
	})
	if got := b.Stats().Entries; got < 200 {
		t.Errorf("outbox holds %d entries during the outage, want at least the 200 appended", got)
	}
	broker.Restart()
	appendRecords(t, b, "test/obs", 300, 50)

	waitFor(t, "all 350 messages after the outage", 30*time.Second, func() bool { return c.distinct() == 350 })
	checkComplete(t, c, b, 350)
	if st := p.Stats(); st.Connects < 2 {
		t.Errorf("stats %+v: want a reconnect", st)
	}
}

func TestPublishRestartDuringOutageKeepsBacklog(t *testing.T) {
	broker := brokertest.Start(t, "")
	c := collect(t, broker.URL(), "test/obs")
	dir := t.TempDir()
	b, err := buffer.Open(dir, buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	broker.Stop()
	_, stop := startPublisher(t, b, broker.URL())
	appendRecords(t, b, "test/obs", 0, 150)
	stop()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// A new gateway process: the backlog is on disk.
	b2, err := buffer.Open(dir, buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	if got := b2.Stats().Entries; got != 150 {
		t.Fatalf("reopened outbox holds %d entries, want 150", got)
	}
	broker.Restart()
	_, stop2 := startPublisher(t, b2, broker.URL())
	defer stop2()
	waitFor(t, "the backlog", 20*time.Second, func() bool { return c.distinct() == 150 })
	checkComplete(t, c, b2, 150)
}

func TestNewRejectsIncompleteOptions(t *testing.T) {
	_, err := New(nil, Options{})
	if err == nil {
		t.Fatal("New with empty options succeeded")
	}
	for _, want := range []string{"broker", "client id", "status topic"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}

// TestPublishLiveBeforeBacklog: after an outage the backlog drains at
// BacklogRate while readings appended after the reconnect go out as they
// come, ahead of the rest of the backlog; both are delivered in full.
func TestPublishLiveBeforeBacklog(t *testing.T) {
	broker := brokertest.Start(t, "")
	c := collect(t, broker.URL(), "test/obs")
	b := openBuffer(t)
	appendRecords(t, b, "test/obs", 0, 300) // the backlog: seqs 1..300

	p, err := New(b, Options{Broker: broker.URL(), ClientID: "gw-" + t.Name(), StatusTopic: "test/status",
		BacklogRate: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "the backlog to start draining", 10*time.Second, func() bool { return c.distinct() > 0 })
	appendRecords(t, b, "test/obs", 300, 5) // live: seqs 301..305
	waitFor(t, "everything", 20*time.Second, func() bool { return c.distinct() == 305 })
	checkComplete(t, c, b, 305)

	c.mu.Lock()
	defer c.mu.Unlock()
	pos := map[uint64]int{}
	for i, s := range c.order {
		if _, seen := pos[s]; !seen {
			pos[s] = i
		}
	}
	for s := uint64(301); s <= 305; s++ {
		if pos[s] > pos[300] {
			t.Errorf("live seq %d arrived at position %d, after the end of the backlog (%d)", s, pos[s], pos[300])
		}
	}
	if st := p.Stats(); st.PublishedLive < 5 {
		t.Errorf("stats %+v: want the 5 live entries on the live lane", st)
	}
}

// TestStopConfirmsFinalRetainedStatuses: statuses set just before the stop
// (as each bed sets "disconnected" when its reader stops) are on the broker,
// retained, once Run has returned, with "offline" on the status topic; and
// Run returns well within ShutdownWait with the broker up.
func TestStopConfirmsFinalRetainedStatuses(t *testing.T) {
	const beds = 64
	broker := brokertest.Start(t, "")
	b := openBuffer(t)
	p, stop := startPublisherWith(t, b, Options{Broker: broker.URL(), ShutdownWait: 1500 * time.Millisecond})
	waitFor(t, "the publisher to connect", 10*time.Second, func() bool { return p.Stats().Connected })
	for i := range beds {
		p.SetRetained(fmt.Sprintf("ward/bed%02d/device", i), []byte("connected"))
	}
	appendRecords(t, b, "ward/bed00/obs", 0, 200) // in flight at the stop
	for i := range beds {
		p.SetRetained(fmt.Sprintf("ward/bed%02d/device", i), []byte("disconnected"))
	}
	start := time.Now()
	stop()
	took := time.Since(start)
	if took > time.Second {
		t.Errorf("Run took %v to stop with the broker up", took)
	}

	got := retainedOn(t, broker.URL(), []string{"ward/+/device", "test/status"}, beds+1)
	for i := range beds {
		if topic := fmt.Sprintf("ward/bed%02d/device", i); got[topic] != "disconnected" {
			t.Errorf("%s retained %q, want disconnected", topic, got[topic])
		}
	}
	if got["test/status"] != "offline" {
		t.Errorf("status retained %q, want offline", got["test/status"])
	}
	t.Logf("stopped in %v", took.Round(time.Millisecond))
}

// retainedOn subscribes with a fresh session and returns the retained
// payload of each topic matching filters, once want topics have arrived.
func retainedOn(t *testing.T, url string, filters []string, want int) map[string]string {
	t.Helper()
	var mu sync.Mutex
	got := map[string]string{}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("retained-" + t.Name()).SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	for _, f := range filters {
		tok := c.Subscribe(f, 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
			if m.Retained() {
				mu.Lock()
				got[m.Topic()] = string(m.Payload())
				mu.Unlock()
			}
		})
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	waitFor(t, fmt.Sprintf("%d retained topics", want), 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= want
	})
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(got)
}

// TestPublishFailsOverBetweenNodes: with two brokers listed, the publisher
// connects to the first, moves to the second when the first dies (and
// says so in Stats), and back to the first when the second dies; every
// entry reaches one of them and the outbox empties. (Two independent
// mosquittos stand for two nodes here; the fleet test in cmd/bedgate runs
// a real nats-server cluster.)
func TestPublishFailsOverBetweenNodes(t *testing.T) {
	a, b := brokertest.Start(t, ""), brokertest.Start(t, "")
	ca, cb := collect(t, a.URL(), "test/obs"), collect(t, b.URL(), "test/obs")
	seen := func(n int) bool {
		ca.mu.Lock()
		defer ca.mu.Unlock()
		cb.mu.Lock()
		defer cb.mu.Unlock()
		for s := uint64(1); s <= uint64(n); s++ {
			if ca.count[s]+cb.count[s] == 0 {
				return false
			}
		}
		return true
	}
	out := openBuffer(t)
	p, stop := startPublisherWith(t, out, Options{Brokers: []string{a.URL(), b.URL()}})
	defer stop()

	steps := []struct {
		name       string
		kill, back *brokertest.Broker
		want       string
	}{
		{"first node", nil, nil, a.URL()},
		{"first node dies", a, nil, b.URL()},
		{"second node dies, first is back", b, a, a.URL()},
	}
	for i, s := range steps {
		if s.back != nil {
			s.back.Restart()
		}
		if s.kill != nil {
			s.kill.Stop()
		}
		appendRecords(t, out, "test/obs", i*100, 100)
		waitFor(t, s.name+": the node in use", 20*time.Second, func() bool { return p.Stats().Broker == s.want })
		waitFor(t, s.name+": every entry so far delivered", 20*time.Second, func() bool { return seen((i + 1) * 100) })
	}
	waitFor(t, "the outbox to empty", 10*time.Second, func() bool { return out.Stats().Entries == 0 })
	if st := p.Stats(); st.Connects < 3 {
		t.Errorf("stats %+v: want 3 connections (one per node change)", st)
	}
}

// TestStatsReportLastAckAndLatency checks that every PUBACK is reported to
// OnAck with a latency no longer than the test's own wait, and that
// Stats.LastAck moves past the time the first publish was possible.
func TestStatsReportLastAckAndLatency(t *testing.T) {
	broker := brokertest.Start(t, "")
	b := openBuffer(t)
	var mu sync.Mutex
	var latencies []time.Duration
	before := time.Now()
	p, stop := startPublisherWith(t, b, Options{Broker: broker.URL(), OnAck: func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, d)
	}})
	defer stop()
	if !p.Stats().LastAck.IsZero() {
		t.Fatal("LastAck set before any PUBACK")
	}
	appendRecords(t, b, "test/obs", 0, 20)
	waitFor(t, "20 PUBACKs", 10*time.Second, func() bool { return p.Stats().Acked == 20 })
	elapsed := time.Since(before)
	if last := p.Stats().LastAck; !last.After(before) {
		t.Errorf("LastAck %v, want after %v", last, before)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(latencies) != 20 {
		t.Fatalf("OnAck called %d times, want 20", len(latencies))
	}
	for _, d := range latencies {
		if d <= 0 || d > elapsed {
			t.Errorf("latency %v, want in (0, %v]", d, elapsed)
		}
	}
}

// TestLossWhileBatchesWaitSendsThemAgainInOrder: the connection is cut in
// the middle of a drain, while the window is full and each lane holds a
// batch read ahead. Every entry arrives after the reconnect, and the first
// arrivals keep sequence order: nothing read ahead for the lost connection
// is sent on the next one out of its turn.
func TestLossWhileBatchesWaitSendsThemAgainInOrder(t *testing.T) {
	const n = 3000
	broker := brokertest.Start(t, "max_inflight_messages 1") // broker-side order for the order check
	proxy := brokertest.NewProxy(t, broker.URL())
	c := collect(t, broker.URL(), "test/obs")
	b := openBuffer(t)
	appendRecords(t, b, "test/obs", 0, n)
	var acked atomic.Int64
	cut := make(chan struct{})
	p, stop := startPublisherWith(t, b, Options{Broker: proxy.URL(), Window: 16,
		OnAck: func(time.Duration) {
			if acked.Add(1) == n/10 { // on the sender, the window full behind it
				proxy.Cut()
				close(cut)
			}
		}})
	defer stop()

	waitFor(t, "the cut", 10*time.Second, func() bool { return isClosed(cut) })
	waitFor(t, "the cut seen", 10*time.Second, func() bool { return !p.Stats().Connected })
	proxy.Heal()
	waitFor(t, "every entry after the reconnect", 30*time.Second, func() bool { return c.distinct() == n })
	checkComplete(t, c, b, n)
	if st := p.Stats(); st.Connects < 2 || st.Resent == 0 {
		t.Errorf("stats %+v: want a reconnect, and entries in flight at the cut sent again", st)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[uint64]bool{}
	var last uint64
	for _, s := range c.order {
		if seen[s] {
			continue
		}
		seen[s] = true
		if s < last {
			t.Fatalf("seq %d first arrived after %d", s, last)
		}
		last = s
	}
}
