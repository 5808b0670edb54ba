package serialport

import (
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fakeRoot holds a sysfs and /dev as Linux and udev leave them (see
// testdata/mkroot.sh): an FTDI FT232R, two PL2303 adapters without serial
// numbers, a two-port FT4232H, an Arduino (CDC ACM), an on-board UART and
// a placeholder ttyS1 with no UART behind it.
var fakeRoot = Enumerator{Root: "testdata/root"}

func TestEnumeratorList(t *testing.T) {
	ports, err := fakeRoot.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ports {
		names = append(names, p.Name)
	}
	want := []string{"/dev/ttyACM0", "/dev/ttyS0", "/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB3", "/dev/ttyUSB4"}
	if !slices.Equal(names, want) {
		t.Fatalf("List names = %q, want %q (virtual terminals and the placeholder ttyS1 left out)", names, want)
	}
	byName := map[string]PortInfo{}
	for _, p := range ports {
		byName[p.Name] = p
	}
	tests := []struct {
		name string
		want PortInfo
	}{
		{"/dev/ttyUSB0", PortInfo{
			Name: "/dev/ttyUSB0", Kind: KindUSB, USB: true, VID: "0403", PID: "6001", Serial: "A50285BI",
			Manufacturer: "FTDI", Product: "FT232R USB UART", Interface: "00", USBPath: "1-2", Driver: "ftdi_sio",
			ByID:   []string{"/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"},
			ByPath: []string{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0"},
		}},
		{"/dev/ttyUSB1", PortInfo{ // upper-case idVendor in sysfs; no serial, and its by-id name taken by ttyUSB2
			Name: "/dev/ttyUSB1", Kind: KindUSB, USB: true, VID: "067b", PID: "2303",
			Manufacturer: "Prolific Technology Inc.", Product: "USB-Serial Controller", Interface: "00", USBPath: "1-3", Driver: "pl2303",
			ByPath: []string{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0"},
		}},
		{"/dev/ttyUSB4", PortInfo{
			Name: "/dev/ttyUSB4", Kind: KindUSB, USB: true, VID: "0403", PID: "6011", Serial: "FT4XYZ",
			Manufacturer: "FTDI", Product: "Quad RS232-HS", Interface: "01", USBPath: "1-6", Driver: "ftdi_sio",
			ByID:   []string{"/dev/serial/by-id/usb-FTDI_Quad_RS232-HS_FT4XYZ-if01-port0"},
			ByPath: []string{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:6:1.1-port0"},
		}},
		{"/dev/ttyACM0", PortInfo{ // the tty's device is the USB interface itself
			Name: "/dev/ttyACM0", Kind: KindUSB, USB: true, VID: "2341", PID: "0043", Serial: "7503",
			Manufacturer: "Arduino (www.arduino.cc)", Product: "Arduino Uno", Interface: "00", USBPath: "1-5", Driver: "cdc_acm",
			ByID:   []string{"/dev/serial/by-id/usb-Arduino__www.arduino.cc__Arduino_Uno_7503-if00"},
			ByPath: []string{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:5:1.0"},
		}},
		{"/dev/ttyS0", PortInfo{Name: "/dev/ttyS0", Kind: KindPlatform, Driver: "serial"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := byName[tt.name]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEnumeratorListMissingSysfs(t *testing.T) {
	_, err := Enumerator{Root: t.TempDir()}.List()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List without sysfs = %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestEnumeratorNode(t *testing.T) {
	tests := []struct {
		path    string
		want    string
		missing bool
	}{
		{"/dev/ttyUSB0", "/dev/ttyUSB0", false},
		{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:4:1.0-port0", "/dev/ttyUSB2", false},
		{"/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0", "/dev/ttyUSB0", false},
		{"/dev/beds/bed1", "/dev/ttyUSB0", false},       // absolute link to a by-path link
		{"/dev/beds/bed1-by-id", "/dev/ttyUSB0", false}, // relative link to a by-id link
		{"/dev/beds/../serial/by-id/../../ttyS0", "/dev/ttyS0", false},
		{"/dev/beds/unplugged", "/dev/ttyUSB9", true}, // dangling: names the target
		{"/dev/serial/by-path/nothing-here", "/dev/serial/by-path/nothing-here", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := fakeRoot.Node(tt.path)
			if got != tt.want {
				t.Errorf("Node(%s) = %q, want %q", tt.path, got, tt.want)
			}
			if tt.missing != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Node(%s) error = %v, want missing=%v", tt.path, err, tt.missing)
			}
		})
	}
	if _, err := fakeRoot.Node("ttyUSB0"); err == nil {
		t.Error("Node of a relative path succeeded")
	}
}

func TestEnumeratorResolve(t *testing.T) {
	tests := []struct {
		binding string
		want    string
		err     error
	}{
		{"/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0", nil},
		{"usb:0403:6001:A50285BI", "/dev/ttyUSB0", nil},
		{"usb:0403:6001", "/dev/ttyUSB0", nil}, // the only FT232R
		{"usb:0403:6001:OTHER", "", ErrNoDevice},
		{"usb:067B:2303", "", ErrAmbiguous}, // two PL2303s, no serial numbers
		{"usb:0403:6011:FT4XYZ", "", ErrAmbiguous},
		{"usb:0403:6011:FT4XYZ:01", "/dev/ttyUSB4", nil},
		{"usb:0403:6011:FT4XYZ:if00", "/dev/ttyUSB3", nil},
		{"usb:2341:0043:7503", "/dev/ttyACM0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.binding, func(t *testing.T) {
			got, err := fakeRoot.Resolve(tt.binding)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Resolve(%s) = %q, %v; want %q, %v", tt.binding, got, err, tt.want, tt.err)
			}
			if errors.Is(err, ErrAmbiguous) && !strings.Contains(err.Error(), "by-path") {
				t.Errorf("ambiguous error %q does not say what to do", err)
			}
		})
	}
}

func TestParseUSBID(t *testing.T) {
	tests := []struct {
		in      string
		want    USBID
		str     string
		wantErr string
	}{
		{"usb:0403:6001:A50285BI", USBID{VID: "0403", PID: "6001", Serial: "A50285BI"}, "usb:0403:6001:A50285BI", ""},
		{"067B:2303", USBID{VID: "067b", PID: "2303"}, "usb:067b:2303", ""},
		{"usb:0403:6011:FT4XYZ:if02", USBID{VID: "0403", PID: "6011", Serial: "FT4XYZ", Interface: "02"}, "usb:0403:6011:FT4XYZ:02", ""},
		{"usb:0403", USBID{}, "", "want VID:PID"},
		{"usb:403:6001", USBID{}, "", `vendor id "403"`},
		{"usb:0403:60z1", USBID{}, "", `product id "60z1"`},
		{"usb:0403:6001:", USBID{}, "", "empty serial"},
		{"usb:0403:6011:X:3", USBID{}, "", `interface "3"`},
		{"usb:0403:6011:X:00:1", USBID{}, "", "want VID:PID"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUSBID(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseUSBID(%q) = %v, want an error naming %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || got.String() != tt.str {
				t.Errorf("ParseUSBID(%q) = %+v (%s), %v; want %+v (%s)", tt.in, got, got, err, tt.want, tt.str)
			}
		})
	}
}

func TestPortInfoIdentity(t *testing.T) {
	ports, err := fakeRoot.List()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/dev/ttyUSB0": "usb:0403:6001:A50285BI",
		"/dev/ttyUSB1": "usb:067b:2303",
		"/dev/ttyUSB3": "usb:0403:6011:FT4XYZ",
		"/dev/ttyUSB4": "usb:0403:6011:FT4XYZ:01",
		"/dev/ttyS0":   "",
	}
	for _, p := range ports {
		w, ok := want[p.Name]
		if !ok {
			continue
		}
		got := p.Identity()
		if (w == "") != (got == USBID{}) || (w != "" && got.String() != w) {
			t.Errorf("%s: Identity() = %v, want %q", p.Name, got, w)
		}
	}
}

func TestOpenUSBBindingNotPresent(t *testing.T) {
	_, err := Open("usb:1234:abcd:NOSUCHADAPTER", line9600, Options{})
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Open(usb binding of no adapter) = %v, want ErrNoDevice", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "usb:1234:abcd:NOSUCHADAPTER") || !strings.Contains(msg, "plugged in") {
		t.Errorf("error %q should name the binding and say it is not plugged in", msg)
	}
}

func TestCompareNames(t *testing.T) {
	names := []string{"/dev/ttyS10", "/dev/ttyUSB1", "/dev/ttyS2", "/dev/ttyACM0", "/dev/ttyUSB10", "/dev/ttyUSB9"}
	slices.SortFunc(names, compareNames)
	want := []string{"/dev/ttyACM0", "/dev/ttyS2", "/dev/ttyS10", "/dev/ttyUSB1", "/dev/ttyUSB9", "/dev/ttyUSB10"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted %q, want %q", names, want)
	}
}
