package publish

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// silentBroker is a fake MQTT broker that accepts every connection and
// never acknowledges a publish: it closes each connection once it has
// received closeAfter publishes on topic, as a broker that drops the link
// with a full window would.
type silentBroker struct {
	l          net.Listener
	topic      string
	closeAfter int

	mu       sync.Mutex
	received []int // publishes on topic per connection, in connection order
}

func startSilentBroker(t *testing.T, topic string, closeAfter int) *silentBroker {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentBroker{l: l, topic: topic, closeAfter: closeAfter}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *silentBroker) URL() string { return "tcp://" + s.l.Addr().String() }

func (s *silentBroker) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	n := len(s.received)
	s.received = append(s.received, 0)
	s.mu.Unlock()
	for {
		pk, err := packets.ReadPacket(c)
		if err != nil {
			return
		}
		switch pk := pk.(type) {
		case *packets.ConnectPacket:
			ack := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)
			ack.SessionPresent = true
			if ack.Write(c) != nil {
				return
			}
		case *packets.PingreqPacket:
			if packets.NewControlPacket(packets.Pingresp).Write(c) != nil {
				return
			}
		case *packets.PublishPacket:
			if pk.TopicName != s.topic {
				continue
			}
			s.mu.Lock()
			s.received[n]++
			full := s.received[n] >= s.closeAfter
			s.mu.Unlock()
			if full {
				return
			}
		}
	}
}

// fullConnections returns how many connections received closeAfter
// publishes.
func (s *silentBroker) fullConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.received {
		if r >= s.closeAfter {
			n++
		}
	}
	return n
}

// TestLostConnectionsDoNotExhaustMessageIDs: a broker that drops the
// connection with the whole window unacknowledged, again and again. paho
// never frees the packet identifiers of a lost connection with a
// persistent session and no automatic reconnect, so with a window of 16384
// the 16-bit identifiers run out after 4 losses if one client serves every
// connection; the publisher keeps sending a full window on connection
// after connection.
func TestLostConnectionsDoNotExhaustMessageIDs(t *testing.T) {
	const window, connections = 16384, 6
	broker := startSilentBroker(t, "test/obs", window)
	b := openBuffer(t)
	var wg sync.WaitGroup
	for w := range 8 { // concurrent appends share group commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < window; i += 8 {
				appendOne(t, b, "test/obs", i)
			}
		}()
	}
	wg.Wait()
	if b.Stats().Entries != window {
		t.Fatalf("outbox holds %d entries, want %d", b.Stats().Entries, window)
	}
	p, stop := startPublisherWith(t, b, Options{Broker: broker.URL(), Window: window})
	defer stop()
	defer func() {
		broker.mu.Lock()
		defer broker.mu.Unlock()
		t.Logf("publishes received per connection: %v", broker.received)
	}()
	waitFor(t, "a full window sent on each of 6 connections", 40*time.Second, func() bool {
		return broker.fullConnections() >= connections
	})
	if st := p.Stats(); st.Acked != 0 || b.Stats().Entries != window {
		t.Errorf("stats %+v, outbox %d entries: want nothing acknowledged and nothing removed", st, b.Stats().Entries)
	}
}

// TestBackoffFromABrokerThatAcceptsThenDrops: a broker that accepts every
// connection and drops it at the first publish (as for a duplicate client
// id, or an ACL or size limit on one entry) is retried with a growing
// backoff, not about ten times a second.
func TestBackoffFromABrokerThatAcceptsThenDrops(t *testing.T) {
	broker := startSilentBroker(t, "test/obs", 1)
	b := openBuffer(t)
	appendRecords(t, b, "test/obs", 0, 1)
	p, stop := startPublisherWith(t, b, Options{Broker: broker.URL()})
	defer stop()
	waitFor(t, "the first drop", 10*time.Second, func() bool { return broker.fullConnections() >= 1 })
	first := time.Now()
	// 250 ms, 0.5, 1, 2, 4 s (less jitter): at most six connections in
	// 6 s; resetting the backoff on every CONNACK makes some fifty.
	waitFor(t, "6 s of drops", 20*time.Second, func() bool { return time.Since(first) >= 6*time.Second })
	n := broker.fullConnections() - 1
	t.Logf("%d connections in the 6 s after the first drop (%d connects)", n, p.Stats().Connects)
	if n > 7 {
		t.Errorf("%d connections in 6 s to a broker that drops each one: want a growing backoff", n)
	}
}
