package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// fakeRoot is the fake sysfs and /dev of the serialport tests: an FTDI
// FT232R (serial A50285BI) on ttyUSB0, PL2303 adapters without serial
// numbers on ttyUSB1 and ttyUSB2, an FT4232H on ttyUSB3-4, an Arduino on
// ttyACM0 and an on-board ttyS0.
var fakeRoot = filepath.Join("..", "..", "drivers", "serialport", "testdata", "root")

func portsConfig(t *testing.T, beds string) string {
	t.Helper()
	return writeFile(t, "bedgate.yaml", `gateway:
  id: gw1
  site: s1
  ward: w1
  data_dir: `+t.TempDir()+`
mqtt:
  broker: tcp://127.0.0.1:1883
  plaintext: true
beds:
`+beds)
}

// TestPortsJSON checks the JSON form of "bedgate ports --config": an array
// of ports with their beds (the matching itself is config.BindPorts's,
// tested in gateway/config).
func TestPortsJSON(t *testing.T) {
	cfg := portsConfig(t, `  - {name: bed2, driver: masimo, usb: "0403:6011:FT4XYZ:01"}
  - {name: bed3, driver: masimo, port: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0}
  - {name: bed4, driver: masimo, port: /dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0}
`)
	out, _, err := invoke(t, nil, "ports", "--json", "--root", fakeRoot, "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rows []config.BoundPort
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("output is not a JSON array of ports: %v\n%s", err, out)
	}
	var order []string
	got := map[string]config.BoundPort{}
	for _, r := range rows {
		order = append(order, r.Name)
		got[r.Name] = r
	}
	wantOrder := []string{"/dev/ttyACM0", "/dev/ttyS0", "/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB3", "/dev/ttyUSB4",
		"/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0"}
	if strings.Join(order, " ") != strings.Join(wantOrder, " ") {
		t.Fatalf("ports %q, want %q", order, wantOrder)
	}
	tests := []struct {
		port, kind, ids, bed, binding string
	}{
		{"/dev/ttyUSB0", "usb", "0403:6001", "bed3", "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"},
		{"/dev/ttyUSB4", "usb", "0403:6011", "bed2", "usb:0403:6011:FT4XYZ:01"},
		{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0", config.KindAbsent, ":", "bed4", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0"},
	}
	for _, tt := range tests {
		r := got[tt.port]
		if r.Kind != tt.kind || r.VID+":"+r.PID != tt.ids || len(r.Beds) != 1 || r.Beds[0].Bed != tt.bed || r.Beds[0].Binding != tt.binding {
			t.Errorf("%s: %+v, want kind %q ids %s and %s by %q", tt.port, r, tt.kind, tt.ids, tt.bed, tt.binding)
		}
	}
	if !strings.Contains(out, `"beds": [`) || !strings.Contains(out, `"binding": "usb:0403:6011:FT4XYZ:01"`) {
		t.Errorf("JSON does not name the beds and bindings:\n%s", out)
	}
}

func TestPortsTable(t *testing.T) {
	cfg := portsConfig(t, `  - {name: bed1, driver: masimo, port: /dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0}
`)
	out, _, err := invoke(t, nil, "ports", "--root", fakeRoot, "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "PORT") || !strings.Contains(lines[0], "VID:PID") || !strings.HasSuffix(lines[0], "BED") {
		t.Errorf("header line %q", lines[0])
	}
	for _, want := range []string{
		"/dev/ttyUSB0  usb",
		"0403:6001",
		"FT232R USB UART",
		"0403:6011 if01",
		"  by-path  /dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0",
		"  by-id    /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0",
		"  bed      bed1 (/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table does not contain %q:\n%s", want, out)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "/dev/ttyUSB0 ") && !strings.HasSuffix(l, "bed1") {
			t.Errorf("ttyUSB0's row %q does not end with its bed", l)
		}
	}
}

// TestPortsBedOnAPseudoTerminal lists the real system's ports with a bed
// bound through a link to a simulator's pseudo-terminal.
func TestPortsBedOnAPseudoTerminal(t *testing.T) {
	p := simtest.OpenPTY(t)
	link := filepath.Join(t.TempDir(), "bed7")
	if err := os.Symlink(p.Path(), link); err != nil {
		t.Fatal(err)
	}
	cfg := portsConfig(t, fmt.Sprintf("  - {name: bed7, driver: masimo, port: %s}\n", link))
	out, _, err := invoke(t, nil, "ports", "--json", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rows []config.BoundPort
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if last.Name != p.Path() || last.Kind != serialport.KindPTY || len(last.Beds) != 1 || last.Beds[0].Bed != "bed7" {
		t.Errorf("last row %+v, want %s, kind pty, bed7", last, p.Path())
	}
}

func TestPortsErrors(t *testing.T) {
	if _, _, err := invoke(t, nil, "ports", "extra"); !errors.Is(err, errUsage) {
		t.Errorf("ports extra = %v, want a usage error", err)
	}
	if _, _, err := invoke(t, nil, "ports", "--root", t.TempDir()); err == nil || !strings.Contains(err.Error(), "list ports") {
		t.Errorf("ports without sysfs = %v, want a list error", err)
	}
	bad := portsConfig(t, "  - {name: bed1, driver: masimo}\n")
	if _, _, err := invoke(t, nil, "ports", "--config", bad); err == nil || !strings.Contains(err.Error(), "beds[0].port") {
		t.Errorf("ports with a bad config = %v, want its problem named", err)
	}
}

func TestConfigCheckWarnsAboutPorts(t *testing.T) {
	cfg := portsConfig(t, "  - {name: bed1, driver: masimo, usb: \"0403:6001\"}\n")
	out, errOut, err := invoke(t, nil, "config", "check", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ": ok:") || !strings.Contains(errOut, "warning: beds[0].usb: usb:0403:6001 names no serial number") {
		t.Errorf("config check stdout:\n%s\nstderr:\n%s\nwant ok and a warning about the serial-less identity", out, errOut)
	}
}

func TestConfigCheckWarnsAboutReadableSecrets(t *testing.T) {
	pw := writeFile(t, "password", "secret\n")
	if err := os.Chmod(pw, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "bedgate.yaml", `gateway:
  id: gw1
  site: s1
  ward: w1
  data_dir: `+t.TempDir()+`
mqtt:
  broker: ssl://127.0.0.1:8883
  username: gw1
  password_file: `+pw+`
beds:
  - {name: bed1, driver: masimo, port: /dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0}
`)
	out, errOut, err := invoke(t, nil, "config", "check", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "warning: mqtt.password_file: " + pw + " is readable by group or others (mode 0644): chmod 600 " + pw; !strings.Contains(out, ": ok:") || !strings.Contains(errOut, want) {
		t.Errorf("config check stdout:\n%s\nstderr:\n%s\nwant ok and %q", out, errOut, want)
	}
}
