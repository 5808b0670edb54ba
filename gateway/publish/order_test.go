package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/brokertest"
)

// orderCheck is a subscriber that counts, per lane (backlog: seqs up to
// backlog; live: the rest), arrivals out of sequence order within a bed
// and across all beds. Within a lane the design promises both orders.
type orderCheck struct {
	backlog uint64

	mu       sync.Mutex
	received int
	seen     map[uint64]bool
	dups     int
	lastBed  [2]map[string]uint64 // per lane, highest seq seen per bed
	last     [2]uint64            // per lane, highest seq seen
	bedOOO   [2]int               // arrivals below their bed's highest seq
	inverted [2]int               // arrivals below the lane's highest seq
}

func (o *orderCheck) handle(t *testing.T) pahomqtt.MessageHandler {
	return func(_ pahomqtt.Client, m pahomqtt.Message) {
		var msg message
		if err := json.Unmarshal(m.Payload(), &msg); err != nil {
			t.Errorf("subscriber: %v", err)
			return
		}
		bed := strings.Split(m.Topic(), "/")[1]
		o.mu.Lock()
		defer o.mu.Unlock()
		o.received++
		if o.seen[msg.Seq] {
			o.dups++
			return
		}
		o.seen[msg.Seq] = true
		lane := 1
		if msg.Seq <= o.backlog {
			lane = 0
		}
		if msg.Seq < o.lastBed[lane][bed] {
			o.bedOOO[lane]++
		}
		if msg.Seq < o.last[lane] {
			o.inverted[lane]++
		}
		o.lastBed[lane][bed] = max(o.lastBed[lane][bed], msg.Seq)
		o.last[lane] = max(o.last[lane], msg.Seq)
	}
}

func (o *orderCheck) distinct() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}

// TestPublishKeepsOrderAtHighRate: 64 beds each append a reading every
// 20 ms (3,200 a second) for a few seconds, with no outage, on top of a
// backlog stored before the publisher started. Every reading arrives, and
// within each lane (the backlog; readings appended since the connection
// came up) no reading arrives after one with a higher sequence number, of
// its own bed or of any bed.
func TestPublishKeepsOrderAtHighRate(t *testing.T) {
	const (
		beds    = 64
		period  = 20 * time.Millisecond
		backlog = 500
	)
	runFor := 4 * time.Second
	if testing.Short() {
		runFor = time.Second
	}
	broker := brokertest.Start(t, "")
	check := &orderCheck{backlog: backlog, seen: map[uint64]bool{},
		lastBed: [2]map[string]uint64{{}, {}}}
	sub := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker.URL()).
		SetClientID("order-" + t.Name()).SetCleanSession(true).SetOrderMatters(true))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { sub.Disconnect(100) })
	if tok := sub.Subscribe("ward/+/obs", 1, check.handle(t)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	b := openBuffer(t)
	bedTopic := func(i int) string { return fmt.Sprintf("ward/bed%02d/obs", i) }
	for i := range backlog {
		appendOne(t, b, bedTopic(i%beds), i)
	}
	p, stop := startPublisherWith(t, b, Options{Broker: broker.URL(), Window: 64})
	defer stop()
	waitFor(t, "the publisher to connect", 10*time.Second, func() bool { return p.Stats().Connected })

	// Each bed appends from its own goroutine, as a bed's supervisor does:
	// runFor's worth of readings at most one a period (a loaded machine
	// takes longer; the count, not the time, is what the test needs).
	var wg sync.WaitGroup
	perBed := int(runFor / period)
	start := time.Now()
	for bed := range beds {
		wg.Go(func() {
			tick := time.NewTicker(period)
			defer tick.Stop()
			for n := range perBed {
				<-tick.C
				appendOne(t, b, bedTopic(bed), backlog+bed*1_000_000+n)
			}
		})
	}
	wg.Wait()
	appendedIn := time.Since(start)
	total := backlog + beds*perBed
	waitFor(t, fmt.Sprintf("all %d readings", total), 30*time.Second, func() bool { return check.distinct() == total })

	check.mu.Lock()
	defer check.mu.Unlock()
	t.Logf("%d readings (%d backlog, %d live from %d beds over %v), %d duplicates; out of order within a bed: backlog %d, live %d; after a higher seq: backlog %d, live %d",
		total, backlog, total-backlog, beds, appendedIn.Round(time.Millisecond), check.dups, check.bedOOO[0], check.bedOOO[1], check.inverted[0], check.inverted[1])
	for lane, name := range []string{"backlog", "live"} {
		if check.bedOOO[lane] != 0 || check.inverted[lane] != 0 {
			t.Errorf("%s lane: %d readings arrived after a later one of their bed, %d after a higher sequence number",
				name, check.bedOOO[lane], check.inverted[lane])
		}
	}
	if check.dups != 0 {
		t.Errorf("%d duplicates with no outage", check.dups)
	}
}

// appendOne appends one test message for topic, built with its sequence
// number.
func appendOne(t *testing.T, b *buffer.Buffer, topic string, id int) {
	_, err := b.AppendFunc(context.Background(), func(seq buffer.Seq) ([]byte, error) {
		return Envelope(topic, testMessage(seq, fmt.Sprintf("obs-%d", id))), nil
	})
	if err != nil {
		t.Errorf("append: %v", err)
	}
}
