package tlsconfig

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// Files names the PEM files and the server name of a TLS client.
type Files struct {
	// CA is a PEM bundle of the certificates trusted to sign the broker's
	// certificate; only these are trusted. Empty means the system roots.
	CA string
	// Cert and Key are the client certificate (optionally followed by its
	// intermediates) and its private key, for mutual TLS. Both or neither.
	Cert, Key string
	// ServerName is the name verified in the broker's certificate. Empty
	// means the host of the broker URL.
	ServerName string
}

// Client builds a TLS client configuration from f, checking certificate
// validity at now. It returns every problem found, joined.
func Client(f Files, now time.Time) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	var errs []error
	if f.CA != "" {
		pool, err := ReadCAs(f.CA)
		if err != nil {
			errs = append(errs, err)
		}
		c.RootCAs = pool
	}
	switch {
	case f.Cert == "" && f.Key == "":
	case f.Cert == "" || f.Key == "":
		errs = append(errs, errors.New("tlsconfig: a client certificate needs both a certificate file and a key file"))
	default:
		pair, err := ReadKeyPair(f.Cert, f.Key, now)
		if err != nil {
			errs = append(errs, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadCAs reads a PEM bundle of CA certificates. Every CERTIFICATE block
// must parse and there must be at least one.
func ReadCAs(path string) (*x509.CertPool, error) {
	certs, err := readCertificates(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// ReadCertificate reads a PEM certificate file and returns its first
// certificate (the leaf), after checking that it is valid at now.
func ReadCertificate(path string, now time.Time) (*x509.Certificate, error) {
	certs, err := readCertificates(path)
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	if err := checkValidity(leaf, now); err != nil {
		return nil, fmt.Errorf("tlsconfig: %s: %w", path, err)
	}
	return leaf, nil
}

// ReadKeyPair reads a client certificate and its private key, checking that
// the certificate is valid at now and that the key matches it.
func ReadKeyPair(certFile, keyFile string, now time.Time) (tls.Certificate, error) {
	leaf, err := ReadCertificate(certFile, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconfig: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconfig: %w", err)
	}
	if !containsPrivateKey(keyPEM) {
		return tls.Certificate{}, fmt.Errorf("tlsconfig: %s: no PEM private key found", keyFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The errors of X509KeyPair never quote key material.
		return tls.Certificate{}, fmt.Errorf("tlsconfig: %s does not fit certificate %s: %w", keyFile, certFile, err)
	}
	pair.Leaf = leaf
	return pair, nil
}

func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: %w", err)
	}
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsconfig: %s: PEM block %d: %w", path, n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("tlsconfig: %s: no PEM certificate found", path)
	}
	return certs, nil
}

func checkValidity(c *x509.Certificate, now time.Time) error {
	name := c.Subject.CommonName
	if name == "" {
		name = c.Subject.String()
	}
	switch {
	case now.After(c.NotAfter):
		return fmt.Errorf("certificate %q expired on %s", name, c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Errorf("certificate %q is not valid before %s", name, c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

func containsPrivateKey(data []byte) bool {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if bytes.HasSuffix([]byte(block.Type), []byte("PRIVATE KEY")) {
			return true
		}
	}
}
