package publish

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"
)

// dialBroker opens the connection to one broker node much as paho's own
// dialer does: TCP for tcp:// and mqtt://, TLS for ssl://, tls:// and
// mqtts://, through the proxy the environment names, if any (ALL_PROXY or
// all_proxy, for TLS too, where paho reads only the latter), within the
// connect timeout (through a proxy too). Beneath TLS, so that every record
// crypto/tls writes meets its deadlines, the connection is a deadlineConn.
func dialBroker(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	d := o.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: o.ConnectTimeout}
	}
	var secure bool
	switch uri.Scheme {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts":
		secure = true
	default:
		return nil, fmt.Errorf("publish: broker scheme %q: want tcp, mqtt, ssl, tls or mqtts", uri.Scheme)
	}
	ctx := context.Background()
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	var conn net.Conn
	var err error
	switch pd := proxy.FromEnvironmentUsing(d).(type) {
	case proxy.ContextDialer:
		conn, err = pd.DialContext(ctx, "tcp", uri.Host)
	default:
		conn, err = pd.Dial("tcp", uri.Host)
	}
	if err != nil {
		return nil, err
	}
	conn = &deadlineConn{Conn: conn}
	if secure {
		cfg := o.TLSConfig.Clone()
		if cfg == nil {
			cfg = new(tls.Config)
		}
		if cfg.ServerName == "" {
			cfg.ServerName = uri.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	return conn, nil
}

// deadlineConn is the broker connection paho writes on (beneath TLS), with
// write deadlines that cost nothing per publish. paho sets a write deadline
// before every publish it writes and clears it after (the client's write
// timeout, 10 s): each moves a timer of the runtime's network poller, and
// the two cost a backlog drain 2 to 3 % of its rate
// (BenchmarkDrainVsBarePaho, five runs with and without a write timeout).
// deadlineConn moves the socket's deadline only when a write needs it
// moved: to the one asked for when the one in force is missing, later than
// asked, or less than half the timeout away; and off before a write asked
// without one when the one in force is less than half the last timeout
// away. So the write of a publish still fails after at most the timeout
// and at least half of it, and any other write meets no deadline sooner
// than half the last timeout after it starts: a connection whose writes
// stall for 5 to 10 s ends, as with paho's own.
type deadlineConn struct {
	net.Conn

	mu    sync.Mutex
	want  time.Time     // the write deadline paho asked for; zero: none
	set   time.Time     // the socket's write deadline in force; zero: none
	slack time.Duration // half the last timeout asked for
}

// SetWriteDeadline records the deadline, and sets it on the socket only
// when the one in force does not do for it.
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = t
	if t.IsZero() {
		return nil // Write lifts the one in force if it comes too close
	}
	now := time.Now()
	c.slack = t.Sub(now) / 2
	if c.set.IsZero() || c.set.After(t) || c.set.Before(now.Add(c.slack)) {
		return c.setLocked(t)
	}
	return nil
}

// SetDeadline sets both deadlines on the socket at once (paho bounds its
// connection handshake with it).
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.want, c.set = t, t
	return nil
}

// Write writes b, first lifting a deadline in force that would come
// sooner than half the last timeout when none was asked for.
func (c *deadlineConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.want.IsZero() && !c.set.IsZero() && time.Until(c.set) < c.slack {
		if err := c.setLocked(time.Time{}); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *deadlineConn) setLocked(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.set = t
	return nil
}
