package config

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
)

const goodYAML = `
gateway:
  id: gw-ward7-01
  site: rxh
  ward: ward7
  data_dir: /tmp/bedgate-test
mqtt:
  broker: tcp://127.0.0.1:1883
  plaintext: true
beds:
  - name: bed1
    driver: masimo
    port: /dev/serial/by-path/pci-0000:00:14.0-usb-0:2.1:1.0-port0
  - name: bed2
    driver: masimo
    port: /dev/ttyUSB1
    baud: 19200
    nhs_number: "943 476 5919"
`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bedgate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantMentions fails unless err is an error mentioning every one of want.
func wantMentions(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestLoadGood(t *testing.T) {
	c, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.MQTT.ClientID != "bedgate-gw-ward7-01" {
		t.Errorf("client id default = %q", c.MQTT.ClientID)
	}
	if c.MQTT.KeepAlive != DefaultKeepAlive || c.MQTT.Window != DefaultWindow {
		t.Errorf("mqtt defaults not applied: %+v", c.MQTT)
	}
	if c.Beds[0].Device != "bed1" {
		t.Errorf("device default = %q, want bed name", c.Beds[0].Device)
	}
	if c.Gateway.Format != "fhir" || c.Buffer.MaxBytes != DefaultMaxBytes {
		t.Errorf("defaults not applied: %+v %+v", c.Gateway, c.Buffer)
	}
}

func TestLoadEnvOverride(t *testing.T) {
	t.Setenv("BEDGATE_MQTT_BROKER", "ssl://broker.example:8883")
	t.Setenv("BEDGATE_GATEWAY_DATA_DIR", "/srv/bedgate")
	c, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.MQTT.Broker != "ssl://broker.example:8883" || c.Gateway.DataDir != "/srv/bedgate" {
		t.Errorf("env overrides not applied: broker %q data dir %q", c.MQTT.Broker, c.Gateway.DataDir)
	}
}

// TestLoadBrokers: the nodes of a cluster from the YAML list or from
// BEDGATE_MQTT_BROKERS (comma separated); mqtt.broker is the one-node form.
func TestLoadBrokers(t *testing.T) {
	list := strings.Replace(goodYAML, "  broker: tcp://127.0.0.1:1883\n", "  brokers:\n    - tcp://10.0.0.1:1883\n    - tcp://10.0.0.2:1883\n", 1)
	tests := []struct {
		name, yaml, env string
		want            []string
	}{
		{"one broker", goodYAML, "", []string{"tcp://127.0.0.1:1883"}},
		{"YAML list", list, "", []string{"tcp://10.0.0.1:1883", "tcp://10.0.0.2:1883"}},
		{"environment", list, "tcp://10.0.1.1:1883,tcp://10.0.1.2:1883,tcp://10.0.1.3:1883", []string{"tcp://10.0.1.1:1883", "tcp://10.0.1.2:1883", "tcp://10.0.1.3:1883"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("BEDGATE_MQTT_BROKERS", tt.env)
			}
			c, err := Load(writeConfig(t, tt.yaml), []string{"masimo"})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.MQTT.URLs(); !slices.Equal(got, tt.want) {
				t.Errorf("URLs() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"unknown key", func(s string) string { return strings.Replace(s, "plaintext: true", "plaintext: true\n  brokr: x", 1) }, []string{"brokr"}},
		{"plaintext not allowed", func(s string) string { return strings.Replace(s, "  plaintext: true\n", "", 1) }, []string{"mqtt.broker", "unencrypted"}},
		{"broker without port", func(s string) string { return strings.Replace(s, "127.0.0.1:1883", "127.0.0.1", 1) }, []string{"give the port"}},
		{"bad scheme", func(s string) string { return strings.Replace(s, "tcp://", "http://", 1) }, []string{"scheme must be"}},
		{"broker and brokers", func(s string) string {
			return strings.Replace(s, "plaintext: true", "plaintext: true\n  brokers: [tcp://127.0.0.1:1884]", 1)
		}, []string{"mqtt.brokers", "set together with mqtt.broker"}},
		{"no broker", func(s string) string { return strings.Replace(s, "  broker: tcp://127.0.0.1:1883\n", "", 1) }, []string{"mqtt.broker", "required", "mqtt.brokers"}},
		{"brokers mixing TLS and plaintext", func(s string) string {
			return strings.Replace(s, "  broker: tcp://127.0.0.1:1883\n", "  brokers: [tcp://127.0.0.1:1883, ssl://127.0.0.1:8883]\n", 1)
		}, []string{"mqtt.brokers[1]", "mixes TLS and plaintext"}},
		{"brokers plaintext not allowed", func(s string) string {
			return strings.Replace(s, "  broker: tcp://127.0.0.1:1883\n  plaintext: true\n", "  brokers: [tcp://a.example:1883, tcp://b.example:1883]\n", 1)
		}, []string{"mqtt.brokers[0]", "mqtt.brokers[1]", "unencrypted"}},
		{"brokers node twice", func(s string) string {
			return strings.Replace(s, "  broker: tcp://127.0.0.1:1883\n", "  brokers: [tcp://a.example:1883, tcp://a.example:1883]\n", 1)
		}, []string{"mqtt.brokers[1]", "also mqtt.brokers[0]"}},
		{"brokers node without port", func(s string) string {
			return strings.Replace(s, "  broker: tcp://127.0.0.1:1883\n", "  brokers: [tcp://a.example:1883, tcp://b.example]\n", 1)
		}, []string{"mqtt.brokers[1]", "give the port"}},
		{"unknown driver", func(s string) string {
			return strings.Replace(s, "driver: masimo\n    port: /dev/ttyUSB1", "driver: acme\n    port: /dev/ttyUSB1", 1)
		}, []string{"beds[1].driver", `"acme"`}},
		{"same port twice", func(s string) string {
			return strings.Replace(s, "/dev/ttyUSB1", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:2.1:1.0-port0", 1)
		}, []string{"beds[1].port", "one port carries one device"}},
		{"duplicate bed", func(s string) string { return strings.Replace(s, "name: bed2", "name: bed1", 1) }, []string{"beds[1].name"}},
		{"relative port", func(s string) string { return strings.Replace(s, "/dev/ttyUSB1", "ttyUSB1", 1) }, []string{"absolute path"}},
		{"bad NHS number", func(s string) string { return strings.Replace(s, "943 476 5919", "9434765918", 1) }, []string{"beds[1].nhs_number", "Modulus 11"}},
		{"bad parity", func(s string) string { return strings.Replace(s, "baud: 19200", "parity: mark", 1) }, []string{"beds[1].parity"}},
		{"bad stop bits", func(s string) string { return strings.Replace(s, "baud: 19200", "stop_bits: 3", 1) }, []string{"beds[1].stop_bits"}},
		{"zero keepalive", func(s string) string {
			return strings.Replace(s, "plaintext: true", "plaintext: true\n  keepalive: 0s", 1)
		}, []string{"mqtt.keepalive"}},
		{"bad id", func(s string) string { return strings.Replace(s, "id: gw-ward7-01", "id: gw/ward#7", 1) }, []string{"gateway.id"}},
		{"NEWS2 scale 2 with HL7", func(s string) string {
			return strings.Replace(strings.Replace(s, "ward: ward7", "ward: ward7\n  format: hl7v2", 1), "baud: 19200", "news2_scale2: true", 1)
		}, []string{"beds[1].news2_scale2"}},
		{"bad zone", func(s string) string {
			return strings.Replace(s, "ward: ward7", "ward: ward7\n  device_timezone: Mars/Olympus", 1)
		}, []string{"gateway.device_timezone"}},
		{"cadence too short", func(s string) string {
			return strings.Replace(s, "ward: ward7", "ward: ward7\n  forward_every: 500ms", 1)
		}, []string{"gateway.forward_every", "between 1s and 1h"}},
		{"bed cadence without a unit", func(s string) string { return strings.Replace(s, "baud: 19200", "forward_every: 60", 1) }, []string{"beds[1].forward_every", "give the unit"}},
		{"no beds", func(s string) string { return s[:strings.Index(s, "beds:")] }, []string{"at least one bed"}},
		{"not yaml", func(string) string { return "gateway: [unclosed" }, []string{"read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.edit(goodYAML)), []string{"masimo"})
			wantMentions(t, err, tt.want)
		})
	}
}

// TestLoadCadence: a bed's forward_every overrides the ward's, 0 included;
// a bed without one charts at the ward's.
func TestLoadCadence(t *testing.T) {
	yaml := strings.Replace(strings.Replace(goodYAML, "ward: ward7", "ward: ward7\n  forward_every: 1m", 1),
		"baud: 19200", "forward_every: 0s", 1)
	c, err := Load(writeConfig(t, yaml), []string{"masimo"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.Beds[0].Cadence(c.Gateway.ForwardEvery); got != time.Minute {
		t.Errorf("bed1 (no forward_every) charts every %v, want the ward's 1m", got)
	}
	if got := c.Beds[1].Cadence(c.Gateway.ForwardEvery); got != 0 {
		t.Errorf("bed2 (forward_every: 0s) charts every %v, want every reading (0)", got)
	}
	d, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := d.Beds[0].Cadence(d.Gateway.ForwardEvery); got != 0 {
		t.Errorf("default cadence %v, want 0 (every reading)", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

// TestNHSNumberInConfig: config check accepts exactly the NHS numbers the
// gateway's patient register accepts (one Modulus 11 check, in gateway/assoc).
func TestNHSNumberInConfig(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"9434765919", true},
		{"943 476 5919", true},
		{"4010232137", true},
		{"9434765918", false}, // wrong check digit
		{"943476591", false},  // too short
		{"94347659190", false},
		{"94347659A9", false},
		{"1000000010", false},  // check digit would be 10
		{"9434 765919", false}, // spaced other than 3-3-4: the register refuses it, so config check must
	}
	for _, tt := range tests {
		body := strings.Replace(goodYAML, "943 476 5919", tt.in, 1)
		_, err := Load(writeConfig(t, body), []string{"masimo"})
		if (err == nil) != tt.ok {
			t.Errorf("nhs_number %q: %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "beds[1].nhs_number") {
			t.Errorf("nhs_number %q: error %q does not name the key", tt.in, err)
		}
	}
}

// tlsYAML is goodYAML with a TLS broker and the mqtt lines given.
func tlsYAML(broker string, mqttLines ...string) string {
	s := strings.Replace(goodYAML, "  broker: tcp://127.0.0.1:1883\n  plaintext: true\n", "  broker: "+broker+"\n", 1)
	extra := ""
	for _, l := range mqttLines {
		extra += "  " + l + "\n"
	}
	return strings.Replace(s, "  broker: "+broker+"\n", "  broker: "+broker+"\n"+extra, 1)
}

func TestLoadTLS(t *testing.T) {
	pki := brokertest.NewPKI(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	expiry := pki.ExpiredNotAfter.UTC().Format(time.RFC3339)
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error; none means success
	}{
		{"TLS with system roots", tlsYAML("ssl://epr.example:8883"), nil},
		{"mutual TLS", tlsYAML("mqtts://127.0.0.1:8883", "ca_file: "+pki.CA, "cert_file: "+pki.ClientCert, "key_file: "+pki.ClientKey, "server_name: localhost"), nil},
		{"tls scheme", tlsYAML("tls://127.0.0.1:8883", "ca_file: "+pki.CA), nil},
		{"expired client certificate", tlsYAML("ssl://127.0.0.1:8883", "cert_file: "+pki.ExpiredCert, "key_file: "+pki.ExpiredKey),
			[]string{"mqtt.cert_file", "expired on " + expiry}},
		{"key of another certificate", tlsYAML("ssl://127.0.0.1:8883", "cert_file: "+pki.ClientCert, "key_file: "+pki.OtherKey),
			[]string{"mqtt.key_file", "does not fit"}},
		{"missing CA file", tlsYAML("ssl://127.0.0.1:8883", "ca_file: "+missing), []string{"mqtt.ca_file", "missing.pem"}},
		{"CA file holds a key", tlsYAML("ssl://127.0.0.1:8883", "ca_file: "+pki.ClientKey), []string{"mqtt.ca_file", "no PEM certificate"}},
		{"certificate without key", tlsYAML("ssl://127.0.0.1:8883", "cert_file: "+pki.ClientCert), []string{"mqtt.key_file", "required with mqtt.cert_file"}},
		{"key without certificate", tlsYAML("ssl://127.0.0.1:8883", "key_file: "+pki.ClientKey), []string{"mqtt.cert_file", "required with mqtt.key_file"}},
		{"server name with port", tlsYAML("ssl://127.0.0.1:8883", "server_name: broker:8883"), []string{"mqtt.server_name"}},
		{"TLS files with a plaintext broker", strings.Replace(goodYAML, "plaintext: true", "plaintext: true\n  ca_file: "+pki.CA+"\n  cert_file: "+pki.ClientCert+"\n  key_file: "+pki.ClientKey, 1),
			[]string{"mqtt.ca_file", "mqtt.cert_file", "mqtt.key_file", "does not use TLS"}},
		{"insecure_skip_verify is not offered", tlsYAML("ssl://127.0.0.1:8883", "insecure_skip_verify: true"), []string{"insecure_skip_verify"}},
		{"several problems at once", tlsYAML("ssl://127.0.0.1:8883", "ca_file: "+missing, "cert_file: "+pki.ExpiredCert, "key_file: "+pki.ExpiredKey),
			[]string{"mqtt.ca_file", "mqtt.cert_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeConfig(t, tt.yaml), []string{"masimo"})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				tc, err := c.MQTT.TLSConfig(time.Now())
				if err != nil || tc == nil {
					t.Fatalf("TLSConfig = %v, %v", tc, err)
				}
				if tc.MinVersion != tls.VersionTLS12 || tc.ServerName != c.MQTT.ServerName || (c.MQTT.CAFile != "") != (tc.RootCAs != nil) || (c.MQTT.CertFile != "") != (len(tc.Certificates) == 1) {
					t.Errorf("TLSConfig does not follow %+v", c.MQTT)
				}
				return
			}
			wantMentions(t, err, tt.want)
		})
	}
}

func TestTLSConfigPlaintext(t *testing.T) {
	c, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	if err != nil {
		t.Fatal(err)
	}
	if tc, err := c.MQTT.TLSConfig(time.Now()); tc != nil || err != nil {
		t.Errorf("TLSConfig of a tcp:// broker = %v, %v; want nil, nil", tc, err)
	}
}

func TestLoadPassword(t *testing.T) {
	const secret = "Corr3ct-Horse-Battery"
	pwFile := writeConfig(t, secret+"\n") // any file will do
	tests := []struct {
		name string
		yaml string
		env  string
		want []string // substrings of the error; none means success
	}{
		{"from file", tlsYAML("ssl://127.0.0.1:8883", "username: gw", "password_file: "+pwFile), "", nil},
		{"from environment", tlsYAML("ssl://127.0.0.1:8883", "username: gw"), secret, nil},
		{"in the configuration file", tlsYAML("ssl://127.0.0.1:8883", "username: gw", "password: "+secret), "",
			[]string{"mqtt.password", "mqtt.password_file or BEDGATE_MQTT_PASSWORD"}},
		{"file and environment", tlsYAML("ssl://127.0.0.1:8883", "username: gw", "password_file: "+pwFile), "other",
			[]string{"mqtt.password_file", "BEDGATE_MQTT_PASSWORD is set too"}},
		{"missing file", tlsYAML("ssl://127.0.0.1:8883", "username: gw", "password_file: /nonexistent/pw"), "",
			[]string{"mqtt.password_file", "/nonexistent/pw"}},
		{"empty file", tlsYAML("ssl://127.0.0.1:8883", "username: gw", "password_file: "+writeConfig(t, "\n")), "",
			[]string{"mqtt.password_file", "is empty"}},
		{"two lines", tlsYAML("ssl://127.0.0.1:8883", "username: gw", "password_file: "+writeConfig(t, secret+"\nsecond\n")), "",
			[]string{"mqtt.password_file", "more than one line"}},
		{"no username", tlsYAML("ssl://127.0.0.1:8883", "password_file: "+pwFile), "", []string{"mqtt.username", "required"}},
		{"credentials in the broker URL", strings.Replace(tlsYAML("ssl://127.0.0.1:8883"), "ssl://", "ssl://gw:"+secret+"@", 1), "",
			[]string{"mqtt.broker", "no user or password in the URL"}},
		{"over plaintext", strings.Replace(goodYAML, "plaintext: true", "plaintext: true\n  username: gw", 1), secret,
			[]string{"mqtt.password", "unencrypted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv(PasswordEnv, tt.env)
			}
			c, err := Load(writeConfig(t, tt.yaml), []string{"masimo"})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := c.MQTT.Password.Reveal(); got != secret {
					t.Errorf("password %q, want the secret", got)
				}
				// The password never shows in printed or serialised configuration.
				j, err := json.Marshal(c)
				if err != nil {
					t.Fatal(err)
				}
				var logged strings.Builder
				slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "mqtt", c.MQTT, "password", c.MQTT.Password)
				for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c.MQTT.Password), string(j), logged.String()} {
					if strings.Contains(out, secret) {
						t.Errorf("the password appears in %s", out)
					}
					if !strings.Contains(out, "[redacted]") {
						t.Errorf("no [redacted] placeholder in %s", out)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes the password: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadValidationAndAssociation(t *testing.T) {
	body := goodYAML + `
validation:
  max_clock_offset: 2m
  ranges:
    spo2: {min: 60, soft_min: 85}
association:
  policy: hold
  hold_for: 10m
  after_hold: quarantine
`
	c, err := Load(writeConfig(t, body), []string{"masimo"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if r := c.Validation.Ranges["spo2"]; r.Min == nil || *r.Min != 60 || r.SoftMin == nil || *r.SoftMin != 85 || r.Max != nil {
		t.Errorf("spo2 range override = %+v", r)
	}
	if c.Validation.MaxClockOffset != 2*time.Minute || c.Association.Policy != "hold" || c.Association.HoldFor != 10*time.Minute {
		t.Errorf("validation %+v association %+v", c.Validation, c.Association)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"validation:\n  ranges:\n    spo2: {min: 99, max: 98}\n", "validation.ranges"},
		{"validation:\n  ranges:\n    unobtainium: {min: 1}\n", "unobtainium"},
		{"association:\n  policy: guess\n", "association"},
		{"association:\n  after_hold: hold\n", "after"},
	} {
		if _, err := Load(writeConfig(t, goodYAML+bad.yaml), []string{"masimo"}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err = %v, want one naming %s", bad.yaml, err, bad.want)
		}
	}
}

func TestDefaultMatchesLoad(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	if err != nil {
		t.Fatal(err)
	}
	if d.MQTT.KeepAlive != loaded.MQTT.KeepAlive || d.MQTT.Window != loaded.MQTT.Window || d.MQTT.BacklogRate != loaded.MQTT.BacklogRate ||
		d.Buffer != loaded.Buffer || d.Validation.MaxClockOffset != loaded.Validation.MaxClockOffset ||
		d.Association != loaded.Association || d.Gateway.Format != loaded.Gateway.Format || d.Gateway.DeviceTimezone != loaded.Gateway.DeviceTimezone {
		t.Errorf("Default() = %+v, differs from the defaults Load applies: %+v", d, *loaded)
	}
	if d.MQTT.KeepAlive == 0 || d.Association.Policy == "" {
		t.Errorf("Default() left defaults empty: %+v", d)
	}
}

// TestLoadHTTP checks the status server's settings: off by default, a
// listen address, HTTPS files together, and the token from a file or the
// environment, never from the configuration file.
func TestLoadHTTP(t *testing.T) {
	const secret = "s3cret-token"
	tokenFile := writeConfig(t, secret+"\n")
	withHTTP := func(lines ...string) string {
		return goodYAML + "http:\n  " + strings.Join(lines, "\n  ") + "\n"
	}
	tests := []struct {
		name      string
		yaml      string
		env       string
		want      []string // substrings of the error; none means success
		wantToken string
	}{
		{"off by default", goodYAML, "", nil, ""},
		{"loopback", withHTTP("listen: 127.0.0.1:8080"), "", nil, ""},
		{"token from file", withHTTP("listen: :8080", "token_file: "+tokenFile), "", nil, secret},
		{"token from environment", withHTTP("listen: :8080"), secret, nil, secret},
		{"token in the file", withHTTP("listen: :8080", "token: "+secret), "", []string{"http.token", "http.token_file or BEDGATE_HTTP_TOKEN"}, ""},
		{"no port", withHTTP("listen: 127.0.0.1"), "", []string{"http.listen", `"127.0.0.1"`, "host:port"}, ""},
		{"certificate without key", withHTTP("listen: :8443", "cert_file: /etc/ssl/x.pem"), "", []string{"http.cert_file", "both"}, ""},
		{"unreadable certificate", withHTTP("listen: :8443", "cert_file: /nonexistent/c.pem", "key_file: /nonexistent/k.pem"), "", []string{"http.cert_file", "/nonexistent/c.pem"}, ""},
		{"token without server", withHTTP("token_file: " + tokenFile), "", []string{"http.listen", "required"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(TokenEnv, tt.env)
			cfg, err := Load(writeConfig(t, tt.yaml), []string{"masimo"})
			if len(tt.want) > 0 {
				wantMentions(t, err, tt.want)
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.HTTP.Token.Reveal(); got != tt.wantToken {
				t.Errorf("token %q, want %q", got, tt.wantToken)
			}
		})
	}
}

// TestLoadReportsEveryMistakeAtOnce checks that values of the wrong kind,
// unknown keys and invalid values are all reported in one pass, each with
// its key, the value and the fix, without Go package names.
func TestLoadReportsEveryMistakeAtOnce(t *testing.T) {
	yaml := strings.NewReplacer(
		"plaintext: true", "plaintext: true\n  keepalive: 30\n  window: lots\n  brokr: x",
		"port: /dev/ttyUSB1", "port: /dev/ttyUSB1\n    parity: mark\n    data_bits: eight",
		"data_dir: /tmp/bedgate-test", "data_dir: /tmp/bedgate-test\n  format: xml",
	).Replace(goodYAML) + "buffer:\n  max_age: 7d\n  max_bytes: 256MiB\nassociation:\n  hold_for: 15 minutes\n"
	_, err := Load(writeConfig(t, yaml), []string{"masimo"})
	want := []string{
		`mqtt.keepalive: 30 is not a duration: give the unit, for example 30s`,
		`mqtt.window: "lots" is not a whole number: write one, for example 64`,
		`mqtt.brokr: unknown key`,
		`buffer.max_age: "7d" is not a duration: write 168h`,
		`buffer.max_bytes: "256MiB" is not a whole number: write the bytes, 268435456`,
		`association.hold_for: "15 minutes" is not a duration: write 15m`,
		`beds[1].data_bits: "eight" is not a whole number: write one, for example 8`,
		`beds[1].parity: "mark": must be none, even or odd`,
		`gateway.format: "xml": must be fhir or hl7v2`,
	}
	wantMentions(t, err, want)
	if n := strings.Count(err.Error(), "\n"); n != len(want) {
		t.Errorf("%d lines after the file name, want %d (one per mistake):\n%v", n, len(want), err)
	}
	for _, pkg := range []string{"strconv", "time:", "config:", "mapstructure", "decoding failed"} {
		if strings.Contains(err.Error(), pkg) {
			t.Errorf("the error mentions %q:\n%v", pkg, err)
		}
	}
}

// TestLoadNamesTheEnvironmentVariable checks that a mistake made in an
// environment variable names the variable, with the key it sets.
func TestLoadNamesTheEnvironmentVariable(t *testing.T) {
	t.Setenv("BEDGATE_BUFFER_MAX_AGE", "2w")
	t.Setenv("BEDGATE_MQTT_KEEPALIVE", "0s")
	t.Setenv("BEDGATE_GATEWAY_FORMAT", "xml")
	_, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	wantMentions(t, err, []string{
		`BEDGATE_BUFFER_MAX_AGE (buffer.max_age): "2w" is not a duration: write 336h`,
		`BEDGATE_MQTT_KEEPALIVE (mqtt.keepalive): 0s: must be between 1s`,
		`BEDGATE_GATEWAY_FORMAT (gateway.format): "xml": must be fhir or hl7v2`,
	})
}

func TestDurationAndSizeFixes(t *testing.T) {
	for in, want := range map[string]string{
		"7d": "168h", "2 weeks": "336h", "1.5d": "36h", "90 seconds": "1m30s", "15 min": "15m", "12hours": "12h",
	} {
		if got := durationFix(in); !strings.Contains(got, "write "+want+" ") {
			t.Errorf("durationFix(%q) = %q, want it to suggest %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"1GiB": "1073741824", "256 MiB": "268435456", "1GB": "1000000000", "512k": "512000"} {
		if got := sizeFix(in); got != "write the bytes, "+want {
			t.Errorf("sizeFix(%q) = %q, want %s", in, got, want)
		}
	}
}
