package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Acceptor takes the messages the listener receives.
type Acceptor interface {
	// Accept takes one message (without its framing). It returns nil
	// only once everything the message carries that the gateway keeps is
	// durable: the sender is then acknowledged AA and may forget it. An
	// *Error is answered with its code and ERR segment; any other error
	// is answered AE (application internal error) and the message is not
	// remembered, so a resent copy is tried again. ctx is the listener's,
	// not the connection's: a sender that hangs up does not interrupt it.
	Accept(ctx context.Context, msg []byte) error
}

// AcceptFunc adapts a function to an Acceptor.
type AcceptFunc func(ctx context.Context, msg []byte) error

// Accept calls f.
func (f AcceptFunc) Accept(ctx context.Context, msg []byte) error { return f(ctx, msg) }

// Options configure a Listener.
type Options struct {
	// Addr is the TCP address to listen on, for example ":2575". Required.
	Addr string
	// TLS, when set, makes the listener speak TLS with this server
	// configuration (set ClientAuth and ClientCAs for client
	// certificates). The default is plain TCP.
	TLS *tls.Config
	// AllowedClients, with TLS, names the client certificates allowed
	// (subject common name or a DNS name); a verified certificate with
	// another name is refused. The default, empty, allows any certificate
	// the TLS configuration verifies.
	AllowedClients []string
	// AllowedSources, when not empty, are the only source addresses
	// allowed to connect. The default allows any.
	AllowedSources []netip.Prefix
	// MaxMessage bounds one message. The default is DefaultMaxMessage.
	MaxMessage int
	// Remember is how many acknowledged messages are remembered to
	// answer a resent copy AA without storing it again. The default is
	// DefaultRemember.
	Remember int
	// MaxConns bounds concurrent connections; more are closed at once.
	// The default is 64.
	MaxConns int
	// IdleTimeout closes a connection that sends nothing for this long.
	// The default is 10m (central stations keep one connection open).
	IdleTimeout time.Duration
	// WriteTimeout bounds writing one acknowledgement. The default is 10s.
	WriteTimeout time.Duration
	// Logger receives diagnostics, per-event ones at most once a minute
	// per kind. The default is slog.Default().
	Logger *slog.Logger
	// Now stamps acknowledgements. The default is time.Now.
	Now func() time.Time
}

// Stats counts what a listener has done.
type Stats struct {
	Connections int64 `json:"connections"` // connections served
	Refused     int64 `json:"refused"`     // connections refused (source, certificate, too many)
	Messages    int64 `json:"messages"`    // messages read
	AA          int64 `json:"aa"`          // acknowledged AA (duplicates included)
	AE          int64 `json:"ae"`
	AR          int64 `json:"ar"`
	Duplicates  int64 `json:"duplicates"`    // resent messages acknowledged without storing
	Unanswered  int64 `json:"unanswered"`    // acknowledgements the sender was gone for
	Skipped     int64 `json:"skipped_bytes"` // bytes outside frames
}

// Listener receives HL7 v2 messages over MLLP and acknowledges each one
// after its Acceptor has taken it.
type Listener struct {
	opts  Options
	acc   Acceptor
	ln    net.Listener
	seen  *seen
	log   *slog.Logger
	seq   atomic.Int64
	epoch string

	connections, refused, messages, aa, ae, ar, dups, unanswered, skipped atomic.Int64

	logMu   sync.Mutex
	logLast map[string]time.Time
}

// Listen binds opts.Addr; Serve then answers connections.
func Listen(opts Options, acc Acceptor) (*Listener, error) {
	if opts.Addr == "" || acc == nil {
		return nil, errors.New("mllp: Addr and an Acceptor are required")
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	if opts.Remember <= 0 {
		opts.Remember = DefaultRemember
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 64
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 10 * time.Minute
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("mllp: listen: %w", err)
	}
	return &Listener{
		opts: opts, acc: acc, ln: ln, seen: newSeen(opts.Remember), log: opts.Logger,
		epoch: strconv.FormatInt(opts.Now().Unix(), 36), logLast: map[string]time.Time{},
	}, nil
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Stats reports the counters. Safe for concurrent use.
func (l *Listener) Stats() Stats {
	return Stats{
		Connections: l.connections.Load(), Refused: l.refused.Load(), Messages: l.messages.Load(),
		AA: l.aa.Load(), AE: l.ae.Load(), AR: l.ar.Load(), Duplicates: l.dups.Load(),
		Unanswered: l.unanswered.Load(), Skipped: l.skipped.Load(),
	}
}

// Serve answers connections until ctx ends, then closes the listener and
// every connection and waits for messages being accepted. It returns nil
// after ctx ends, or the error that stopped accepting connections.
func (l *Listener) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		l.ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	var err error
	for {
		c, aerr := l.ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("mllp: accept: %w", aerr)
				l.ln.Close()
			}
			break
		}
		mu.Lock()
		if len(conns) >= l.opts.MaxConns || ctx.Err() != nil {
			mu.Unlock()
			l.refuse(c, "too many connections")
			continue
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			l.serveConn(ctx, c)
		}()
	}
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	return err
}

func (l *Listener) refuse(c net.Conn, why string) {
	l.refused.Add(1)
	l.logLimited("refused:"+why, "MLLP connection refused", "remote", c.RemoteAddr().String(), "reason", why)
	c.Close()
}

// admit checks a new connection's source address and, with TLS, its
// client certificate; it returns the connection to read or why it is
// refused.
func (l *Listener) admit(ctx context.Context, c net.Conn) (net.Conn, string) {
	if len(l.opts.AllowedSources) > 0 {
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil || !slices.ContainsFunc(l.opts.AllowedSources, func(p netip.Prefix) bool { return p.Contains(ap.Addr().Unmap()) }) {
			return nil, "source address not allowed"
		}
	}
	if l.opts.TLS == nil {
		return c, ""
	}
	tc := tls.Server(c, l.opts.TLS)
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return nil, "TLS handshake failed: " + err.Error()
	}
	if len(l.opts.AllowedClients) > 0 {
		certs := tc.ConnectionState().PeerCertificates
		if len(certs) == 0 {
			return nil, "no client certificate"
		}
		names := append([]string{certs[0].Subject.CommonName}, certs[0].DNSNames...)
		if !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(l.opts.AllowedClients, n) }) {
			return nil, "client certificate not allowed"
		}
	}
	return tc, ""
}

func (l *Listener) serveConn(ctx context.Context, raw net.Conn) {
	c, why := l.admit(ctx, raw)
	if c == nil {
		l.refuse(raw, why)
		return
	}
	l.connections.Add(1)
	rd := NewReader(c, l.opts.MaxMessage)
	defer func() { l.skipped.Add(rd.Skipped()) }()
	for {
		c.SetReadDeadline(time.Now().Add(l.opts.IdleTimeout))
		msg, err := rd.Next()
		var big *TooLargeError
		switch {
		case errors.As(err, &big):
			msg = big.Head
		case err != nil:
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				l.logLimited("conn:"+err.Error(), "MLLP connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		l.messages.Add(1)
		reply := l.answer(ctx, msg, big)
		if ctx.Err() != nil && reply == nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
		if _, err := c.Write(Frame(reply)); err != nil {
			// The message stays taken (or not) as answered: a sender
			// that did not get the ACK sends it again and a remembered
			// one is answered AA without storing it twice.
			l.unanswered.Add(1)
			return
		}
	}
}

// answer takes one message and returns its acknowledgement, or nil when
// the listener is stopping before the message was taken.
func (l *Listener) answer(ctx context.Context, msg []byte, big *TooLargeError) []byte {
	h, _ := readHeader(msg)
	if big != nil {
		return l.reply(h, &Error{Code: AR, Condition: CondApplicationError, Text: big.Error()})
	}
	key := h.key()
	if key != "" {
		if l.seen.begin(key) {
			l.dups.Add(1)
			return l.reply(h, nil)
		}
	}
	err := l.acc.Accept(ctx, msg)
	if key != "" {
		l.seen.end(key, err == nil)
	}
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e):
		l.logLimited("reject:"+e.Condition, "HL7 message not accepted", "code", string(e.Code), "condition", e.Condition, "err", e.Text)
	case ctx.Err() != nil:
		return nil
	default:
		l.log.Error("an HL7 message could not be stored; the sender will resend it", "err", err)
		e = &Error{Code: AE, Condition: CondApplicationError, Text: "the gateway could not store the message; send it again"}
	}
	return l.reply(h, e)
}

func (l *Listener) reply(h header, e *Error) []byte {
	code := AA
	if e != nil {
		code = e.Code
	}
	switch code {
	case AA:
		l.aa.Add(1)
	case AR:
		l.ar.Add(1)
	default:
		l.ae.Add(1)
	}
	id := "BG" + l.epoch + "-" + strconv.FormatInt(l.seq.Add(1), 10)
	return ack(h, code, e, id, l.opts.Now())
}

// logLimited logs a warning at most once a minute per kind.
func (l *Listener) logLimited(kind, msg string, args ...any) {
	l.logMu.Lock()
	now := time.Now()
	last, ok := l.logLast[kind]
	if ok && now.Sub(last) < time.Minute {
		l.logMu.Unlock()
		return
	}
	if len(l.logLast) > 1024 {
		clear(l.logLast)
	}
	l.logLast[kind] = now
	l.logMu.Unlock()
	l.log.Warn(msg, args...)
}
