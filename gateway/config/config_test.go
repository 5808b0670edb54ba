package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"bad zone", func(s string) string {
			return strings.Replace(s, "ward: ward7", "ward: ward7\n  device_timezone: Mars/Olympus", 1)
		}, []string{"gateway.device_timezone"}},
		{"no beds", func(s string) string { return s[:strings.Index(s, "beds:")] }, []string{"at least one bed"}},
		{"not yaml", func(string) string { return "gateway: [unclosed" }, []string{"read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.edit(goodYAML)), []string{"masimo"})
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestCheckNHSNumber(t *testing.T) {
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
		{"1000000010", false}, // check digit would be 10
	}
	for _, tt := range tests {
		if err := CheckNHSNumber(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckNHSNumber(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
