package embedbroker_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway/embedbroker"
)

func connect(t *testing.T, url, id string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetProtocolVersion(4).SetCleanSession(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// subscribe returns the return code the broker gave in the SUBACK (0x80 for
// a refusal) and a channel of the payloads received.
func subscribe(t *testing.T, c mqtt.Client, filter string) (byte, <-chan string) {
	t.Helper()
	got := make(chan string, 16)
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return tok.(*mqtt.SubscribeToken).Result()[filter], got
}

// TestRetainedQoS1: a retained QoS 1 message published before a subscriber
// arrives reaches it, and a refused filter gets 0x80 in the SUBACK while a
// permitted one is granted QoS 1. nats-server stores a retained message in
// a stream and learns of it from that stream, after the PUBACK: a
// subscriber arriving at once may not get it yet (nats-server's own
// TestMQTTSubRetainedRace waits for the same; a loaded CI machine missed
// it). So subscribers arrive, each with its own session, until one gets
// it, for up to 10 s.
func TestRetainedQoS1(t *testing.T) {
	start := time.Now()
	b, err := embedbroker.Start(embedbroker.Options{DenySubscribe: []string{"site/+/admission"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v at %s", time.Since(start), b.URL())
	defer b.Close()

	pub := connect(t, b.URL(), "publisher")
	if tok := pub.Publish("site/bed1/status", 1, true, "online"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	deadline := time.Now().Add(10 * time.Second)
	for attempt := 1; ; attempt++ {
		sub := connect(t, b.URL(), fmt.Sprintf("subscriber-%d", attempt))
		if attempt == 1 {
			if code, _ := subscribe(t, sub, "site/+/admission"); code != 0x80 {
				t.Errorf("denied filter: SUBACK code %#x, want 0x80", code)
			}
		}
		code, got := subscribe(t, sub, "site/+/status")
		if code != 1 {
			t.Errorf("permitted filter: SUBACK code %#x, want 1 (QoS 1 granted)", code)
		}
		select {
		case p := <-got:
			if p != "online" {
				t.Errorf("retained payload %q, want online", p)
			}
			t.Logf("retained message received by subscriber %d", attempt)
			return
		case <-time.After(time.Second):
		}
		sub.Disconnect(0)
		if time.Now().After(deadline) {
			t.Fatalf("the retained message never arrived (%d subscribers in 10 s)", attempt)
		}
	}
}

// TestCloseRemovesOwnStore: Close removes the temporary store Start made,
// and leaves a store directory it was given.
func TestCloseRemovesOwnStore(t *testing.T) {
	given := t.TempDir()
	b, err := embedbroker.Start(embedbroker.Options{StoreDir: given})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(given); err != nil || len(entries) == 0 {
		t.Errorf("given store %s: %d entries, %v; want JetStream's files kept", given, len(entries), err)
	}

	b, err = embedbroker.Start(embedbroker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	own := b.StoreDir()
	if _, err := os.Stat(own); err != nil {
		t.Fatalf("own store: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("own store %s after Close: %v; want it removed", own, err)
	}
}

func TestSubject(t *testing.T) {
	for _, c := range []struct{ filter, want string }{
		{"bedgate/v1/s/w/+/admission", "bedgate.v1.s.w.*.admission"},
		{"bedgate/v1/s/#", "bedgate.v1.s.>"},
		{"plain", "plain"},
	} {
		if got := embedbroker.Subject(c.filter); got != c.want {
			t.Errorf("Subject(%q) = %q, want %q", c.filter, got, c.want)
		}
	}
}
