package publish

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/tlsconfig"
)

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// clientTLS builds a client configuration trusting caFile and presenting
// certFile/keyFile (when set) without checking their validity, so that the
// broker is the one to judge them.
func clientTLS(t *testing.T, caFile, certFile, keyFile string) *tls.Config {
	t.Helper()
	pool, err := tlsconfig.ReadCAs(caFile)
	if err != nil {
		t.Fatal(err)
	}
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c
}

// expectConnectFailure runs a publisher with opts until it has failed to
// connect at least three times, and checks that it never connected, delivered
// nothing, reports an error containing every want, and logged each
// distinct error once. It returns the stats and the log.
func expectConnectFailure(t *testing.T, opts Options, want ...string) (Stats, string) {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	b := openBuffer(t)
	appendRecords(t, b, "test/obs", 0, 3)
	p, stop := startPublisherWith(t, b, opts)
	waitFor(t, "three failed connection attempts", 10*time.Second, func() bool { return p.Stats().ConnectFailures >= 3 })
	st := p.Stats()
	stop()
	failures := p.Stats().ConnectFailures
	if st.Connected || st.Connects != 0 || st.Acked != 0 {
		t.Errorf("stats %+v: want no connection and nothing delivered", st)
	}
	if got := b.Stats().Entries; got != 3 {
		t.Errorf("outbox holds %d entries, want the 3 undelivered", got)
	}
	for _, w := range want {
		if !strings.Contains(st.LastError, w) {
			t.Errorf("LastError %q does not mention %q", st.LastError, w)
		}
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "cannot connect to broker") {
			continue
		}
		reason := line[strings.Index(line, " err="):]
		if seen[reason] {
			t.Errorf("connection error logged more than once:%s", reason)
		}
		seen[reason] = true
	}
	if len(seen) == 0 || int64(len(seen)) >= failures {
		t.Errorf("%d failures, %d distinct errors logged, want repeated errors logged once:\n%s", failures, len(seen), logs)
	}
	return st, logs.String()
}

func TestMutualTLS(t *testing.T) {
	pki := brokertest.NewPKI(t)
	broker := brokertest.StartWith(t, brokertest.Options{TLS: &brokertest.TLS{
		CAFile: pki.CA, CertFile: pki.ServerCert, KeyFile: pki.ServerKey, RequireCertificate: true,
	}})
	if !strings.HasPrefix(broker.URL(), "ssl://") {
		t.Fatalf("TLS broker URL %q, want ssl://", broker.URL())
	}

	t.Run("delivers", func(t *testing.T) {
		c := collectTLS(t, broker.URL(), "test/obs", clientTLS(t, pki.CA, pki.ClientCert, pki.ClientKey))
		cfg, err := tlsconfig.Client(tlsconfig.Files{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b := openBuffer(t)
		appendRecords(t, b, "test/obs", 0, 20)
		p, stop := startPublisherWith(t, b, Options{Broker: broker.URL(), TLS: cfg})
		waitFor(t, "20 messages over mutual TLS", 10*time.Second, func() bool { return c.distinct() == 20 })
		stop()
		checkComplete(t, c, b, 20)
		if st := p.Stats(); st.Acked != 20 || st.LastError != "" || st.ConnectFailures != 0 {
			t.Errorf("stats %+v, want 20 acked and no connection error", st)
		}
	})

	// The failures wait for retries; run them side by side.
	t.Run("wrong CA", func(t *testing.T) {
		t.Parallel()
		_, _ = expectConnectFailure(t, Options{Broker: broker.URL(), TLS: clientTLS(t, pki.OtherCA, pki.ClientCert, pki.ClientKey)},
			"x509", "not signed by a trusted CA")
	})
	t.Run("expired client certificate", func(t *testing.T) {
		t.Parallel()
		// A broker of its own, so that its log speaks of this client only.
		own := brokertest.StartWith(t, brokertest.Options{TLS: &brokertest.TLS{
			CAFile: pki.CA, CertFile: pki.ServerCert, KeyFile: pki.ServerKey, RequireCertificate: true,
		}})
		_, _ = expectConnectFailure(t, Options{Broker: own.URL(), TLS: clientTLS(t, pki.CA, pki.ExpiredCert, pki.ExpiredKey)},
			"client certificate")
		if log := own.Log(); !strings.Contains(log, "certificate verify failed") || strings.Contains(log, "New client connected") {
			t.Errorf("the broker did not reject the expired certificate:\n%s", log)
		}
	})
	t.Run("client certificate from another CA", func(t *testing.T) {
		t.Parallel()
		_, _ = expectConnectFailure(t, Options{Broker: broker.URL(), TLS: clientTLS(t, pki.CA, pki.OtherCert, pki.OtherKey)},
			"client certificate")
	})
	t.Run("no client certificate", func(t *testing.T) {
		t.Parallel()
		_, _ = expectConnectFailure(t, Options{Broker: broker.URL(), TLS: clientTLS(t, pki.CA, "", "")},
			"client certificate")
	})
	t.Run("plaintext client", func(t *testing.T) {
		t.Parallel()
		_, _ = expectConnectFailure(t, Options{Broker: strings.Replace(broker.URL(), "ssl://", "tcp://", 1)}, "network Error", "use ssl://")
	})
}

func TestPasswordOverTLS(t *testing.T) {
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd not found (it ships with the mosquitto package): skipping the username/password case")
	}
	const user, password = "gw-ward7", "s3cret-Pa55-for-test"
	file := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(passwd, "-b", file, user, password).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	pki := brokertest.NewPKI(t)
	broker := brokertest.StartWith(t, brokertest.Options{
		TLS:          &brokertest.TLS{CAFile: pki.CA, CertFile: pki.ServerCert, KeyFile: pki.ServerKey},
		PasswordFile: file,
	})
	pool, err := tlsconfig.ReadCAs(pki.CA)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("right password", func(t *testing.T) {
		t.Parallel()
		b := openBuffer(t)
		appendRecords(t, b, "test/obs", 0, 5)
		p, stop := startPublisherWith(t, b, Options{Broker: broker.URL(), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			Username: user, Password: password})
		waitFor(t, "5 acknowledged", 10*time.Second, func() bool { return p.Stats().Acked == 5 })
		stop()
		if st := p.Stats(); st.LastError != "" {
			t.Errorf("LastError %q after a good connection", st.LastError)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		const wrong = "not-the-Pa55word"
		st, logs := expectConnectFailure(t, Options{Broker: broker.URL(), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			Username: user, Password: wrong}, "refused the credentials")
		if strings.Contains(st.LastError, wrong) || strings.Contains(logs, wrong) {
			t.Errorf("the password appears in LastError %q or in the log:\n%s", st.LastError, logs)
		}
	})
}
