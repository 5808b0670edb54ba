package publish

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
)

// TestReconnectSoonAfterTheBrokerReturns: after an outage long enough for
// a doubling backoff to reach several seconds, the publisher is connected
// again within about a second of the broker's return (awayBackoff).
func TestReconnectSoonAfterTheBrokerReturns(t *testing.T) {
	broker := brokertest.Start(t, "")
	b := openBuffer(t)
	p, stop := startPublisher(t, b, broker.URL())
	defer stop()
	waitFor(t, "the first connection", 10*time.Second, func() bool { return p.Stats().Connected })

	broker.Stop()
	// Six failed attempts: a backoff doubling from 250 ms would now wait
	// 4 to 8 s before the next one.
	waitFor(t, "six failed attempts while the broker is away", 30*time.Second, func() bool { return p.Stats().ConnectFailures >= 6 })
	broker.Restart()
	back := time.Now()
	waitFor(t, "the connection after the broker's return", 15*time.Second, func() bool { return p.Stats().Connected })
	took := time.Since(back)
	t.Logf("connected %v after the broker came back (%d failed attempts during the outage)", took.Round(time.Millisecond), p.Stats().ConnectFailures)
	if took > 2500*time.Millisecond {
		t.Errorf("connected %v after the broker came back, want within about 1 s (at most 2.5 s on a loaded machine)", took)
	}
}

// TestNoStormAgainstARefusingBroker: a broker that is up but refuses the
// connection (here: not authorised) is retried with a backoff growing to
// 10 s, not probed every second.
func TestNoStormAgainstARefusingBroker(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	broker := brokertest.StartWith(t, brokertest.Options{PasswordFile: empty})
	b := openBuffer(t)
	p, stop := startPublisher(t, b, broker.URL())
	defer stop()
	waitFor(t, "a refused attempt", 10*time.Second, func() bool { return p.Stats().ConnectFailures >= 1 })
	first := time.Now()
	// 250 ms, 0.5, 1, 2, 4 s (less jitter): at most six attempts in 6 s;
	// probing as for a broker that is away would make about a dozen.
	waitFor(t, "6 s of refusals", 20*time.Second, func() bool { return time.Since(first) >= 6*time.Second })
	attempts := p.Stats().ConnectFailures - 1
	t.Logf("%d attempts in the 6 s after the first refusal: %s", attempts, p.Stats().LastError)
	if attempts > 7 {
		t.Errorf("%d connection attempts in 6 s against a broker that refuses: want a growing backoff", attempts)
	}
	if p.Stats().Connected {
		t.Error("connected to a broker that refuses anonymous clients")
	}
}
