package publish

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway/brokertest"
)

// TestLaneTakingOnALostConnectionReleasesItsEntries: the connection is
// lost after the backlog lane saw it up and before it takes entries. The
// entries it takes then belong to no live connection; they go back to the
// outbox with the loss, and everything is delivered after the reconnect
// (they must not stay in flight until some later loss).
func TestLaneTakingOnALostConnectionReleasesItsEntries(t *testing.T) {
	broker := brokertest.Start(t, "")
	proxy := brokertest.NewProxy(t, broker.URL())
	c := collect(t, broker.URL(), "test/obs")
	b := openBuffer(t)
	appendRecords(t, b, "test/obs", 0, 100) // the backlog

	p, err := New(b, Options{Broker: proxy.URL(), ClientID: "gw-" + t.Name(), StatusTopic: "test/status",
		Window: 16, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	cut := make(chan struct{})
	p.testHookLaneUp = func(live bool) {
		if live {
			return
		}
		once.Do(func() {
			p.mu.Lock()
			conn := p.conn
			p.mu.Unlock()
			proxy.Cut()
			select {
			case <-conn.Done():
			case <-time.After(10 * time.Second):
				t.Error("the cut connection was not seen lost within 10 s")
			}
			proxy.Heal()
			close(cut)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "the cut", 10*time.Second, func() bool { return isClosed(cut) })
	waitFor(t, "every backlog entry after the reconnect", 20*time.Second, func() bool { return c.distinct() == 100 })
	checkComplete(t, c, b, 100)
	if st := p.Stats(); st.Connects < 2 {
		t.Errorf("stats %+v: want a reconnect", st)
	}
}

// TestConnectKeepsTheNewerRetainedStatus: a device status set while
// onConnect re-publishes the retained statuses stays the retained one; the
// re-publish of the older status must not overwrite it on the broker.
func TestConnectKeepsTheNewerRetainedStatus(t *testing.T) {
	broker := brokertest.Start(t, "")
	b := openBuffer(t)
	p, err := New(b, Options{Broker: broker.URL(), ClientID: "gw-" + t.Name(), StatusTopic: "test/status",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const topic = "ward/bed01/device"
	p.SetRetained(topic, []byte("connected")) // before the connection
	older := p.retained[topic]
	var newer *retainedMsg
	set := make(chan struct{})
	p.testHookRetainedSnapshot = func() {
		p.SetRetained(topic, []byte("disconnected"))
		p.mu.Lock()
		newer = p.retained[topic]
		p.mu.Unlock()
		close(set)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the status set during the re-publish", 10*time.Second, func() bool { return isClosed(set) })
	p.sending.Wait() // onConnect has made its publishes
	p.mu.Lock()
	var toks []pahomqtt.Token
	for _, m := range []*retainedMsg{older, newer} {
		if m.tok != nil {
			toks = append(toks, m.tok)
		}
	}
	p.mu.Unlock()
	if len(toks) == 0 {
		t.Fatal("neither status was published")
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(5 * time.Second) {
			t.Fatal("no PUBACK for a status within 5 s")
		}
	}
	got := retainedOn(t, broker.URL(), []string{topic}, 1)
	if got[topic] != "disconnected" {
		t.Errorf("%s retained %q, want the newer %q", topic, got[topic], "disconnected")
	}
}

// TestLateOnConnectAfterTheLoss: paho runs the connect and lost handlers
// on goroutines of their own, so the handler of a connection can run after
// it was lost. It must not mark the publisher connected: the lanes would
// publish on a dead client, and Stats would name a node while there is no
// connection.
func TestLateOnConnectAfterTheLoss(t *testing.T) {
	broker := brokertest.Start(t, "")
	b := openBuffer(t)
	p, err := New(b, Options{Broker: broker.URL(), ClientID: "gw-" + t.Name(), StatusTopic: "test/status",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	late := make(chan struct{})
	p.testHookOnConnect = func(done bool) {
		if done {
			once.Do(func() { close(late) })
			return
		}
		if isClosed(late) {
			return
		}
		// Hold the first connection's handler until the loss was handled.
		p.mu.Lock()
		epoch := p.epoch
		p.mu.Unlock()
		broker.Stop()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			p.mu.Lock()
			lost := p.epoch != epoch
			p.mu.Unlock()
			if lost {
				return
			}
			if time.Now().After(deadline) {
				t.Error("the loss was not handled within 10 s")
				return
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the late connect handler", 10*time.Second, func() bool { return isClosed(late) })
	p.mu.Lock()
	up := isClosed(p.up)
	p.mu.Unlock()
	if up {
		t.Error("the lanes were let publish after the connection was lost")
	}
	if st := p.Stats(); st.Connected || st.Broker != "" {
		t.Errorf("stats %+v with the broker down: want not connected, no node", st)
	}
}
