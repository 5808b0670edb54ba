package config

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
)

const mllpYAML = goodYAML + `  - name: bed3
    driver: hl7
    source: pv1:ICU^^BED3
  - name: bed4
    driver: hl7
    source: obx18:0800190B4020
mllp:
  listen: 127.0.0.1:2575
  allowed_sources: [10.1.0.0/16, 127.0.0.1]
  patient: sender
  codes:
    99GE:HR: {mdc: 147842, ref: MDC_ECG_HEART_RATE, unit: /min}
`

func TestLoadMLLP(t *testing.T) {
	c, err := Load(writeConfig(t, mllpYAML), []string{"masimo"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MLLP.Listen != "127.0.0.1:2575" || c.MLLP.Patient != PatientFromSender || c.MLLP.MaxMessage != DefaultMLLPMaxMessage {
		t.Errorf("mllp %+v", c.MLLP)
	}
	if code := c.MLLP.Codes["99ge:hr"]; code.MDC != 147842 || code.Ref != "MDC_ECG_HEART_RATE" || code.Unit != "/min" {
		t.Errorf("codes %+v", c.MLLP.Codes)
	}
	if src, err := c.MLLP.Sources(); err != nil || len(src) != 2 || src[1].Bits() != 32 {
		t.Errorf("sources %v, %v", src, err)
	}
	if c.Beds[2].Source != "pv1:ICU^^BED3" || c.Beds[3].Driver != HL7Driver {
		t.Errorf("beds %+v", c.Beds[2:])
	}
	if tlsCfg, err := c.MLLP.TLSConfig(time.Now()); tlsCfg != nil || err != nil {
		t.Errorf("plain listener: %v, %v", tlsCfg, err)
	}
}

func TestLoadMLLPErrors(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"no source", "    source: pv1:ICU^^BED3\n", "", "beds[2].source"},
		{"bad source", "pv1:ICU^^BED3", "bed3", "beds[2].source"},
		{"duplicate source", "obx18:0800190B4020", "pv1:ICU^^BED3", "is also the source of beds[2]"},
		{"port on an hl7 bed", "    source: pv1:ICU^^BED3\n", "    source: pv1:ICU^^BED3\n    port: /dev/ttyS0\n", "beds[2].port"},
		{"source on a serial bed", "    baud: 19200\n", "    baud: 19200\n    source: pv1:X\n", "beds[1].source"},
		{"no listener", "  listen: 127.0.0.1:2575\n", "", "needs mllp.listen"},
		{"bad listen", "127.0.0.1:2575", "2575", "mllp.listen"},
		{"bad patient", "patient: sender", "patient: pid", "mllp.patient"},
		{"bad source address", "10.1.0.0/16", "ward7", "mllp.allowed_sources"},
		{"code without mdc", "mdc: 147842, ", "", "mllp.codes.99ge:hr"},
		{"client CA without TLS", "  patient: sender\n", "  patient: sender\n  client_ca_file: /etc/ca.pem\n", "mllp.client_ca_file"},
		{"cert without key", "  patient: sender\n", "  patient: sender\n  cert_file: /etc/cert.pem\n", "mllp.cert_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, strings.Replace(mllpYAML, tc.old, tc.new, 1)), []string{"masimo"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestMLLPTLS(t *testing.T) {
	pki := brokertest.NewPKI(t)
	body := strings.Replace(mllpYAML, "  patient: sender\n", "  patient: sender\n  cert_file: "+pki.ServerCert+"\n  key_file: "+pki.ServerKey+
		"\n  client_ca_file: "+pki.CA+"\n  allowed_clients: [central-station-1]\n", 1)
	c, err := Load(writeConfig(t, body), []string{"masimo"})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := c.MLLP.TLSConfig(time.Now())
	if err != nil || tlsCfg == nil || tlsCfg.ClientAuth != tls.RequireAndVerifyClientCert || len(tlsCfg.Certificates) != 1 {
		t.Fatalf("TLS config %+v, %v", tlsCfg, err)
	}
}
