// Package publish drains the durable outbox to an MQTT broker with QoS 1.
//
// The outbox is the single source of truth. An entry leaves it only when
// the broker's PUBACK for that very publish arrives on the connection it was
// sent on. A paho token that completes after the connection it was sent on
// was lost is not trusted (paho completes such tokens without error after
// an automatic reconnect, whether or not the message arrived): when a
// connection is lost, every entry in flight goes back to the head of the
// outbox and is sent again, in order, after the reconnect. Receivers
// de-duplicate on the observation identifiers, so at-least-once delivery
// never double-files.
//
// The publisher also keeps the retained status topics: the gateway's own
// status ("online" on connect, "offline" as the MQTT last will and on a
// clean stop) and the latest status of each device, re-published after
// every reconnect.
//
// Run retries a failing connection for as long as it runs. Stats reports
// why the latest attempt failed (LastError, with a hint at the usual cause:
// an untrusted broker certificate, a client certificate the broker refused,
// wrong credentials, a plaintext client on a TLS port), and each distinct
// reason is logged once at warn until a connection succeeds. The password
// is never logged nor reported.
package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/record"
)

// Outbox is the part of *buffer.Buffer the publisher uses.
type Outbox interface {
	Next(ctx context.Context, max int) ([]buffer.Entry, error)
	Ack(seqs ...buffer.Seq) error
	Release(seqs ...buffer.Seq)
	ReleaseAll()
}

// Options configure a Publisher.
type Options struct {
	// Broker is the broker URL (tcp://host:port, or ssl://, tls:// or
	// mqtts://host:port for TLS). Required.
	Broker string
	// ClientID is the MQTT client id. Required.
	ClientID string
	// Username and Password authenticate to the broker when Username is
	// set. The password is never logged nor reported.
	Username, Password string
	// TLS configures a TLS link (client certificate, trusted CAs, server
	// name). Nil uses the system roots and the broker's host name.
	TLS *tls.Config
	// KeepAlive is the MQTT keep-alive. The default is 30s.
	KeepAlive time.Duration
	// Window is the most publishes awaiting PUBACK at once. The default is 64.
	Window int
	// StatusTopic is the gateway's retained status topic; its last will is
	// "offline". Required.
	StatusTopic string
	// Encoder turns stored records into message bodies. Required.
	Encoder record.Encoder
	// ShutdownWait bounds how long Run waits for PUBACKs in flight after
	// its context ends. The default is 2s.
	ShutdownWait time.Duration
	// Logger receives diagnostics. The default is slog.Default().
	Logger *slog.Logger
}

// Stats counts what the publisher has done since it started.
type Stats struct {
	Connected   bool  `json:"connected"`
	Connects    int64 `json:"connects"`
	Published   int64 `json:"published"`   // publishes sent
	Acked       int64 `json:"acked"`       // entries removed from the outbox on PUBACK
	Resent      int64 `json:"resent"`      // entries returned to the outbox after a lost connection or a failed publish
	Undecodable int64 `json:"undecodable"` // stored entries that could not be decoded or encoded (logged, removed)
	// ConnectFailures counts failed connection attempts, first
	// connection or reconnection.
	ConnectFailures int64 `json:"connect_failures"`
	// LastError is why the latest connection attempt failed, with a hint
	// at the usual cause; it is empty once a connection succeeds. A
	// non-empty LastError with Connected false is a persistent failure
	// (Run keeps retrying).
	LastError string `json:"last_error,omitempty"`
}

// Publisher drains an Outbox to a broker. Create it with New and run it
// with Run; it is single use.
type Publisher struct {
	outbox Outbox
	opts   Options
	log    *slog.Logger
	client mqtt.Client

	mu       sync.Mutex
	epoch    uint64        // bumped on every lost connection
	up       chan struct{} // closed while connected
	lost     chan struct{} // closed when the current epoch's connection is lost
	retained map[string][]byte

	connects, published, acked, resent, undecodable, connectFailures atomic.Int64

	errMu     sync.Mutex
	lastError string          // latest failed attempt, "" after a connection
	logged    map[string]bool // errors logged since the last connection, each logged once
}

// maxLoggedErrors bounds the distinct connection errors remembered between
// two connections.
const maxLoggedErrors = 32

// New checks the options and prepares a publisher. It does not connect.
func New(outbox Outbox, opts Options) (*Publisher, error) {
	var errs []error
	if opts.Broker == "" {
		errs = append(errs, errors.New("broker is required"))
	}
	if opts.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	if opts.StatusTopic == "" {
		errs = append(errs, errors.New("status topic is required"))
	}
	if opts.Encoder == nil {
		errs = append(errs, errors.New("encoder is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 30 * time.Second
	}
	if opts.Window <= 0 {
		opts.Window = 64
	}
	if opts.ShutdownWait <= 0 {
		opts.ShutdownWait = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Publisher{
		outbox:   outbox,
		opts:     opts,
		log:      opts.Logger.With("component", "publish"),
		up:       make(chan struct{}),
		lost:     make(chan struct{}),
		retained: make(map[string][]byte),
		logged:   make(map[string]bool),
	}
	co := mqtt.NewClientOptions().
		AddBroker(opts.Broker).
		SetClientID(opts.ClientID).
		SetCleanSession(true).
		SetKeepAlive(opts.KeepAlive).
		SetPingTimeout(10*time.Second).
		SetConnectTimeout(10*time.Second).
		SetWriteTimeout(10*time.Second).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetProtocolVersion(4). // MQTT 3.1.1: no silent retry as 3.1, which would hide the real refusal
		SetMaxReconnectInterval(30*time.Second).
		SetOrderMatters(false).
		SetWill(opts.StatusTopic, "offline", 1, true).
		SetOnConnectHandler(p.onConnect).
		SetConnectionLostHandler(p.onLost).
		SetConnectionNotificationHandler(p.onNotification)
	if opts.Username != "" {
		co.SetUsername(opts.Username).SetPassword(opts.Password)
	}
	if opts.TLS != nil {
		co.SetTLSConfig(opts.TLS)
	}
	p.client = mqtt.NewClient(co)
	return p, nil
}

// Client returns the underlying MQTT client, for subscriptions that share
// the gateway's connection.
func (p *Publisher) Client() mqtt.Client { return p.client }

func (p *Publisher) onConnect(c mqtt.Client) {
	p.connects.Add(1)
	p.log.Info("connected to broker", "broker", p.opts.Broker)
	c.Publish(p.opts.StatusTopic, 1, true, "online")
	p.mu.Lock()
	for topic, payload := range p.retained {
		c.Publish(topic, 1, true, payload)
	}
	select {
	case <-p.up:
	default:
		close(p.up)
	}
	p.mu.Unlock()
}

func (p *Publisher) onLost(_ mqtt.Client, err error) {
	p.log.Warn("connection to broker lost; in-flight entries go back to the outbox", "err", err)
	p.mu.Lock()
	p.epoch++
	close(p.lost)
	p.lost = make(chan struct{})
	select {
	case <-p.up:
		p.up = make(chan struct{})
	default:
	}
	p.outbox.ReleaseAll()
	p.mu.Unlock()
}

// onNotification records why connection attempts fail, and logs each
// distinct reason once (at warn) until a connection succeeds.
func (p *Publisher) onNotification(_ mqtt.Client, n mqtt.ConnectionNotification) {
	switch n := n.(type) {
	case mqtt.ConnectionNotificationFailed:
		p.connectFailures.Add(1)
		msg := describeConnectError(n.Reason, p.opts.Broker)
		p.errMu.Lock()
		p.lastError = msg
		first := !p.logged[msg]
		if first && len(p.logged) < maxLoggedErrors {
			p.logged[msg] = true
		}
		p.errMu.Unlock()
		if first {
			p.log.Warn("cannot connect to broker; retrying", "broker", p.opts.Broker, "err", msg)
		}
	case mqtt.ConnectionNotificationConnected:
		p.errMu.Lock()
		p.lastError = ""
		clear(p.logged)
		p.errMu.Unlock()
	}
}

// describeConnectError returns a failed connection attempt's error without
// the ephemeral addresses of the socket (so that the same failure reads the
// same every time) and with the usual cause. Neither paho's errors nor the
// hints contain credentials.
func describeConnectError(err error, broker string) string {
	if err == nil {
		return "connection failed"
	}
	msg := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg = strings.Replace(msg, op.Error(), op.Op+": "+op.Err.Error(), 1)
	}
	secure := !strings.HasPrefix(broker, "tcp://") && !strings.HasPrefix(broker, "mqtt://")
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	hint := ""
	switch {
	case errors.As(err, &unknownCA):
		hint = "the broker's certificate is not signed by a trusted CA: check the CA bundle"
	case errors.As(err, &hostname):
		hint = "the broker's certificate does not name the host dialled: check the server name"
	case errors.As(err, &invalid):
		hint = "the broker's certificate is not valid: " + invalid.Error()
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword), errors.Is(err, packets.ErrorRefusedNotAuthorised):
		hint = "the broker refused the credentials: check the username and password"
	case strings.Contains(msg, "remote error: tls:"):
		hint = "the broker refused the TLS handshake, usually the client certificate: missing, expired, or not signed by a CA the broker trusts"
	case secure && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)):
		hint = "the broker closed the connection right after the TLS handshake, usually because it refused the client certificate: missing, expired, or not signed by a CA the broker trusts"
	case !secure && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)):
		hint = "the broker closed the connection: if this port expects TLS, use ssl://"
	}
	if hint == "" {
		return msg
	}
	return msg + " (" + hint + ")"
}

// SetRetained publishes payload retained on topic now if connected, and
// again after every reconnect; the latest payload per topic wins.
func (p *Publisher) SetRetained(topic string, payload []byte) {
	p.mu.Lock()
	p.retained[topic] = payload
	connected := isClosed(p.up)
	p.mu.Unlock()
	if connected {
		p.client.Publish(topic, 1, true, payload)
	}
}

// Stats returns the counters. Safe for concurrent use.
func (p *Publisher) Stats() Stats {
	return Stats{
		Connected:   p.client.IsConnectionOpen(),
		Connects:    p.connects.Load(),
		Published:   p.published.Load(),
		Acked:       p.acked.Load(),
		Resent:      p.resent.Load(),
		Undecodable: p.undecodable.Load(),

		ConnectFailures: p.connectFailures.Load(),
		LastError:       p.lastErr(),
	}
}

func (p *Publisher) lastErr() string {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.lastError
}

// Run connects (retrying until it succeeds) and drains the outbox until
// ctx ends. It then waits up to ShutdownWait for PUBACKs in flight,
// publishes "offline" on the status topic and disconnects. It returns
// ctx.Err() after a clean stop, or the error that stopped the drain.
func (p *Publisher) Run(ctx context.Context) error {
	p.client.Connect() // with ConnectRetry the token completes only on success or Disconnect
	slots := make(chan struct{}, p.opts.Window)
	var inflight sync.WaitGroup
	err := p.drain(ctx, slots, &inflight)

	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.opts.ShutdownWait):
		p.log.Warn("stopping with publishes still awaiting PUBACK; they stay in the outbox")
	}
	if p.client.IsConnectionOpen() {
		p.client.Publish(p.opts.StatusTopic, 1, true, "offline").WaitTimeout(time.Second)
	}
	p.client.Disconnect(250)
	// Wake trackers still waiting on a token: their entries stay in the outbox.
	p.mu.Lock()
	p.epoch++
	close(p.lost)
	p.lost = make(chan struct{})
	p.mu.Unlock()
	<-done
	return err
}

func (p *Publisher) drain(ctx context.Context, slots chan struct{}, inflight *sync.WaitGroup) error {
	for {
		p.mu.Lock()
		up := p.up
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-up:
		}
		// Wait for at least one free slot, then take what fits.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case slots <- struct{}{}:
		}
		free := 1 + (cap(slots) - len(slots))
		p.mu.Lock()
		epoch, lost := p.epoch, p.lost
		p.mu.Unlock()
		entries, err := p.outbox.Next(ctx, free)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("publish: read outbox: %w", err)
		}
		p.mu.Lock()
		stale := p.epoch != epoch
		p.mu.Unlock()
		if stale {
			// The connection was lost while Next waited; ReleaseAll may have
			// run before these were taken.
			p.outbox.Release(seqs(entries)...)
			p.resent.Add(int64(len(entries)))
			<-slots
			continue
		}
		for i, e := range entries {
			if i > 0 {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					p.outbox.Release(seqs(entries[i:])...)
					return ctx.Err()
				}
			}
			topic, body, err := p.render(e)
			if err != nil {
				p.undecodable.Add(1)
				p.log.Error("removing an outbox entry that cannot be encoded", "seq", e.Seq, "err", err)
				if err := p.outbox.Ack(e.Seq); err != nil {
					return fmt.Errorf("publish: remove undecodable entry %d: %w", e.Seq, err)
				}
				<-slots
				continue
			}
			tok := p.client.Publish(topic, 1, false, body)
			p.published.Add(1)
			inflight.Add(1)
			go p.track(e.Seq, tok, epoch, lost, slots, inflight)
		}
	}
}

// track waits for one publish's PUBACK on the connection it was sent on.
func (p *Publisher) track(seq buffer.Seq, tok mqtt.Token, epoch uint64, lost <-chan struct{}, slots chan struct{}, inflight *sync.WaitGroup) {
	defer inflight.Done()
	defer func() { <-slots }()
	select {
	case <-lost:
		// ReleaseAll already returned the entry to the outbox.
		p.resent.Add(1)
		return
	case <-tok.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch != epoch {
		p.resent.Add(1)
		return
	}
	if err := tok.Error(); err != nil {
		p.log.Warn("publish failed; the entry goes back to the outbox", "seq", seq, "err", err)
		p.outbox.Release(seq)
		p.resent.Add(1)
		return
	}
	if err := p.outbox.Ack(seq); err != nil {
		p.log.Error("acknowledging a delivered entry failed; it will be sent again", "seq", seq, "err", err)
		return
	}
	p.acked.Add(1)
}

func (p *Publisher) render(e buffer.Entry) (topic string, body []byte, err error) {
	var r record.Record
	if err := json.Unmarshal(e.Payload, &r); err != nil {
		return "", nil, fmt.Errorf("decode stored record: %w", err)
	}
	if r.Topic == "" {
		return "", nil, errors.New("stored record has no topic")
	}
	body, err = p.opts.Encoder.Encode(r, uint64(e.Seq))
	if err != nil {
		return "", nil, fmt.Errorf("encode: %w", err)
	}
	return r.Topic, body, nil
}

func seqs(entries []buffer.Entry) []buffer.Seq {
	s := make([]buffer.Seq, len(entries))
	for i, e := range entries {
		s[i] = e.Seq
	}
	return s
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
