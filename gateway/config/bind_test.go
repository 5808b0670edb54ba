package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bedgate/bedgate/drivers/serialport"
)

// TestBindPorts binds beds to the ports of the fake sysfs and /dev of the
// serialport tests: an FTDI FT232R (serial A50285BI) on ttyUSB0, PL2303
// adapters without serial numbers on ttyUSB1 and ttyUSB2, an FT4232H on
// ttyUSB3-4, an Arduino on ttyACM0, an on-board ttyS0 and a placeholder
// ttyS1 that enumeration leaves out.
func TestBindPorts(t *testing.T) {
	root := filepath.Join("..", "..", "drivers", "serialport", "testdata", "root")
	e := serialport.Enumerator{Root: root}
	ports, err := e.List()
	if err != nil {
		t.Fatalf("fake system root: %v", err)
	}
	beds := []Bed{
		{Name: "bed1", Port: "/dev/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0"},
		{Name: "bed2", USB: "0403:6011:FT4XYZ:01", Port: "usb:0403:6011:FT4XYZ:01"},
		{Name: "bed3", Port: "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"},
		{Name: "bed4", Port: "/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0"},
		{Name: "bed5", Port: "usb:0403:6001:OTHER"},
		{Name: "bed6", Port: "/dev/ttyS1"},
		{Name: "bed7", Port: "usb:067b:2303"}, // both PL2303s
		{Name: "bed8", Port: "/dev/ttyUSB0"},  // a second bed on ttyUSB0
	}
	got := BindPorts(e, ports, beds)

	var order []string
	byName := map[string]BoundPort{}
	for _, p := range got {
		order = append(order, p.Name)
		byName[p.Name] = p
	}
	wantOrder := []string{"/dev/ttyACM0", "/dev/ttyS0", "/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB3", "/dev/ttyUSB4",
		"/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0", "usb:0403:6001:OTHER", "/dev/ttyS1"}
	if !slices.Equal(order, wantOrder) {
		t.Fatalf("ports %q, want %q", order, wantOrder)
	}

	tests := []struct {
		port, kind, ids, serial string
		beds                    []BedBinding
	}{
		{"/dev/ttyUSB0", "usb", "0403:6001", "A50285BI", []BedBinding{
			{"bed3", "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"}, {"bed8", "/dev/ttyUSB0"}}},
		{"/dev/ttyUSB1", "usb", "067b:2303", "", []BedBinding{
			{"bed1", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0"}, {"bed7", "usb:067b:2303"}}},
		{"/dev/ttyUSB2", "usb", "067b:2303", "", []BedBinding{{"bed7", "usb:067b:2303"}}},
		{"/dev/ttyUSB3", "usb", "0403:6011", "FT4XYZ", nil},
		{"/dev/ttyUSB4", "usb", "0403:6011", "FT4XYZ", []BedBinding{{"bed2", "usb:0403:6011:FT4XYZ:01"}}},
		{"/dev/ttyS0", "platform", ":", "", nil},
		{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0", KindAbsent, ":", "", []BedBinding{
			{"bed4", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:9:1.0-port0"}}},
		{"usb:0403:6001:OTHER", KindAbsent, ":", "", []BedBinding{{"bed5", "usb:0403:6001:OTHER"}}},
		{"/dev/ttyS1", KindOther, ":", "", []BedBinding{{"bed6", "/dev/ttyS1"}}},
	}
	for _, tt := range tests {
		p := byName[tt.port]
		if p.Kind != tt.kind || p.VID+":"+p.PID != tt.ids || p.Serial != tt.serial {
			t.Errorf("%s: kind %q ids %s:%s serial %q, want %q %s %q", tt.port, p.Kind, p.VID, p.PID, p.Serial, tt.kind, tt.ids, tt.serial)
		}
		if !slices.Equal(p.Beds, tt.beds) {
			t.Errorf("%s: beds %+v, want %+v", tt.port, p.Beds, tt.beds)
		}
	}
	if p := byName["/dev/ttyUSB0"]; len(p.ByID) != 1 || len(p.ByPath) != 1 || p.ByPath[0] != "/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0" {
		t.Errorf("ttyUSB0 stable names: by-id %q by-path %q", p.ByID, p.ByPath)
	}
}

// TestBindPortsPseudoTerminal binds a bed through a link to a
// pseudo-terminal, which enumeration never lists.
func TestBindPortsPseudoTerminal(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"dev/pts", "dev/beds"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "dev", "pts", "3"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/pts/3", filepath.Join(root, "dev", "beds", "bed7")); err != nil {
		t.Fatal(err)
	}
	got := BindPorts(serialport.Enumerator{Root: root}, nil, []Bed{{Name: "bed7", Port: "/dev/beds/bed7"}})
	want := BoundPort{PortInfo: serialport.PortInfo{Name: "/dev/pts/3", Kind: serialport.KindPTY}, Beds: []BedBinding{{"bed7", "/dev/beds/bed7"}}}
	if len(got) != 1 || got[0].Name != want.Name || got[0].Kind != want.Kind || !slices.Equal(got[0].Beds, want.Beds) {
		t.Errorf("BindPorts = %+v, want [%+v]", got, want)
	}
	if got := BindPorts(serialport.Enumerator{Root: root}, nil, nil); len(got) != 0 {
		t.Errorf("no ports, no beds: %+v, want none", got)
	}
}
