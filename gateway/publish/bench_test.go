package publish

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sync/errgroup"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// benchMessages is how many messages each side of the comparison sends per
// iteration.
const benchMessages = 10000

// BenchmarkDrainVsBarePaho measures the publisher draining a backlog from
// the durable outbox to a real mosquitto, against a bare paho QoS 1 publish
// loop with the same window, payloads and broker, side by side in one run.
// It reports drain/s, bare/s and their ratio (issue 12 asks for at least
// 0.9). The payloads are real FHIR Bundles of a pulse oximeter reading
// (about 3.2 KB each; stored compressed in the outbox, as the gateway
// stores them).
func BenchmarkDrainVsBarePaho(b *testing.B) {
	broker := brokertest.Start(b, "")
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		b.Fatal(err)
	}
	bundle := func(seq buffer.Seq) ([]byte, error) {
		return enc.Encode(recordtest.PulseOximetry(), uint64(seq))
	}
	payload, err := bundle(1)
	if err != nil {
		b.Fatal(err)
	}
	var drain, bare time.Duration
	for i := 0; i < b.N; i++ {
		drain += drainOnce(b, broker.URL(), i, bundle)
		bare += bareOnce(b, broker.URL(), payload, i)
	}
	n := float64(b.N * benchMessages)
	b.ReportMetric(n/drain.Seconds(), "drain/s")
	b.ReportMetric(n/bare.Seconds(), "bare/s")
	b.ReportMetric(bare.Seconds()/drain.Seconds(), "ratio")
}

// drainOnce fills an outbox with benchMessages records, then times the
// publisher until every one is acknowledged and removed. The benchmark's
// timer runs only while the messages flow (here and in bareOnce), so that
// b.N stays small.
func drainOnce(b *testing.B, url string, iter int, bundle func(buffer.Seq) ([]byte, error)) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	buf, err := buffer.Open(b.TempDir(), buffer.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer buf.Close()
	// Appenders in parallel share group commits: the backlog is stored in
	// about a second instead of ten thousand syncs one after the other.
	const appenders = 16 // divides benchMessages
	var fill errgroup.Group
	for range appenders {
		fill.Go(func() error {
			for range benchMessages / appenders {
				if _, err := buf.AppendFunc(context.Background(), func(seq buffer.Seq) ([]byte, error) {
					body, err := bundle(seq)
					return Envelope("bench/obs", body), err
				}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := fill.Wait(); err != nil {
		b.Fatal(err)
	}
	var (
		acked     atomic.Int64
		connected atomic.Pointer[time.Time]
	)
	drained := make(chan struct{})
	pub, err := New(buf, Options{Broker: url, ClientID: fmt.Sprintf("bench-drain-%d", iter), StatusTopic: "bench/status",
		Window: 64, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The clock starts when the connection is up, as bareOnce's does.
		OnConnect: func(pahomqtt.Client) {
			now := time.Now()
			connected.CompareAndSwap(nil, &now)
		},
		OnAck: func(time.Duration) {
			if acked.Add(1) == benchMessages {
				close(drained)
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.StartTimer()
	go func() { done <- pub.Run(ctx) }()
	select {
	case <-drained:
	case <-time.After(time.Minute):
		cancel()
		b.Fatalf("drained %d of %d messages in a minute: %v", pub.Stats().Acked, benchMessages, pub.Stats())
	}
	elapsed := time.Since(*connected.Load())
	b.StopTimer()
	cancel()
	<-done
	return elapsed
}

// bareOnce times a plain paho QoS 1 loop with at most 64 publishes awaiting
// PUBACK, the publisher's window.
func bareOnce(b *testing.B, url string, payload []byte, iter int) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("bench-bare-%d", iter)))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	window := make(chan pahomqtt.Token, 64)
	b.StartTimer()
	start := time.Now()
	for i := 0; i < benchMessages; i++ {
		if len(window) == cap(window) {
			if tok := <-window; tok.Wait() && tok.Error() != nil {
				b.Fatal(tok.Error())
			}
		}
		window <- c.Publish("bench/obs", 1, false, payload)
	}
	for len(window) > 0 {
		if tok := <-window; tok.Wait() && tok.Error() != nil {
			b.Fatal(tok.Error())
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}
