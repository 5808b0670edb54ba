package publish

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

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
