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
