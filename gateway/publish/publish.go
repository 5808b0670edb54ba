package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// Outbox is the part of *buffer.Buffer the publisher uses.
type Outbox interface {
	NextBefore(ctx context.Context, max int, before buffer.Seq) ([]buffer.Entry, error)
	NextFrom(ctx context.Context, max int, from buffer.Seq) ([]buffer.Entry, error)
	NextSeq() buffer.Seq
	Ack(seqs ...buffer.Seq) error
	Release(seqs ...buffer.Seq)
	ReleaseAll()
}

// Options configure a Publisher.
type Options struct {
	// Broker is the broker URL (tcp://host:port, or ssl://, tls:// or
	// mqtts://host:port for TLS): the one-node form of Brokers. One of the
	// two is required.
	Broker string
	// Brokers are the URLs of the nodes of one cluster, all TLS or all
	// plaintext, tried in order on every connection attempt. When set,
	// Broker is ignored. TLS applies to every node.
	Brokers []string
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
	// Status(false). Required.
	StatusTopic string
	// Status builds the retained status payload: online is false for the
	// last will and the clean stop. The default gives "online" and
	// "offline".
	Status func(online bool) []byte
	// OnConnect, when set, is called (on paho's goroutine; it must not
	// block) after every connection, to subscribe to what the gateway
	// listens to. The session is persistent, so subscriptions also survive
	// at the broker.
	OnConnect func(c mqtt.Client)
	// BacklogRate is the most backlog entries (appended before the current
	// connection came up) sent a second, so that draining a long outage
	// neither floods the EPR nor delays fresh readings, which are sent as
	// they come. The default, 0, is unlimited.
	BacklogRate float64
	// ShutdownWait bounds how long Run waits, after its context ends, for
	// the PUBACKs of what is in flight, the final retained statuses and
	// "offline". The default is 1.5s.
	ShutdownWait time.Duration
	// Logger receives diagnostics. The default is slog.Default().
	Logger *slog.Logger
	// OnAck, when set, is called with the time from each publish to its
	// PUBACK, on the goroutine that publishes and removes acknowledged
	// entries: it must not block (a metrics histogram), or publishing waits.
	OnAck func(latency time.Duration)
	// Split, when set, returns where a new connection splits the outbox:
	// entries below it are that connection's backlog, which entries from it
	// on may overtake (see the package documentation). It is called once
	// per connection, before anything is sent on it. The default is the
	// outbox's NextSeq. A writer whose later entries must not reach the
	// broker before an earlier one supplies its own, to learn each split
	// and to hold it off while such a write is between its look at the
	// split and its sequence number.
	Split func() buffer.Seq
}

// Stats counts what the publisher has done since it started.
type Stats struct {
	Connected bool `json:"connected"`
	// Broker is the URL of the node the current connection is to; empty
	// while not connected.
	Broker    string `json:"broker,omitempty"`
	Connects  int64  `json:"connects"`
	Published int64  `json:"published"` // publishes sent
	// PublishedLive counts the publishes of entries appended while
	// connected (the live lane); the rest drained a backlog.
	PublishedLive int64 `json:"published_live"`
	Acked         int64 `json:"acked"`       // entries removed from the outbox on PUBACK
	Resent        int64 `json:"resent"`      // entries returned to the outbox after a lost connection or a failed publish
	Undecodable   int64 `json:"undecodable"` // stored entries that are not envelopes (logged, removed)
	// ConnectFailures counts failed connection attempts, first
	// connection or reconnection.
	ConnectFailures int64 `json:"connect_failures"`
	// LastError is why the latest connection attempt failed, with a hint
	// at the usual cause; it is empty once a connection succeeds. A
	// non-empty LastError with Connected false is a persistent failure
	// (Run keeps retrying).
	LastError string `json:"last_error,omitempty"`
	// LastAck is when the latest PUBACK removed an entry from the outbox;
	// zero before the first.
	LastAck time.Time `json:"last_ack,omitzero"`
}

// Publisher drains an Outbox to a broker. Create it with New and run it
// with Run; it is single use.
type Publisher struct {
	outbox  Outbox
	opts    Options
	brokers []string // Options.Brokers, or Options.Broker alone
	log     *slog.Logger

	// takeMu is held for reading by a lane from reading the connection's
	// state until it has taken entries for it, and for writing by
	// loseEpoch while it releases every entry in flight. It comes before
	// mu.
	takeMu sync.RWMutex
	mu     sync.Mutex
	// cur is the latest connection attempt (nil before the first): the
	// client connected while up is closed.
	cur   *attempt
	epoch uint64        // bumped on every lost connection
	up    chan struct{} // closed while connected
	// conn ends when the current epoch's connection is lost (endConn).
	conn    context.Context
	endConn context.CancelFunc
	// boundary is the outbox's next sequence number when the current
	// connection came up: entries from it on are live, older ones backlog.
	boundary buffer.Seq
	retained map[string]*retainedMsg
	// sendMu serialises the publishes of each retained topic.
	sendMu map[string]*sync.Mutex
	// stopping is set when Run stops: no publish starts after it.
	stopping bool
	// sending counts publishes of retained and status messages under way,
	// which Run lets finish before it disconnects (paho blocks a publish
	// racing a disconnect for its whole write timeout).
	sending sync.WaitGroup
	// lostSignal tells connectLoop that the connection was lost.
	lostSignal chan struct{}
	// node is the node the current connection is to ("" while not
	// connected).
	node string

	connects, published, publishedLive, acked, resent, undecodable, connectFailures atomic.Int64
	lastAck                                                                         atomic.Int64 // Unix nanoseconds

	// testHookLaneUp, when set, is called by a lane that saw the
	// connection up, before it takes entries.
	testHookLaneUp func(live bool)
	// testHookRetainedSnapshot, when set, is called by onConnect between
	// noting the retained topics and publishing them.
	testHookRetainedSnapshot func()
	// testHookOnConnect, when set, is called when onConnect starts (false)
	// and when it returns (true).
	testHookOnConnect func(done bool)

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
	brokers := opts.Brokers
	if len(brokers) == 0 && opts.Broker != "" {
		brokers = []string{opts.Broker}
	}
	if len(brokers) == 0 {
		errs = append(errs, errors.New("broker is required"))
	}
	if opts.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	if opts.StatusTopic == "" {
		errs = append(errs, errors.New("status topic is required"))
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
	if opts.Split == nil {
		opts.Split = outbox.NextSeq
	}
	if opts.Status == nil {
		opts.Status = func(online bool) []byte {
			if online {
				return []byte("online")
			}
			return []byte("offline")
		}
	}
	if opts.ShutdownWait <= 0 {
		opts.ShutdownWait = 1500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	conn, endConn := context.WithCancel(context.Background())
	endConn() // not connected yet
	p := &Publisher{
		conn:       conn,
		endConn:    endConn,
		outbox:     outbox,
		opts:       opts,
		brokers:    brokers,
		log:        opts.Logger.With("component", "publish"),
		up:         make(chan struct{}),
		retained:   make(map[string]*retainedMsg),
		sendMu:     make(map[string]*sync.Mutex),
		logged:     make(map[string]bool),
		lostSignal: make(chan struct{}, 1),
	}
	return p, nil
}

// attempt is one connection attempt, on a paho client of its own. paho
// frees the packet identifiers of a lost connection only when it cleans
// the session or reconnects by itself, neither of which the publisher lets
// it do: a client that served many connections would run out of
// identifiers, with every publish failing from then on. The broker's
// session survives the new client: it is keyed by the client id.
type attempt struct {
	client mqtt.Client
	// node is the node tried or connected to, lost whether the connection
	// was lost; both guarded by Publisher.mu.
	node string
	lost bool
}

// newAttempt prepares a client for one connection attempt.
func (p *Publisher) newAttempt() *attempt {
	a := &attempt{}
	co := mqtt.NewClientOptions()
	for _, b := range p.brokers {
		co.AddBroker(b)
	}
	co.SetClientID(p.opts.ClientID).
		// A persistent session keeps the gateway's subscriptions at the
		// broker across reconnects. paho's own store is a no-op: the outbox
		// is the single source of truth, and paho must not resend from a
		// store of its own after a reconnect (the outbox does).
		SetCleanSession(false).
		SetStore(noStore{}).
		SetKeepAlive(p.opts.KeepAlive).
		SetPingTimeout(10*time.Second).
		SetConnectTimeout(10*time.Second).
		SetWriteTimeout(10*time.Second).
		// dialBroker's connection makes the write timeout cheap.
		SetCustomOpenConnectionFn(dialBroker).
		SetAutoReconnect(false). // connectLoop reconnects, with jitter
		SetConnectRetry(false).
		SetProtocolVersion(4). // MQTT 3.1.1: no silent retry as 3.1, which would hide the real refusal
		SetOrderMatters(false).
		SetBinaryWill(p.opts.StatusTopic, p.opts.Status(false), 1, true).
		SetOnConnectHandler(func(mqtt.Client) { p.onConnect(a) }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { p.onLost(a, err) }).
		SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) { p.onNotification(a, n) })
	if p.opts.Username != "" {
		co.SetUsername(p.opts.Username).SetPassword(p.opts.Password)
	}
	if p.opts.TLS != nil {
		co.SetTLSConfig(p.opts.TLS)
	}
	a.client = mqtt.NewClient(co)
	return a
}

func (p *Publisher) onConnect(a *attempt) {
	if p.testHookOnConnect != nil {
		p.testHookOnConnect(false)
		defer p.testHookOnConnect(true)
	}
	c := a.client
	p.mu.Lock()
	// paho starts this handler and the lost one on goroutines of their
	// own: the connection may be gone already.
	if a.lost || a != p.cur || !c.IsConnectionOpen() {
		p.mu.Unlock()
		return
	}
	p.node = a.node
	node := p.node
	p.mu.Unlock()
	p.connects.Add(1)
	p.log.Info("connected to broker", "broker", node)
	if p.opts.OnConnect != nil {
		p.opts.OnConnect(c)
	}
	boundary := p.opts.Split()
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return
	}
	if a.lost {
		p.mu.Unlock()
		return
	}
	p.boundary = boundary
	p.endConn()
	p.epoch++
	p.conn, p.endConn = context.WithCancel(context.Background())
	p.sending.Add(1)
	p.mu.Unlock()
	defer p.sending.Done()
	c.Publish(p.opts.StatusTopic, 1, true, p.opts.Status(true))
	p.mu.Lock()
	if a.lost {
		p.mu.Unlock()
		return
	}
	topics := maps.Clone(p.retained)
	if !isClosed(p.up) {
		close(p.up)
	}
	p.mu.Unlock()
	if p.testHookRetainedSnapshot != nil {
		p.testHookRetainedSnapshot()
	}
	for topic, m := range topics {
		p.sendRetained(topic, m)
	}
}

func (p *Publisher) onLost(a *attempt, err error) {
	p.mu.Lock()
	a.lost = true
	p.mu.Unlock()
	p.log.Warn("connection to broker lost; in-flight entries go back to the outbox", "err", err)
	p.loseEpoch()
	select {
	case p.lostSignal <- struct{}{}:
	default:
	}
}

// loseEpoch ends the current connection's epoch: every entry in flight goes
// back to the outbox, and PUBACKs still to come for it are not trusted. It
// first ends the connection's context, which ends the lanes' waits, then
// bumps the epoch and releases under takeMu, so that no lane's take
// straddles the release.
func (p *Publisher) loseEpoch() {
	p.mu.Lock()
	p.node = ""
	p.endConn()
	if isClosed(p.up) {
		p.up = make(chan struct{})
	}
	p.mu.Unlock()
	p.takeMu.Lock()
	defer p.takeMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.epoch++
	p.outbox.ReleaseAll()
}

// onNotification records why connection attempts fail, and logs each
// distinct reason once (at warn) until a connection succeeds.
func (p *Publisher) onNotification(a *attempt, n mqtt.ConnectionNotification) {
	switch n := n.(type) {
	case mqtt.ConnectionNotificationBroker:
		p.mu.Lock()
		a.node = n.Broker.String()
		p.mu.Unlock()
	case mqtt.ConnectionNotificationFailed:
		p.connectFailures.Add(1)
		msg := describeConnectError(n.Reason, p.brokers[0])
		p.errMu.Lock()
		p.lastError = msg
		first := !p.logged[msg]
		if first && len(p.logged) < maxLoggedErrors {
			p.logged[msg] = true
		}
		p.errMu.Unlock()
		if first {
			p.log.Warn("cannot connect to broker; retrying", "brokers", p.brokers, "err", msg)
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

// retainedMsg is the latest payload of a retained topic and the token of
// its latest publish (nil before the first).
type retainedMsg struct {
	payload []byte
	tok     mqtt.Token // guarded by Publisher.mu
}

// SetRetained publishes payload retained on topic now if connected, and
// again after every reconnect; the latest payload per topic wins. When Run
// stops, the latest payload of every topic is published again unless its
// PUBACK came.
func (p *Publisher) SetRetained(topic string, payload []byte) {
	m := &retainedMsg{payload: payload}
	p.mu.Lock()
	p.retained[topic] = m
	p.mu.Unlock()
	p.sendRetained(topic, m)
}

// sendRetained publishes m on topic if connected and not stopping, and if
// m is still the topic's latest payload. The sends of one topic are
// serialised, so that a re-publish after a reconnect cannot overwrite a
// newer payload set meanwhile.
func (p *Publisher) sendRetained(topic string, m *retainedMsg) {
	c, ok := p.startSending()
	if !ok {
		return
	}
	defer p.sending.Done()
	p.mu.Lock()
	send := p.sendMu[topic]
	if send == nil {
		send = new(sync.Mutex)
		p.sendMu[topic] = send
	}
	p.mu.Unlock()
	send.Lock()
	defer send.Unlock()
	p.mu.Lock()
	latest := p.retained[topic] == m
	p.mu.Unlock()
	if !latest {
		return
	}
	tok := c.Publish(topic, 1, true, m.payload)
	p.mu.Lock()
	m.tok = tok
	p.mu.Unlock()
}

// startSending returns the connected client if a publish may start
// (connected and not stopping); if so the caller must call p.sending.Done
// when it returns.
func (p *Publisher) startSending() (mqtt.Client, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || !isClosed(p.up) {
		return nil, false
	}
	p.sending.Add(1)
	return p.cur.client, true
}

// RefreshStatus publishes Status(true) on the status topic now, if
// connected: the gateway calls it to report its counters.
func (p *Publisher) RefreshStatus() {
	c, ok := p.startSending()
	if !ok {
		return
	}
	defer p.sending.Done()
	c.Publish(p.opts.StatusTopic, 1, true, p.opts.Status(true))
}

// Broker returns the URL of the node the current connection is to, or ""
// while not connected. Safe for concurrent use, also from Options.Status.
func (p *Publisher) Broker() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.node
}

// Stats returns the counters. Safe for concurrent use.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	a := p.cur
	p.mu.Unlock()
	return Stats{
		Connected:     a != nil && a.client.IsConnectionOpen(),
		Broker:        p.Broker(),
		Connects:      p.connects.Load(),
		Published:     p.published.Load(),
		PublishedLive: p.publishedLive.Load(),
		Acked:         p.acked.Load(),
		Resent:        p.resent.Load(),
		Undecodable:   p.undecodable.Load(),

		ConnectFailures: p.connectFailures.Load(),
		LastError:       p.lastErr(),
		LastAck:         unixNanoTime(p.lastAck.Load()),
	}
}

// unixNanoTime is the time of ns Unix nanoseconds, or the zero Time for 0.
func unixNanoTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func (p *Publisher) lastErr() string {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.lastError
}

// Run connects (retrying with jittered backoff until it succeeds, and
// again after every lost connection) and drains the outbox until ctx ends.
// It then stops within ShutdownWait: it waits for PUBACKs in flight,
// confirms the final retained statuses, publishes "offline" on the status
// topic and disconnects. It returns ctx.Err() after a clean stop, or the
// error that stopped the drain.
func (p *Publisher) Run(ctx context.Context) error {
	connCtx, stopConnecting := context.WithCancel(ctx)
	connDone := make(chan struct{})
	go func() {
		defer close(connDone)
		p.connectLoop(connCtx)
	}()

	s := p.newSender()
	err := s.run(ctx)
	stopCtx, cancel := context.WithTimeout(context.Background(), p.opts.ShutdownWait)
	defer cancel()
	if !s.finish(stopCtx.Done()) {
		p.log.Warn("stopping with publishes still awaiting PUBACK; they stay in the outbox")
	}
	stopConnecting()
	<-connDone
	p.mu.Lock()
	p.stopping = true
	a := p.cur
	p.mu.Unlock()
	p.sending.Wait()
	if a != nil {
		if a.client.IsConnectionOpen() {
			p.confirmRetained(a.client, stopCtx.Done())
		}
		a.client.Disconnect(250)
	}
	// Entries still awaiting PUBACK stay in the outbox for the next run.
	s.settleAcked()
	p.loseEpoch()
	return err
}

// confirmRetained publishes again the latest payload of every retained
// topic whose PUBACK has not come, publishes Status(false) on the status
// topic, and waits for their PUBACKs until deadline is closed.
func (p *Publisher) confirmRetained(c mqtt.Client, deadline <-chan struct{}) {
	p.mu.Lock()
	type send struct {
		topic string
		m     *retainedMsg
	}
	var again []send
	toks := []mqtt.Token{}
	for topic, m := range p.retained {
		if m.tok != nil && (!isClosed(m.tok.Done()) || m.tok.Error() == nil) {
			toks = append(toks, m.tok)
			continue
		}
		again = append(again, send{topic, m})
	}
	p.mu.Unlock()
	for _, s := range again {
		toks = append(toks, c.Publish(s.topic, 1, true, s.m.payload))
	}
	toks = append(toks, c.Publish(p.opts.StatusTopic, 1, true, p.opts.Status(false)))
	unconfirmed := 0
	for _, tok := range toks {
		select {
		case <-tok.Done():
			if tok.Error() != nil {
				unconfirmed++
			}
		case <-deadline:
			unconfirmed++
		}
	}
	if unconfirmed > 0 {
		p.log.Warn("stopping before the broker confirmed every final status", "unconfirmed", unconfirmed, "of", len(toks))
	}
}

// Reconnection delays (connectLoop). The default of awayBackoff's ceiling,
// 1 s, is how soon after a broker comes back the gateway is connected
// again: an attempt on a broker that is away is one refused or unanswered
// TCP dial, cheap for both sides. refusedBackoff grows to 10 s for a
// broker that answers and refuses (CONNACK, TLS), so that a ward of
// gateways does not storm it.
var (
	awayBackoff    = serialport.Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	refusedBackoff = serialport.Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}
)

// connectLoop keeps the client connected until ctx ends. paho's own
// reconnect doubles its delay without jitter up to a fixed ceiling; this
// loop adds jitter, so that a ward of gateways does not reconnect in step
// after a broker restart, probes a broker that is away at least once a
// second (awayBackoff), and backs off to 10 s from one that refuses
// (refusedBackoff), or accepts and drops the connection before a PUBACK
// came or a keep-alive passed.
func (p *Publisher) connectLoop(ctx context.Context) {
	away, refused := awayBackoff, refusedBackoff
	for {
		// Forget a loss signalled for an earlier connection.
		select {
		case <-p.lostSignal:
		default:
		}
		a := p.newAttempt()
		p.mu.Lock()
		p.cur = a
		p.mu.Unlock()
		tok := a.client.Connect()
		select {
		case <-ctx.Done():
			return
		case <-tok.Done():
		}
		var wait time.Duration
		switch err := tok.Error(); {
		case err == nil:
			since, acked := time.Now(), p.acked.Load()
			select {
			case <-ctx.Done():
				return
			case <-p.lostSignal:
			}
			// A broker that accepts and then drops the connection (a
			// duplicate client id, an ACL or size limit on one entry) is
			// refusing too: the backoffs start again only after a
			// connection that worked.
			if time.Since(since) < p.opts.KeepAlive && p.acked.Load() == acked {
				wait = refused.Next()
				break
			}
			away.Reset()
			refused.Reset()
			wait = away.Next()
		case unreachable(err):
			wait = away.Next()
		default:
			wait = refused.Next()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// unreachable reports whether a connection attempt failed at the TCP
// dial: nothing listens on the broker's port, or nothing answers.
func unreachable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// publication is one publish awaiting its PUBACK.
type publication struct {
	seq   buffer.Seq
	tok   mqtt.Token
	sent  time.Time
	epoch uint64
	lost  <-chan struct{} // the connection it was sent on was lost
}

// Lanes (see Order in the package documentation), by index.
const (
	liveLane = iota
	backlogLane
	lanes
)

// laneBatch is the next entries of a lane, opened, taken for one
// connection.
type laneBatch struct {
	c    laneConn
	msgs []laneMsg
}

// laneMsg is an outbox entry ready to publish.
type laneMsg struct {
	seq   buffer.Seq
	topic string
	body  []byte
}

// sender publishes on one goroutine, as a bare publish loop does: it sends
// the lanes' entries while the window has room (the live lane's first) and
// settles the oldest publication when its PUBACK comes (a broker
// acknowledges the QoS 1 publishes of one connection in order). A goroutine
// per lane reads its entries from the outbox and opens them meanwhile, a
// batch ahead: it hands the batch over once the sender has sent the last.
// The live lane going first, a live lane that kept the window full would
// hold the backlog back; it would be taking readings as fast as the broker
// acknowledges them, a gateway beyond its means either way.
//
// Before, each lane's goroutine read a batch between two publishes and a
// third goroutine settled: a backlog drained at a median 0.83 times a bare
// paho loop's rate (0.80-0.89), and 0.87 (0.85-0.92) with this sender, a
// window's worth a read and dialBroker's cheap write deadlines, the sender
// about half of the gain (BenchmarkDrainVsBarePaho, eight alternated runs
// of ten drains each, on a 2-core machine).
type sender struct {
	p     *Publisher
	ready [lanes]chan laneBatch // unbuffered: a reader waits with its batch
	cur   [lanes]laneBatch      // what is left to send of each lane's batch
	win   window
}

func (p *Publisher) newSender() *sender {
	s := &sender{p: p, win: window{ring: make([]publication, p.opts.Window)}}
	for l := range s.ready {
		s.ready[l] = make(chan laneBatch)
	}
	return s
}

// run publishes until ctx ends or reading the outbox fails, then returns
// every entry read and not sent to the outbox. The window's publications
// are left to finish (finish, settleAcked).
func (s *sender) run(ctx context.Context) error {
	readCtx, stopReading := context.WithCancel(ctx)
	failed := make(chan error, lanes)
	var readers sync.WaitGroup
	for l := range s.ready {
		readers.Go(func() {
			if err := s.p.read(readCtx, l == liveLane, s.ready[l]); readCtx.Err() == nil {
				failed <- err
			}
		})
	}
	err := s.loop(ctx, failed)
	stopReading()
	readers.Wait() // each returns the batch it holds
	for l := range s.cur {
		s.giveBack(s.cur[l])
		s.cur[l] = laneBatch{}
	}
	return err
}

// giveBack returns a batch's unsent entries to the outbox.
func (s *sender) giveBack(b laneBatch) {
	if len(b.msgs) > 0 {
		s.p.release(b.c.epoch, msgSeqs(b.msgs)...)
	}
}

func (s *sender) loop(ctx context.Context, failed <-chan error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err // nothing more is sent once ctx ends
		}
		s.send()
		var acked, lost <-chan struct{}
		if s.win.n > 0 {
			acked, lost = s.win.head().tok.Done(), s.win.head().lost
		}
		var next [lanes]chan laneBatch // nil (never ready) while a batch is left
		for l := range next {
			if len(s.cur[l].msgs) == 0 {
				next[l] = s.ready[l]
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-failed:
			return err
		case s.cur[liveLane] = <-next[liveLane]:
		case s.cur[backlogLane] = <-next[backlogLane]:
		case <-acked:
			s.retireHead(true)
		case <-lost:
			s.retireHead(false)
		}
	}
}

// send publishes the lanes' entries while the window has room, the live
// lane's first.
func (s *sender) send() {
	p := s.p
	for !s.win.full() {
		l := liveLane
		if len(s.cur[l].msgs) == 0 {
			l = backlogLane
		}
		b := &s.cur[l]
		if len(b.msgs) == 0 {
			return
		}
		if b.c.conn.Err() != nil {
			// Lost: the loss returned them to the outbox.
			p.resent.Add(int64(len(b.msgs)))
			*b = laneBatch{}
			continue
		}
		m := b.msgs[0]
		b.msgs = b.msgs[1:]
		s.win.push(publication{seq: m.seq, sent: time.Now(), tok: b.c.client.Publish(m.topic, 1, false, m.body), epoch: b.c.epoch, lost: b.c.conn.Done()})
		p.published.Add(1)
		if l == liveLane {
			p.publishedLive.Add(1)
		}
	}
}

// finish waits, after run, for the PUBACKs of the window until deadline is
// closed, and reports whether none is left unsettled.
func (s *sender) finish(deadline <-chan struct{}) bool {
	for s.win.n > 0 {
		select {
		case <-s.win.head().tok.Done():
			s.retireHead(true)
		case <-s.win.head().lost:
			s.retireHead(false)
		case <-deadline:
			return false
		}
	}
	return true
}

// settleAcked settles the publications at the head of the window whose
// PUBACK has come: Run calls it last, for those that came after finish
// gave up waiting.
func (s *sender) settleAcked() {
	for s.win.n > 0 && isClosed(s.win.head().tok.Done()) {
		s.retireHead(true)
	}
}

// retireHead takes the oldest publication out of the window: settled when
// its PUBACK came, counted as resent when its connection was lost first
// (loseEpoch returns the entry to the outbox).
func (s *sender) retireHead(acked bool) {
	pub := s.win.pop()
	if acked {
		s.p.settle(pub)
		return
	}
	s.p.resent.Add(1)
}

// window is a ring of the publications awaiting PUBACK, oldest first.
type window struct {
	ring     []publication
	first, n int
}

func (w *window) full() bool { return w.n == len(w.ring) }

func (w *window) head() *publication { return &w.ring[w.first] }

func (w *window) push(pub publication) {
	w.ring[(w.first+w.n)%len(w.ring)] = pub
	w.n++
}

func (w *window) pop() publication {
	pub := w.ring[w.first]
	w.ring[w.first] = publication{}
	w.first = (w.first + 1) % len(w.ring)
	w.n--
	return pub
}

// read takes a lane's entries from the outbox, opens them and hands them
// to the sender a batch at a time, until ctx ends or the outbox fails.
func (p *Publisher) read(ctx context.Context, live bool, ready chan<- laneBatch) error {
	limit := newLimiter(p.opts.BacklogRate)
	for {
		c, entries, err := p.takeOnConn(ctx, live, limit)
		if err != nil {
			return err
		}
		msgs := make([]laneMsg, 0, len(entries))
		for _, e := range entries {
			topic, body, err := OpenEnvelope(e.Payload)
			if err != nil {
				p.undecodable.Add(1)
				p.log.Error("removing an outbox entry that is not an envelope", "seq", e.Seq, "err", err)
				if err := p.outbox.Ack(e.Seq); err != nil {
					p.release(c.epoch, entrySeqs(entries)...)
					return fmt.Errorf("publish: remove undecodable entry %d: %w", e.Seq, err)
				}
				continue
			}
			msgs = append(msgs, laneMsg{seq: e.Seq, topic: topic, body: body})
		}
		if len(msgs) == 0 {
			continue
		}
		select {
		case ready <- laneBatch{c: c, msgs: msgs}:
		case <-ctx.Done():
			p.release(c.epoch, msgSeqs(msgs)...)
			return ctx.Err()
		}
	}
}

// laneConn is what a lane publishes a batch on: one connection.
type laneConn struct {
	epoch  uint64
	conn   context.Context // ends when the connection is lost
	client mqtt.Client
}

// takeOnConn waits for a connection and takes the next entries of a lane
// for it. Entries it returns are in flight for that connection: if it is
// lost, loseEpoch returns them to the outbox (takeMu keeps every take
// either before or after a ReleaseAll). It returns an error only when ctx
// ends or the outbox fails.
func (p *Publisher) takeOnConn(ctx context.Context, live bool, limit *limiter) (laneConn, []buffer.Entry, error) {
	for {
		p.takeMu.RLock()
		p.mu.Lock()
		up, boundary := p.up, p.boundary
		c := laneConn{epoch: p.epoch, conn: p.conn}
		if p.cur != nil {
			c.client = p.cur.client
		}
		p.mu.Unlock()
		if !isClosed(up) {
			p.takeMu.RUnlock()
			select {
			case <-ctx.Done():
				return c, nil, ctx.Err()
			case <-up:
			}
			continue
		}
		if p.testHookLaneUp != nil {
			p.testHookLaneUp(live)
		}
		// The lane's wait ends with the connection: the next one has
		// another boundary.
		wait, endWait := context.WithCancel(ctx)
		stop := context.AfterFunc(c.conn, endWait)
		entries, err := p.take(wait, live, boundary, limit)
		stop()
		endWait()
		p.mu.Lock()
		lost := c.conn.Err() != nil // loseEpoch cancels it under p.mu
		p.mu.Unlock()
		p.takeMu.RUnlock()
		switch {
		case ctx.Err() != nil:
			p.release(c.epoch, entrySeqs(entries)...)
			return c, nil, ctx.Err()
		case lost:
			// The outbox can hand out ready entries after the wait
			// ended; the loss returns them to the outbox.
			p.resent.Add(int64(len(entries)))
			continue
		case err != nil:
			return c, nil, fmt.Errorf("publish: read outbox: %w", err)
		}
		return c, entries, nil
	}
}

// release returns entries taken for the connection of epoch to the
// outbox, unless that connection was lost meanwhile: loseEpoch has then
// returned them, and another lane may already have taken them again.
func (p *Publisher) release(epoch uint64, s ...buffer.Seq) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch == epoch && len(s) > 0 {
		p.outbox.Release(s...)
	}
}

// take reads the next entries of a lane: from boundary on for the live
// lane, below it (paced by limit) for the backlog lane. It takes up to a
// window at a time, at most maxTake: one outbox read per message would cost
// more than the publish (a read is a storage transaction), and a drain went
// about 1 % faster with a window's worth than with half.
func (p *Publisher) take(ctx context.Context, live bool, boundary buffer.Seq, limit *limiter) ([]buffer.Entry, error) {
	n := min(p.opts.Window, maxTake)
	if live {
		return p.outbox.NextFrom(ctx, n, boundary)
	}
	if err := limit.wait(ctx); err != nil {
		return nil, err
	}
	entries, err := p.outbox.NextBefore(ctx, min(n, limit.burst()), boundary)
	limit.spend(len(entries))
	return entries, err
}

// maxTake bounds the entries a lane reads at a time: with its batch being
// sent and the next read ahead, a lane holds at most twice this many
// entries opened in memory (3.2 KB each for a pulse oximeter's reading)
// besides the window.
const maxTake = 128

// limiter paces the backlog lane: rate entries a second, in bursts of at
// most a tenth of a second's worth. A rate of 0 is unlimited.
type limiter struct {
	rate   float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, tokens: 1, last: time.Now()}
}

func (l *limiter) burst() int {
	if l.rate <= 0 {
		return math.MaxInt
	}
	return max(1, int(l.rate/10))
}

func (l *limiter) refill() {
	now := time.Now()
	l.tokens = min(float64(l.burst()), l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
}

// wait blocks until at least one entry may be sent.
func (l *limiter) wait(ctx context.Context) error {
	if l.rate <= 0 {
		return nil
	}
	l.refill()
	if l.tokens >= 1 {
		return nil
	}
	t := time.NewTimer(time.Duration((1 - l.tokens) / l.rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		l.refill()
		return nil
	}
}

// spend takes n tokens (the balance may go below zero after a batch).
func (l *limiter) spend(n int) {
	if l.rate > 0 {
		l.tokens -= float64(n)
	}
}

func (p *Publisher) settle(pub publication) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch != pub.epoch {
		p.resent.Add(1)
		return
	}
	if err := pub.tok.Error(); err != nil {
		p.log.Warn("publish failed; the entry goes back to the outbox", "seq", pub.seq, "err", err)
		p.outbox.Release(pub.seq)
		p.resent.Add(1)
		return
	}
	if err := p.outbox.Ack(pub.seq); err != nil {
		p.log.Error("acknowledging a delivered entry failed; it will be sent again", "seq", pub.seq, "err", err)
		return
	}
	p.acked.Add(1)
	now := time.Now()
	p.lastAck.Store(now.UnixNano())
	if p.opts.OnAck != nil {
		p.opts.OnAck(now.Sub(pub.sent))
	}
}

func entrySeqs(entries []buffer.Entry) []buffer.Seq {
	s := make([]buffer.Seq, len(entries))
	for i, e := range entries {
		s[i] = e.Seq
	}
	return s
}

func msgSeqs(msgs []laneMsg) []buffer.Seq {
	s := make([]buffer.Seq, len(msgs))
	for i, m := range msgs {
		s[i] = m.seq
	}
	return s
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// noStore is a paho Store that keeps nothing: the outbox is the store.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
