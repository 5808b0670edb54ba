package config

import (
	"strings"

	"github.com/bedgate/bedgate/drivers/serialport"
)

// Kinds [BindPorts] gives to the ports of beds that enumeration does not
// list, besides [serialport.KindPTY] for a pseudo-terminal.
const (
	KindAbsent = "absent" // the binding leads to no port present now
	KindOther  = "other"  // a node that is not a serial port sysfs knows
)

// BoundPort is a serial port and the beds bound to it.
type BoundPort struct {
	serialport.PortInfo
	Beds []BedBinding `json:"beds,omitempty"`
}

// BedBinding names a configured bed and the binding (a path or an adapter
// identity "usb:...") that leads to its port.
type BedBinding struct {
	Bed     string `json:"bed"`
	Binding string `json:"binding"`
}

// BindPorts matches each bed's binding to the ports e listed, resolving
// paths through e. It returns one BoundPort per port, in the order given,
// with the beds bound to it; a bed whose port is not among them gets a
// BoundPort of its own after them, of kind [serialport.KindPTY] for a
// pseudo-terminal, [KindOther] for another node that exists, and
// [KindAbsent] for a binding that leads nowhere now. Nothing is opened.
func BindPorts(e serialport.Enumerator, ports []serialport.PortInfo, beds []Bed) []BoundPort {
	bound := make([]BoundPort, len(ports))
	for i, p := range ports {
		bound[i].PortInfo = p
	}
	for _, b := range beds {
		use := BedBinding{Bed: b.Name, Binding: b.Port}
		matched := false
		if serialport.IsUSBBinding(b.Port) {
			id, err := serialport.ParseUSBID(b.Port)
			for i := range bound {
				if err == nil && id.Matches(bound[i].PortInfo) {
					bound[i].Beds = append(bound[i].Beds, use)
					matched = true
				}
			}
			if !matched {
				bound = append(bound, BoundPort{PortInfo: serialport.PortInfo{Name: b.Port, Kind: KindAbsent}, Beds: []BedBinding{use}})
			}
			continue
		}
		node, err := e.Node(b.Port)
		for i := range bound {
			if err == nil && bound[i].Name == node {
				bound[i].Beds = append(bound[i].Beds, use)
				matched = true
			}
		}
		if matched {
			continue
		}
		kind := KindOther
		switch {
		case err != nil:
			kind = KindAbsent
		case strings.HasPrefix(node, "/dev/pts/"):
			kind = serialport.KindPTY
		}
		bound = append(bound, BoundPort{PortInfo: serialport.PortInfo{Name: node, Kind: kind}, Beds: []BedBinding{use}})
	}
	return bound
}
