package serialport

import (
	"fmt"

	"go.bug.st/serial/enumerator"
)

// PortInfo describes a serial port found by List.
type PortInfo struct {
	// Name is the device node, for example /dev/ttyUSB0.
	Name string `json:"name"`
	// USB is true for a USB serial adapter or device.
	USB bool `json:"usb"`
	// VID and PID are the USB vendor and product ids in lower-case
	// hexadecimal, for USB ports.
	VID string `json:"vid,omitempty"`
	PID string `json:"pid,omitempty"`
	// Serial is the USB serial number, when the device reports one.
	Serial string `json:"serial,omitempty"`
	// Product is the USB product string, when the device reports one.
	Product string `json:"product,omitempty"`
}

// List returns the serial ports present on the system.
func List() ([]PortInfo, error) {
	found, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("serialport: list ports: %w", err)
	}
	ports := make([]PortInfo, 0, len(found))
	for _, d := range found {
		ports = append(ports, PortInfo{
			Name:    d.Name,
			USB:     d.IsUSB,
			VID:     d.VID,
			PID:     d.PID,
			Serial:  d.SerialNumber,
			Product: d.Product,
		})
	}
	return ports, nil
}
