// Package tlsconfig builds the TLS client configuration of the MQTT link
// from PEM files: the CA bundle that verifies the broker and the optional
// client certificate and key for mutual TLS. It checks what it reads (every
// certificate parses, the key matches the certificate, the certificate is
// within its validity period) so that a bad file is reported when the
// gateway starts, not as a failed handshake later. Certificate verification
// is never switched off, and TLS 1.2 is the minimum.
package tlsconfig
