package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/gateway/tlsconfig"
)

// HL7Driver is the driver name of beds fed by the MLLP listener.
const HL7Driver = hl7v2.DriverName

// Which patient identity wins for HL7 v2 readings (MLLP.Patient).
const (
	// PatientFromBed: the bed's association (admission feed or static
	// assignment) names the patient; the sender's PID is only checked
	// against it. The default.
	PatientFromBed = "bed"
	// PatientFromSender: the sender's PID NHS number names the patient,
	// also for a bed with no association; the bed's association, when
	// there is one, is checked against it.
	PatientFromSender = "sender"
)

// DefaultMLLPMaxMessage is the default mllp.max_message: 1 MiB.
const DefaultMLLPMaxMessage = 1 << 20

// MLLP configures the HL7 v2 ORU^R01 listener for monitors on the network
// (central stations, vendor gateways). It is off unless Listen is set.
type MLLP struct {
	// Listen is the TCP address, for example ":2575". Empty: no listener.
	Listen string `mapstructure:"listen"`
	// CertFile and KeyFile make the listener speak TLS (both or neither).
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ClientCAFile, with TLS, requires client certificates signed by
	// these CAs.
	ClientCAFile string `mapstructure:"client_ca_file"`
	// AllowedClients, with ClientCAFile, names the client certificates
	// allowed (common name or DNS name). The default allows every
	// certificate the CAs verify.
	AllowedClients []string `mapstructure:"allowed_clients"`
	// AllowedSources are the addresses or CIDR prefixes allowed to
	// connect. The default allows any.
	AllowedSources []string `mapstructure:"allowed_sources"`
	// MaxMessage bounds one message in bytes. The default is 1 MiB.
	MaxMessage int `mapstructure:"max_message"`
	// Patient is which identity wins: "bed" (the default) or "sender"
	// (see PatientFromBed, PatientFromSender). A disagreement is
	// quarantined either way.
	Patient string `mapstructure:"patient"`
	// Codes maps vendor OBX-3 codes ("system:code", lower case) to MDC
	// terms: {mdc: 147842, ref: MDC_ECG_HEART_RATE, unit: /min}.
	Codes hl7v2.CodeTable `mapstructure:"codes"`
}

// Sources parses AllowedSources.
func (m MLLP) Sources() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range m.AllowedSources {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q: not an address or CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// TLSConfig returns the listener's TLS configuration, checking
// certificate validity at now, or nil for plain TCP.
func (m MLLP) TLSConfig(now time.Time) (*tls.Config, error) {
	if m.CertFile == "" {
		return nil, nil
	}
	pair, err := tlsconfig.ReadKeyPair(m.CertFile, m.KeyFile, now)
	if err != nil {
		return nil, fmt.Errorf("config: mllp: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if m.ClientCAFile != "" {
		if c.ClientCAs, err = tlsconfig.ReadCAs(m.ClientCAFile); err != nil {
			return nil, fmt.Errorf("config: mllp: %w", err)
		}
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

func (m MLLP) validate(bad func(key, format string, args ...any)) {
	if m.Listen != "" {
		if _, _, err := net.SplitHostPort(m.Listen); err != nil {
			bad("mllp.listen", "%q: give host:port or :port (for example :2575)", m.Listen)
		}
	}
	switch {
	case (m.CertFile == "") != (m.KeyFile == ""):
		bad("mllp.cert_file", "mllp.cert_file and mllp.key_file go together")
	case m.CertFile != "":
		if _, err := m.TLSConfig(time.Now()); err != nil {
			bad("mllp.cert_file", "%s", strings.TrimPrefix(err.Error(), "config: mllp: "))
		}
	case m.ClientCAFile != "":
		bad("mllp.client_ca_file", "needs TLS: set mllp.cert_file and mllp.key_file")
	}
	if len(m.AllowedClients) > 0 && m.ClientCAFile == "" {
		bad("mllp.allowed_clients", "needs mllp.client_ca_file to verify client certificates")
	}
	if _, err := m.Sources(); err != nil {
		bad("mllp.allowed_sources", "%w", err)
	}
	if m.MaxMessage < 1024 {
		bad("mllp.max_message", "%d: must be at least 1024", m.MaxMessage)
	}
	if m.Patient != PatientFromBed && m.Patient != PatientFromSender {
		bad("mllp.patient", "%q: must be bed or sender", m.Patient)
	}
	for k, code := range m.Codes {
		if code.MDC == 0 {
			bad("mllp.codes."+k, "mdc: required (the IEEE 11073-10101 code, for example 147842)")
		}
	}
}

// checkSource checks the source of a bed fed over MLLP.
func (c *Config) checkSource(i int, b Bed, seen map[string]int, bad func(key, format string, args ...any)) {
	key := fmt.Sprintf("beds[%d]", i)
	switch {
	case b.Driver != HL7Driver:
		bad(key+".source", "only for driver %s", HL7Driver)
		return
	case b.Port != "" || b.USB != "":
		bad(key+".port", "a bed with driver %s is fed over the network: no port or usb", HL7Driver)
	case c.MLLP.Listen == "":
		bad(key+".driver", "%s needs mllp.listen", HL7Driver)
	}
	kind, id, ok := strings.Cut(b.Source, ":")
	if !ok || id == "" || (kind != "pv1" && kind != "obx18") {
		bad(key+".source", "%q: give pv1:POINT-OF-CARE^ROOM^BED or obx18:EQUIPMENT-ID", b.Source)
		return
	}
	if j, dup := seen[b.Source]; dup {
		bad(key+".source", "%q is also the source of beds[%d]", b.Source, j)
	}
	seen[b.Source] = i
}
