package mllp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/gateway/brokertest"
)

// recorder is an Acceptor that parses each message with drivers/hl7v2
// and keeps the control ids it took; a message whose MSH-10 starts with
// "FAIL" fails as storage would, "UNKNOWN" is refused as an unknown bed.
type recorder struct {
	mu    sync.Mutex
	taken []string
	gate  chan struct{} // when set, Accept waits for it
}

func (r *recorder) Accept(ctx context.Context, msg []byte) error {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	oru, err := hl7v2.ParseORU(msg, hl7v2.Options{})
	if err != nil {
		return FromParseError(err)
	}
	switch id := oru.Header.ControlID; {
	case strings.HasPrefix(id, "FAIL"):
		return errors.New("disk full")
	case strings.HasPrefix(id, "UNKNOWN"):
		return &Error{Code: AE, Condition: CondUnknownKey, Segment: "PV1", Seq: 2, Field: 3, Text: "no bed is configured for this location"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.taken = append(r.taken, oru.Header.ControlID)
	return nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.taken...)
}

func oru(id, version string) []byte {
	return []byte("MSH|^~\\&|CENTRAL|ICU|BEDGATE|RXX|20261126101500+0000||ORU^R01^ORU_R01|" + id + "|P|" + version + "\r" +
		"PV1|1|I|ICU^^BED3\rOBR|1|||x|||20261126101458+0000\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%|||||R\r")
}

// start serves a listener for the test and returns it.
func start(t *testing.T, opts Options, acc Acceptor) *Listener {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	l, err := Listen(opts, acc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l
}

type client struct {
	t  *testing.T
	c  net.Conn
	rd *Reader
}

func dial(t *testing.T, l *Listener) *client {
	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, rd: NewReader(bufio.NewReader(c), 0)}
}

func (c *client) send(raw []byte) {
	c.t.Helper()
	if _, err := c.c.Write(raw); err != nil {
		c.t.Fatal(err)
	}
}

// ack reads one acknowledgement and returns MSA-1, MSA-2 and ERR-3.1
// (ERR-1.4.1 before 2.5).
func (c *client) ack() (code, id, cond string) {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, err := c.rd.Next()
	if err != nil {
		c.t.Fatalf("reading the ACK: %v", err)
	}
	m, err := hl7v2.Parse(raw)
	if err != nil {
		c.t.Fatalf("ACK %q: %v", raw, err)
	}
	msa, ok := m.First("MSA")
	if !ok {
		c.t.Fatalf("ACK without MSA: %q", raw)
	}
	if e, ok := m.First("ERR"); ok {
		cond = e.C(3, 1)
		if cond == "" {
			cond = e.Get(1, 1, 4, 1)
		}
	}
	return msa.C(1, 1), msa.C(2, 1), cond
}

func TestListenerAnswers(t *testing.T) {
	rec := &recorder{}
	l := start(t, Options{MaxMessage: 64 << 10}, rec)
	c := dial(t, l)
	big := append(oru("BIG-1", "2.6"), []byte(strings.Repeat("NTE|1||padding\r", 10000))...)
	for _, tc := range []struct {
		name       string
		raw        []byte
		code, cond string
		id         string
	}{
		{"accepted", Frame(oru("M-1", "2.6")), "AA", "", "M-1"},
		{"accepted 2.3", Frame(oru("M-2", "2.3")), "AA", "", "M-2"},
		{"resent", Frame(oru("M-1", "2.6")), "AA", "", "M-1"},
		{"no MSH", Frame([]byte("PID|1||x\r")), "AR", CondSegmentSequence, ""},
		{"wrong field separator", Frame([]byte("MSH^~\\&|CENTRAL|ICU|||x||ORU^R01|M-3|P|2.6\r")), "AR", CondDataType, ""},
		{"not ORU", Frame([]byte(strings.Replace(string(oru("M-4", "2.6")), "ORU^R01", "ADT^A01", 1))), "AR", CondUnsupportedType, "M-4"},
		{"version 2.2", Frame(oru("M-5", "2.2")), "AR", CondUnsupportedVer, "M-5"},
		{"version 2.4 ERR layout", Frame(oru("UNKNOWN-1", "2.4")), "AE", CondUnknownKey, "UNKNOWN-1"},
		{"unknown bed", Frame(oru("UNKNOWN-2", "2.6")), "AE", CondUnknownKey, "UNKNOWN-2"},
		{"storage failed", Frame(oru("FAIL-1", "2.6")), "AE", CondApplicationError, "FAIL-1"},
		{"too large", Frame(big), "AR", CondApplicationError, "BIG-1"},
		{"split across reads", Frame(oru("M-6", "2.6")), "AA", "", "M-6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "split across reads" {
				for _, b := range tc.raw {
					c.send([]byte{b})
				}
			} else {
				c.send(tc.raw)
			}
			code, id, cond := c.ack()
			if code != tc.code || cond != tc.cond || id != tc.id {
				t.Fatalf("ACK %s %q ERR %q, want %s %q ERR %q", code, id, cond, tc.code, tc.id, tc.cond)
			}
		})
	}
	// Two messages in one write: two answers, in order.
	c.send(append(Frame(oru("M-7", "2.6")), Frame(oru("M-8", "2.6"))...))
	for _, want := range []string{"M-7", "M-8"} {
		if code, id, _ := c.ack(); code != "AA" || id != want {
			t.Fatalf("pipelined: %s %s, want AA %s", code, id, want)
		}
	}
	if got, want := strings.Join(rec.ids(), ","), "M-1,M-2,M-6,M-7,M-8"; got != want {
		t.Fatalf("taken %s, want %s (the resent M-1 once)", got, want)
	}
	st := l.Stats()
	if st.AA != 6 || st.AE != 3 || st.AR != 5 || st.Duplicates != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A sender that hangs up before its ACK does not lose the message, and
// its resent copy is answered AA without being taken twice.
func TestListenerSenderGoneBeforeACK(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	l := start(t, Options{}, rec)
	c := dial(t, l)
	c.send(Frame(oru("GONE-1", "2.6")))
	waitFor(t, func() bool { return l.Stats().Messages == 1 })
	c.c.Close()
	close(rec.gate) // storing completes after the sender left
	waitFor(t, func() bool { return len(rec.ids()) == 1 })
	c2 := dial(t, l)
	c2.send(Frame(oru("GONE-1", "2.6")))
	if code, id, _ := c2.ack(); code != "AA" || id != "GONE-1" {
		t.Fatalf("resend: %s %s", code, id)
	}
	if n := len(rec.ids()); n != 1 || l.Stats().Duplicates != 1 {
		t.Fatalf("taken %d times, duplicates %d", n, l.Stats().Duplicates)
	}
}

// A message that failed to store is not remembered: its resent copy is
// taken.
func TestListenerRetryAfterFailure(t *testing.T) {
	var fail sync.Once
	rec := &recorder{}
	acc := AcceptFunc(func(ctx context.Context, msg []byte) error {
		failed := false
		fail.Do(func() { failed = true })
		if failed {
			return errors.New("outbox closed")
		}
		return rec.Accept(ctx, msg)
	})
	c := dial(t, start(t, Options{}, acc))
	for _, want := range []string{"AE", "AA", "AA"} {
		c.send(Frame(oru("R-1", "2.6")))
		if code, _, _ := c.ack(); code != want {
			t.Fatalf("got %s, want %s", code, want)
		}
	}
	if n := len(rec.ids()); n != 1 {
		t.Fatalf("taken %d times, want 1", n)
	}
}

func TestListenerRefusesSources(t *testing.T) {
	rec := &recorder{}
	l := start(t, Options{AllowedSources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, rec)
	c := dial(t, l)
	c.send(Frame(oru("S-1", "2.6")))
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.rd.Next(); err == nil {
		t.Fatal("a refused source got an answer")
	}
	if l.Stats().Refused != 1 || len(rec.ids()) != 0 {
		t.Fatalf("stats %+v, taken %v", l.Stats(), rec.ids())
	}
}

func TestListenerTLSClients(t *testing.T) {
	pki := brokertest.NewPKI(t)
	server, err := tls.LoadX509KeyPair(pki.ServerCert, pki.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(pki.CA)
	pool.AppendCertsFromPEM(caPEM)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		name     string
		allowed  []string
		cert     [2]string
		accepted bool
	}{
		{"allowed client", []string{"bedgate test client"}, [2]string{pki.ClientCert, pki.ClientKey}, true},
		{"client not in the list", []string{"someone else"}, [2]string{pki.ClientCert, pki.ClientKey}, false},
		{"certificate of another CA", nil, [2]string{pki.OtherCert, pki.OtherKey}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			l := start(t, Options{TLS: serverTLS, AllowedClients: tc.allowed}, rec)
			cert, err := tls.LoadX509KeyPair(tc.cert[0], tc.cert[1])
			if err != nil {
				t.Fatal(err)
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", l.Addr().String(),
				&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"})
			var code string
			if err == nil {
				defer conn.Close()
				c := &client{t: t, c: conn, rd: NewReader(conn, 0)}
				_, err = conn.Write(Frame(oru("T-1", "2.6")))
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				var raw []byte
				if raw, err = c.rd.Next(); err == nil {
					code = strings.SplitN(strings.SplitN(string(raw), "MSA|", 2)[1], "|", 2)[0]
				}
			}
			if got := code == "AA"; got != tc.accepted {
				t.Fatalf("accepted %v (err %v), want %v", got, err, tc.accepted)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.accepted]; len(rec.ids()) != want {
				t.Fatalf("taken %v", rec.ids())
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ExampleFrame() {
	fmt.Printf("%q\n", Frame([]byte("MSH|^~\\&|...")))
	// Output: "\vMSH|^~\\&|...\x1c\r"
}
