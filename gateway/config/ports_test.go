package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers/serialport"
)

const bindingHead = `
gateway:
  id: gw1
  site: s1
  ward: w1
mqtt:
  broker: tcp://127.0.0.1:1883
  plaintext: true
beds:
`

func TestLoadBindings(t *testing.T) {
	dir := t.TempDir()
	node := filepath.Join(dir, "ttyUSB0") // stands for a device node
	if err := os.WriteFile(node, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	byPath := filepath.Join(dir, "by-path-port0")
	byID := filepath.Join(dir, "by-id-A50285BI")
	chained := filepath.Join(dir, "bed-link")
	for link, target := range map[string]string{byPath: node, byID: node, chained: byPath} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		beds     string
		want     []string // substrings of the error; none means it loads
		wantPort []string // each bed's Port after Load
	}{
		{"usb binding", `
  - {name: bed1, driver: masimo, usb: "0403:6001:A50285BI"}
  - {name: bed2, driver: masimo, port: /dev/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0}
`, nil, []string{"usb:0403:6001:A50285BI", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0"}},
		{"usb binding in port", `
  - {name: bed1, driver: masimo, port: "usb:0403:6011:FT4XYZ:01"}
`, nil, []string{"usb:0403:6011:FT4XYZ:01"}},
		{"port and usb", `
  - {name: bed1, driver: masimo, port: /dev/ttyUSB0, usb: "0403:6001:A50285BI"}
`, []string{"beds[0].usb", "not both"}, nil},
		{"no binding", `
  - {name: bed1, driver: masimo}
`, []string{"beds[0].port: required"}, nil},
		{"bad usb", `
  - {name: bed1, driver: masimo, usb: "403:6001"}
`, []string{"beds[0].usb", `vendor id "403"`}, nil},
		{"bad usb in port", `
  - {name: bed1, driver: masimo, port: "usb:0403"}
`, []string{"beds[0].port", "VID:PID"}, nil},
		{"same adapter twice", `
  - {name: bed1, driver: masimo, usb: "0403:6001:A50285BI"}
  - {name: bed2, driver: masimo, port: "usb:0403:6001:A50285BI"}
`, []string{"beds[1].port", "one port carries one device"}, nil},
		{"same adapter in other case", `
  - {name: bed1, driver: masimo, usb: "067B:2303"}
  - {name: bed2, driver: masimo, usb: "067b:2303"}
`, []string{"beds[1].port", "one port carries one device"}, nil},
		{"by-path and by-id of one node", `
  - {name: bed1, driver: masimo, port: ` + byPath + `}
  - {name: bed2, driver: masimo, port: ` + byID + `}
`, []string{"beds[1].port", "is the device " + node + ", which is also the port of beds[0]"}, nil},
		{"link to a link and the node", `
  - {name: bed1, driver: masimo, port: ` + chained + `}
  - {name: bed2, driver: masimo, port: ` + node + `}
`, []string{"beds[1].port", "one port carries one device"}, nil},
		{"same path spelled twice", `
  - {name: bed1, driver: masimo, port: /dev/serial/by-path/x}
  - {name: bed2, driver: masimo, port: /dev/serial/by-path/./x}
`, []string{"beds[1].port", "one port carries one device"}, nil},
		{"two ports absent now", `
  - {name: bed1, driver: masimo, port: /dev/serial/by-path/unplugged-1}
  - {name: bed2, driver: masimo, port: /dev/serial/by-path/unplugged-2}
`, nil, []string{"/dev/serial/by-path/unplugged-1", "/dev/serial/by-path/unplugged-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeConfig(t, bindingHead+tt.beds), []string{"masimo"})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				for i, want := range tt.wantPort {
					if c.Beds[i].Port != want {
						t.Errorf("beds[%d].Port = %q, want %q", i, c.Beds[i].Port, want)
					}
				}
				return
			}
			wantMentions(t, err, tt.want)
		})
	}
}

// TestPortWarnings checks bindings against the fake sysfs and /dev of the
// serialport tests: an FTDI FT232R (serial A50285BI) on ttyUSB0, two PL2303
// adapters without serial numbers on ttyUSB1 and ttyUSB2 (sharing one by-id
// name, which points at ttyUSB2), and a two-port FT4232H on ttyUSB3-4.
func TestPortWarnings(t *testing.T) {
	root := filepath.Join("..", "..", "drivers", "serialport", "testdata", "root")
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("fake system root: %v", err)
	}
	e := serialport.Enumerator{Root: root}
	tests := []struct {
		name string
		bed  Bed
		want string // "" means no warning
	}{
		{"by-path", Bed{Port: "/dev/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0"}, ""},
		{"by-id of an adapter with a serial", Bed{Port: "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"}, ""},
		{"unique usb identity", Bed{USB: "0403:6001:A50285BI", Port: "usb:0403:6001:A50285BI"}, ""},
		{"one port of a multi-port adapter", Bed{Port: "usb:0403:6011:FT4XYZ:01"}, ""},
		{"by-id of a serial-less adapter", Bed{Port: "/dev/serial/by-id/usb-Prolific_Technology_Inc._USB-Serial_Controller-if00-port0"},
			`beds[0].port: "/dev/serial/by-id/usb-Prolific_Technology_Inc._USB-Serial_Controller-if00-port0": the adapter (067b:2303) has no unique serial number, so another one like it would take this by-id name; use /dev/serial/by-path/pci-0000:00:14.0-usb-0:4:1.0-port0`},
		{"usb identity shared", Bed{USB: "067b:2303", Port: "usb:067b:2303"},
			"beds[0].usb: usb:067b:2303 matches 2 adapters present (/dev/ttyUSB1, /dev/ttyUSB2): they cannot be told apart; bind by /dev/serial/by-path"},
		{"multi-port adapter without interface", Bed{Port: "usb:0403:6011:FT4XYZ"},
			"beds[0].port: usb:0403:6011:FT4XYZ matches 2 adapters present (/dev/ttyUSB3, /dev/ttyUSB4)"},
		{"usb identity without serial", Bed{Port: "usb:0403:6001"},
			"beds[0].port: usb:0403:6001 names no serial number"},
		{"adapter not plugged in", Bed{USB: "0403:6001:OTHER", Port: "usb:0403:6001:OTHER"},
			"beds[0].usb: no adapter usb:0403:6001:OTHER is plugged in now"},
		{"ttyUSB number", Bed{Port: "/dev/ttyUSB0"},
			`beds[0].port: "/dev/ttyUSB0": ttyUSB and ttyACM numbers change across reboots and replugging; use /dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0`},
		{"on-board UART", Bed{Port: "/dev/ttyS0"}, ""},
		{"bed fed over MLLP", Bed{Driver: HL7Driver, Source: "pv1:ICU^^BED3"}, ""},
		{"dangling link", Bed{Port: "/dev/beds/unplugged"},
			`beds[0].port: "/dev/beds/unplugged": /dev/ttyUSB9 is not present now (is the adapter plugged in?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Beds: []Bed{tt.bed}}
			got := c.PortWarnings(e)
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("warnings %q, want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tt.want)):
				t.Errorf("warnings %q, want one starting %q", got, tt.want)
			}
		})
	}
	if got := (&Config{Beds: []Bed{{Port: "/dev/ttyS0"}}}).PortWarnings(serialport.Enumerator{Root: t.TempDir()}); len(got) != 1 || !strings.Contains(got[0], "cannot list") {
		t.Errorf("without sysfs: warnings %q, want one saying the ports cannot be listed", got)
	}
}
