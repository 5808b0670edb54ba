package publish

import (
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
)

// countingConn counts the write deadlines set on the socket.
type countingConn struct {
	net.Conn
	sets atomic.Int64
}

func (c *countingConn) SetWriteDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetWriteDeadline(t)
}

// pipe returns a deadlineConn over one end of a net.Pipe, the counter of
// deadlines set on that end, and the other end. With read true the other
// end reads everything written.
func pipe(t *testing.T, read bool) (*deadlineConn, *countingConn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	if read {
		go io.Copy(io.Discard, b)
	}
	counted := &countingConn{Conn: a}
	return &deadlineConn{Conn: counted}, counted, b
}

// writePublish writes as paho writes a publish: deadline, write, no
// deadline.
func writePublish(c net.Conn, timeout time.Duration, p []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Write(p)
	if cerr := c.SetWriteDeadline(time.Time{}); err == nil {
		err = cerr
	}
	return err
}

// untilPassed waits until the clock has passed d.
func untilPassed(t *testing.T, d time.Time) {
	t.Helper()
	waitFor(t, "the clock to pass "+d.Format(time.RFC3339Nano), time.Until(d)+10*time.Second,
		func() bool { return time.Now().After(d) })
}

func TestDeadlineConnSetsTheDeadlineOncePerHalfTimeout(t *testing.T) {
	c, counted, _ := pipe(t, true)
	for range 1000 {
		if err := writePublish(c, 10*time.Second, []byte("publish")); err != nil {
			t.Fatal(err)
		}
	}
	// paho alone sets 2000 (one deadline and one clear a publish).
	if n := counted.sets.Load(); n != 1 {
		t.Errorf("1000 publishes within 5 s set the socket's write deadline %d times, want 1", n)
	}
}

func TestDeadlineConnFailsAStalledPublish(t *testing.T) {
	const timeout = 400 * time.Millisecond
	for _, earlier := range []bool{false, true} {
		name := "first write"
		if earlier {
			name = "half a timeout after a publish"
		}
		t.Run(name, func(t *testing.T) {
			c, _, peer := pipe(t, false)
			if earlier {
				msg := []byte("earlier")
				go io.ReadFull(peer, make([]byte, len(msg))) // then reads no more
				start := time.Now()
				if err := writePublish(c, timeout, msg); err != nil {
					t.Fatal(err)
				}
				untilPassed(t, start.Add(timeout/2))
			}
			start := time.Now()
			errc := make(chan error, 1)
			go func() { errc <- writePublish(c, timeout, []byte("stalled")) }()
			select {
			case err := <-errc:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("stalled publish: %v, want a deadline exceeded", err)
				}
				if took := time.Since(start); took < timeout/2 {
					t.Errorf("stalled publish failed after %v, before half the timeout (%v)", took, timeout/2)
				}
			case <-time.After(10 * timeout):
				t.Fatalf("a publish stalled for %v has not failed (timeout %v)", 10*timeout, timeout)
			}
		})
	}
}

func TestDeadlineConnLeavesNoStaleDeadline(t *testing.T) {
	const timeout = 50 * time.Millisecond
	tests := []struct {
		name  string
		write func(c net.Conn) error
	}{
		{"write without a deadline", func(c net.Conn) error { _, err := c.Write([]byte("pingreq")); return err }},
		{"publish", func(c net.Conn) error { return writePublish(c, timeout, []byte("publish")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := pipe(t, true)
			start := time.Now()
			if err := writePublish(c, timeout, []byte("publish")); err != nil {
				t.Fatal(err)
			}
			untilPassed(t, start.Add(timeout)) // the deadline set for that publish has passed
			if err := tt.write(c); err != nil {
				t.Errorf("after the last publish's deadline passed: %v", err)
			}
		})
	}
}

func TestDialBroker(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once l is closed
	l.Close()
	opts := pahomqtt.NewClientOptions().SetConnectTimeout(2 * time.Second)
	tests := []struct {
		url   string
		check func(t *testing.T, err error)
	}{
		{"ws://" + closed, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), `scheme "ws"`) {
				t.Errorf("got %v, want the scheme refused", err)
			}
		}},
		{"tcp://" + closed, func(t *testing.T, err error) {
			if !unreachable(err) {
				t.Errorf("got %v, want a dial error (the broker away)", err)
			}
		}},
		{"ssl://" + closed, func(t *testing.T, err error) {
			if !unreachable(err) {
				t.Errorf("got %v, want a dial error (the broker away)", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := dialBroker(u, *opts)
			if conn != nil {
				conn.Close()
			}
			tt.check(t, err)
		})
	}
}
