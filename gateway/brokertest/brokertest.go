package brokertest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Broker is one mosquitto process listening on 127.0.0.1.
type Broker struct {
	t    testing.TB
	bin  string
	dir  string
	tls  bool
	Port int

	mu  sync.Mutex
	cmd *exec.Cmd
	log *logBuffer
}

// logBuffer is mosquitto's output, written by the process's copying
// goroutine and read by tests.
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

// Binary finds the mosquitto executable.
func Binary() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mosquitto not found: install it (apt-get install -y mosquitto)")
}

// Start starts mosquitto on a free loopback port and stops it when the
// test ends. extraConf is appended to the generated configuration.
func Start(t testing.TB, extraConf string) *Broker {
	t.Helper()
	return StartWith(t, Options{Conf: extraConf})
}

// Options configure StartWith.
type Options struct {
	// TLS, when set, makes the listener TLS only.
	TLS *TLS
	// PasswordFile, when set, is a mosquitto password file (made with
	// mosquitto_passwd) and anonymous clients are refused.
	PasswordFile string
	// Conf is appended to the generated configuration.
	Conf string
}

// TLS configures a TLS listener with PEM files.
type TLS struct {
	// CAFile verifies client certificates.
	CAFile string
	// CertFile and KeyFile are the broker's certificate and key.
	CertFile, KeyFile string
	// RequireCertificate refuses clients without a certificate signed by
	// CAFile (mutual TLS).
	RequireCertificate bool
}

// StartWith starts mosquitto on a free loopback port as o describes and
// stops it when the test ends.
func StartWith(t testing.TB, o Options) *Broker {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("BEDGATE_SKIP_BROKER_TESTS") == "1" {
			t.Skip("BEDGATE_SKIP_BROKER_TESTS=1 and " + err.Error())
		}
		t.Fatalf("brokertest: %v (or set BEDGATE_SKIP_BROKER_TESTS=1 to skip real-broker tests)", err)
	}
	b := &Broker{t: t, bin: bin, dir: t.TempDir(), tls: o.TLS != nil, Port: freePort(t)}
	// Persistence keeps subscribers' sessions (and the messages queued for
	// them) across Stop and Restart, as a production broker would.
	var conf strings.Builder
	fmt.Fprintf(&conf, "listener %d 127.0.0.1\npersistence true\npersistence_location %s/\nmax_queued_messages 1000000\n", b.Port, b.dir)
	if o.PasswordFile != "" {
		fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", o.PasswordFile)
	} else {
		conf.WriteString("allow_anonymous true\n")
	}
	if o.TLS != nil {
		fmt.Fprintf(&conf, "cafile %s\ncertfile %s\nkeyfile %s\ntls_version tlsv1.2\nrequire_certificate %t\n",
			o.TLS.CAFile, o.TLS.CertFile, o.TLS.KeyFile, o.TLS.RequireCertificate)
	}
	conf.WriteString(o.Conf + "\n")
	if os.Geteuid() == 0 {
		// Started as root, mosquitto drops to the "mosquitto" user, which
		// cannot write its database into the test's directory nor read key
		// and password files that only root may read.
		conf.WriteString("user root\n")
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Restart()
	t.Cleanup(b.Stop)
	return b
}

// URL is the broker's URL: tcp://127.0.0.1:port, or ssl://127.0.0.1:port
// for a TLS listener.
func (b *Broker) URL() string {
	if b.tls {
		return "ssl://127.0.0.1:" + strconv.Itoa(b.Port)
	}
	return "tcp://127.0.0.1:" + strconv.Itoa(b.Port)
}

// Log returns what mosquitto has written since it last started.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.log == nil {
		return ""
	}
	return b.log.String()
}

// Restart starts the broker again on the same port after Stop.
func (b *Broker) Restart() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		b.t.Fatal("brokertest: Restart while running")
	}
	b.log = new(logBuffer)
	cmd := exec.Command(b.bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	cmd.Stdout, cmd.Stderr = b.log, b.log
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("brokertest: start mosquitto: %v", err)
	}
	b.cmd = cmd
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("brokertest: mosquitto did not listen on port %d: %v\n%s", b.Port, err, b.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the broker (SIGTERM, then SIGKILL). Stopping twice is harmless.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.cmd = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("brokertest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// PKI is a set of PEM files for TLS tests, written by NewPKI: a CA, a broker
// certificate for 127.0.0.1 and localhost, client certificates, and a
// second CA that nothing else trusts. Every key file is mode 0600.
type PKI struct {
	// CA is the certificate of the CA that signs everything below except
	// the Other* files.
	CA string
	// ServerCert and ServerKey are the broker's, for 127.0.0.1 and localhost.
	ServerCert, ServerKey string
	// ClientCert and ClientKey are a valid client certificate and its key.
	ClientCert, ClientKey string
	// ExpiredCert and ExpiredKey are a client certificate that expired a
	// day ago, and its key.
	ExpiredCert, ExpiredKey string
	// ExpiredNotAfter is when ExpiredCert expired.
	ExpiredNotAfter time.Time
	// OtherCA is an unrelated CA; OtherCert and OtherKey are a client
	// certificate it signed.
	OtherCA, OtherCert, OtherKey string
}

// NewPKI generates a PKI in a temporary directory of the test.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	ca, caKey := newCA(t, "bedgate test CA", now)
	other, otherKey := newCA(t, "unrelated test CA", now)
	p := &PKI{
		CA:              writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Raw, 0o644),
		OtherCA:         writePEM(t, dir, "other-ca.pem", "CERTIFICATE", other.Raw, 0o644),
		ExpiredNotAfter: now.Add(-24 * time.Hour).Truncate(time.Second),
	}
	p.ServerCert, p.ServerKey = newLeaf(t, dir, "server", ca, caKey, now.Add(-time.Hour), now.Add(24*time.Hour), true)
	p.ClientCert, p.ClientKey = newLeaf(t, dir, "client", ca, caKey, now.Add(-time.Hour), now.Add(24*time.Hour), false)
	p.ExpiredCert, p.ExpiredKey = newLeaf(t, dir, "expired", ca, caKey, now.Add(-48*time.Hour), p.ExpiredNotAfter, false)
	p.OtherCert, p.OtherKey = newLeaf(t, dir, "other-client", other, otherKey, now.Add(-time.Hour), now.Add(24*time.Hour), false)
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("brokertest: generate key: %v", err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newCA(t testing.TB, name string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-72 * time.Hour),
		NotAfter:              now.Add(72 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("brokertest: create CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func newLeaf(t testing.TB, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, notBefore, notAfter time.Time, server bool) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "bedgate test " + name},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatalf("brokertest: create %s certificate: %v", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".pem", "CERTIFICATE", der, 0o644), writePEM(t, dir, name+"-key.pem", "PRIVATE KEY", keyDER, 0o600)
}

func writePEM(t testing.TB, dir, name, typ string, der []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
	return path
}
