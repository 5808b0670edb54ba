package tlsconfig

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClient(t *testing.T) {
	pki := brokertest.NewPKI(t)
	now := time.Now()
	bundle := func() string {
		a, err := os.ReadFile(pki.CA)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(pki.OtherCA)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, "bundle.pem", string(a)+string(b))
	}()
	tests := []struct {
		name      string
		files     Files
		wantCerts int
		want      []string // substrings of the error; none means success
	}{
		{"system roots", Files{}, 0, nil},
		{"CA only", Files{CA: pki.CA, ServerName: "broker.example"}, 0, nil},
		{"CA bundle of two", Files{CA: bundle}, 0, nil},
		{"mutual TLS", Files{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}, 1, nil},
		{"missing CA file", Files{CA: filepath.Join(t.TempDir(), "nope.pem")}, 0, []string{"nope.pem", "no such file"}},
		{"CA file without certificates", Files{CA: writeFile(t, "empty.pem", "not PEM at all\n")}, 0, []string{"no PEM certificate"}},
		{"CA file with a broken certificate", Files{CA: writeFile(t, "broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}, 0, []string{"PEM block 1"}},
		{"key given as CA", Files{CA: pki.ClientKey}, 0, []string{"no PEM certificate"}},
		{"expired client certificate", Files{Cert: pki.ExpiredCert, Key: pki.ExpiredKey}, 0,
			[]string{"expired on " + pki.ExpiredNotAfter.UTC().Format(time.RFC3339)}},
		{"key of another certificate", Files{Cert: pki.ClientCert, Key: pki.OtherKey}, 0, []string{pki.OtherKey, "does not fit"}},
		{"certificate as key", Files{Cert: pki.ClientCert, Key: pki.ClientCert}, 0, []string{"no PEM private key"}},
		{"certificate without key", Files{Cert: pki.ClientCert}, 0, []string{"both a certificate file and a key file"}},
		{"key without certificate", Files{Key: pki.ClientKey}, 0, []string{"both a certificate file and a key file"}},
		{"every problem at once", Files{CA: writeFile(t, "x.pem", ""), Cert: pki.ExpiredCert, Key: pki.ExpiredKey}, 0,
			[]string{"no PEM certificate", "expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Client(tt.files, now)
			if tt.want != nil {
				if err == nil {
					t.Fatal("Client succeeded, want an error")
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			if c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify {
				t.Errorf("MinVersion %x InsecureSkipVerify %v, want TLS 1.2 and verification", c.MinVersion, c.InsecureSkipVerify)
			}
			if (tt.files.CA == "") != (c.RootCAs == nil) {
				t.Errorf("RootCAs set %v, want %v", c.RootCAs != nil, tt.files.CA != "")
			}
			if c.ServerName != tt.files.ServerName {
				t.Errorf("ServerName %q, want %q", c.ServerName, tt.files.ServerName)
			}
			if len(c.Certificates) != tt.wantCerts {
				t.Fatalf("%d client certificates, want %d", len(c.Certificates), tt.wantCerts)
			}
			if tt.wantCerts > 0 && c.Certificates[0].Leaf.Subject.CommonName != "bedgate test client" {
				t.Errorf("leaf %q, want the client certificate", c.Certificates[0].Leaf.Subject.CommonName)
			}
		})
	}
}

// TestClientHandshake checks that the built configurations verify a real
// TLS server: the right CA is accepted, another CA is refused, and the
// server sees the client certificate.
func TestClientHandshake(t *testing.T) {
	pki := brokertest.NewPKI(t)
	serverPair, err := tls.LoadX509KeyPair(pki.ServerCert, pki.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	clientCAs, err := ReadCAs(pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientCAs: clientCAs, ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peers := make(chan string, 4)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			if err := tc.Handshake(); err == nil && len(tc.ConnectionState().PeerCertificates) > 0 {
				peers <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
			}
			tc.Close()
		}
	}()
	tests := []struct {
		name  string
		files Files
		ok    bool
	}{
		{"right CA", Files{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}, true},
		{"right CA, server name localhost", Files{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey, ServerName: "localhost"}, true},
		{"wrong server name", Files{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey, ServerName: "epr-broker.example"}, false},
		{"other CA", Files{CA: pki.OtherCA, Cert: pki.ClientCert, Key: pki.ClientKey}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Client(tt.files, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ServerName == "" {
				cfg.ServerName = "127.0.0.1" // as tls.Dial does from the address
			}
			conn, err := tls.Dial("tcp", l.Addr().String(), cfg)
			if err == nil {
				err = conn.Handshake()
				conn.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("handshake error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok {
				select {
				case cn := <-peers:
					if cn != "bedgate test client" {
						t.Errorf("server saw client %q", cn)
					}
				case <-time.After(5 * time.Second):
					t.Error("server did not see the client certificate")
				}
			}
		})
	}
}
