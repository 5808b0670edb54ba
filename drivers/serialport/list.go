package serialport

import (
	"errors"
	"fmt"
	"io/fs"

	"go.bug.st/serial/enumerator"
)

// PortInfo describes a serial port found by List or Enumerator.List.
type PortInfo struct {
	// Name is the device node, for example /dev/ttyUSB0.
	Name string `json:"name"`
	// Kind is KindUSB, KindPlatform or KindPTY.
	Kind string `json:"kind"`
	// USB is true for a USB serial adapter or device.
	USB bool `json:"usb"`
	// VID and PID are the USB vendor and product ids in lower-case
	// hexadecimal, for USB ports.
	VID string `json:"vid,omitempty"`
	PID string `json:"pid,omitempty"`
	// Serial is the USB serial number, when the device reports one. Cheap
	// adapters (PL2303, CH340) have none, or all share one.
	Serial string `json:"serial,omitempty"`
	// Manufacturer and Product are the USB strings, when the device
	// reports them.
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	// Interface is the USB interface number (two hexadecimal digits), which
	// tells the ports of a multi-port adapter apart.
	Interface string `json:"interface,omitempty"`
	// USBPath is the adapter's place in the USB tree, bus-port.port...,
	// for example "1-2.1".
	USBPath string `json:"usb_path,omitempty"`
	// Driver is the kernel driver, for example ftdi_sio or serial8250.
	Driver string `json:"driver,omitempty"`
	// ByID and ByPath are the stable names udev made for the port under
	// /dev/serial/by-id and /dev/serial/by-path.
	ByID   []string `json:"by_id,omitempty"`
	ByPath []string `json:"by_path,omitempty"`
}

// List returns the serial ports present on the system. On Linux it reads
// sysfs and /dev/serial (see Enumerator) and opens nothing; elsewhere it
// asks go.bug.st/serial.
func List() ([]PortInfo, error) {
	ports, err := Enumerator{}.List()
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ports, err
	}
	found, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("serialport: list ports: %w", err)
	}
	ports = make([]PortInfo, 0, len(found))
	for _, d := range found {
		p := PortInfo{
			Name:    d.Name,
			Kind:    KindPlatform,
			USB:     d.IsUSB,
			VID:     d.VID,
			PID:     d.PID,
			Serial:  d.SerialNumber,
			Product: d.Product,
		}
		if d.IsUSB {
			p.Kind = KindUSB
		}
		ports = append(ports, p)
	}
	return ports, nil
}
