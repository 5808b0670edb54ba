package serialport

import (
	"os"
	"testing"
)

func TestListNamesCharacterDevices(t *testing.T) {
	ports, err := List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(ports) == 0 {
		t.Skip("no serial ports on this machine")
	}
	for _, p := range ports {
		info, err := os.Stat(p.Name)
		if err != nil || info.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("listed port %q is not a character device (%v)", p.Name, err)
		}
		if !p.USB && (p.VID != "" || p.PID != "") {
			t.Errorf("non-USB port %q has USB ids %q:%q", p.Name, p.VID, p.PID)
		}
	}
}
