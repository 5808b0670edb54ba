package serialport

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Kinds of serial port, in PortInfo.Kind.
const (
	// KindUSB is a USB serial adapter or a USB device with a serial
	// interface (ttyUSB, ttyACM).
	KindUSB = "usb"
	// KindPlatform is a UART on the board or on an expansion card (ttyS,
	// ttyAMA, ...).
	KindPlatform = "platform"
	// KindPTY is a pseudo-terminal, such as a simulator's. Enumeration never
	// lists them; tools name them when a bed's port resolves to one.
	KindPTY = "pty"
)

// ErrAmbiguous is returned when a USB adapter identity matches more than
// one port: the adapters cannot be told apart by it.
var ErrAmbiguous = errors.New("serialport: ambiguous adapter identity")

// maxLinks bounds the symlinks followed while resolving one path.
const maxLinks = 40

// Enumerator finds serial ports by reading sysfs and the /dev/serial
// symlinks that udev makes. It never opens a port, so it does not disturb
// one in use (unlike probing each ttyS node to see whether a UART is
// behind it).
//
// The zero value reads the running system. Tests point Root at a directory
// holding fake sys and dev trees.
type Enumerator struct {
	// Root is the directory that holds sys and dev; "" means "/". Paths
	// in results are always as seen on the system (/dev/ttyUSB0), not
	// under Root.
	Root string
}

func (e Enumerator) real(p string) string {
	if e.Root == "" {
		return p
	}
	return filepath.Join(e.Root, filepath.FromSlash(p))
}

// List returns every serial port the kernel has, sorted by name. A port
// that sysfs lists but that has no hardware behind it (the placeholder
// ttyS ports of a PC without those UARTs) is left out.
func (e Enumerator) List() ([]PortInfo, error) {
	const class = "/sys/class/tty"
	entries, err := os.ReadDir(e.real(class))
	if err != nil {
		return nil, fmt.Errorf("serialport: list ports: %w", err)
	}
	names := e.stableNames()
	var ports []PortInfo
	for _, ent := range entries {
		name := ent.Name()
		dir := e.real(path.Join(class, name))
		devDir, err := filepath.EvalSymlinks(filepath.Join(dir, "device"))
		if err != nil {
			continue // a virtual terminal (tty1, console, ptmx): no device behind it
		}
		p := PortInfo{Name: "/dev/" + name, Kind: KindPlatform}
		if target, err := os.Readlink(filepath.Join(devDir, "driver")); err == nil {
			p.Driver = filepath.Base(target)
		}
		if usb, iface, ok := e.usbParent(devDir); ok {
			p.Kind, p.USB = KindUSB, true
			p.VID = strings.ToLower(attr(usb, "idVendor"))
			p.PID = strings.ToLower(attr(usb, "idProduct"))
			p.Serial = attr(usb, "serial")
			p.Manufacturer = attr(usb, "manufacturer")
			p.Product = attr(usb, "product")
			p.USBPath = filepath.Base(usb)
			if iface != "" {
				p.Interface = attr(iface, "bInterfaceNumber")
			}
		} else if t := attr(dir, "type"); t == "0" {
			continue // serial core knows of no UART at this port
		}
		p.ByID = names[byID][p.Name]
		p.ByPath = names[byPath][p.Name]
		ports = append(ports, p)
	}
	slices.SortFunc(ports, func(a, b PortInfo) int { return compareNames(a.Name, b.Name) })
	return ports, nil
}

// usbParent walks up from a tty's device directory to the USB device that
// carries it. It returns that directory and the USB interface directory
// on the way, if any.
func (e Enumerator) usbParent(devDir string) (usb, iface string, ok bool) {
	stop := filepath.Clean(e.real("/sys/devices"))
	for d := devDir; len(d) > len(stop) && strings.HasPrefix(d, stop); d = filepath.Dir(d) {
		if iface == "" && exists(filepath.Join(d, "bInterfaceNumber")) {
			iface = d
		}
		if exists(filepath.Join(d, "idVendor")) && exists(filepath.Join(d, "idProduct")) {
			return d, iface, true
		}
	}
	return "", "", false
}

const (
	byID   = "/dev/serial/by-id"
	byPath = "/dev/serial/by-path"
)

// stableNames maps each device node to its /dev/serial/by-id and by-path
// names, keyed by directory.
func (e Enumerator) stableNames() map[string]map[string][]string {
	all := make(map[string]map[string][]string)
	for _, dir := range []string{byID, byPath} {
		m := make(map[string][]string)
		all[dir] = m
		entries, err := os.ReadDir(e.real(dir))
		if err != nil {
			continue // no such directory: udev made no links (no USB serial adapters, or no udev)
		}
		for _, ent := range entries {
			link := path.Join(dir, ent.Name())
			node, err := e.Node(link)
			if err != nil || node == link {
				continue
			}
			m[node] = append(m[node], link)
		}
	}
	return all
}

// Node returns the device node that path names, following symlinks (a
// /dev/serial/by-path name, a link a simulator made). It returns the node
// with an error matching fs.ErrNotExist when a link dangles or the node
// does not exist, and path itself when it is not a link.
func (e Enumerator) Node(p string) (string, error) {
	if !path.IsAbs(p) {
		return p, fmt.Errorf("serialport: %s: not an absolute path", p)
	}
	p = path.Clean(p)
	for range maxLinks {
		if p == "/" {
			return p, nil
		}
		// Resolve links in the directories on the way first.
		dir, err := e.Node(path.Dir(p))
		if err != nil {
			return p, err
		}
		p = path.Join(dir, path.Base(p))
		target, err := os.Readlink(e.real(p))
		switch {
		case errors.Is(err, syscall.EINVAL):
			return p, nil // not a link: the node itself
		case err != nil:
			return p, err
		case path.IsAbs(target):
			p = path.Clean(target)
		default:
			p = path.Join(path.Dir(p), target)
		}
	}
	return p, fmt.Errorf("serialport: %s: too many levels of symbolic links", p)
}

// Resolve returns the device node a port binding names now. A binding is
// either a path, returned as it is (Open follows its links), or an adapter
// identity "usb:VID:PID[:SERIAL[:INTERFACE]]", which is looked up among the
// ports present. An identity that matches no port gives an error matching
// ErrNoDevice; one that matches several, ErrAmbiguous.
func (e Enumerator) Resolve(binding string) (string, error) {
	if !IsUSBBinding(binding) {
		return binding, nil
	}
	id, err := ParseUSBID(binding)
	if err != nil {
		return "", err
	}
	ports, err := e.List()
	if err != nil {
		return "", err
	}
	var found []string
	for _, p := range ports {
		if id.Matches(p) {
			found = append(found, p.Name)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: no adapter %s is plugged in", ErrNoDevice, id)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%w: %s matches %s: bind these beds by /dev/serial/by-path instead", ErrAmbiguous, id, strings.Join(found, ", "))
	}
}

// Resolve returns the device node a port binding names now, on this system:
// Enumerator{}.Resolve(binding).
func Resolve(binding string) (string, error) { return Enumerator{}.Resolve(binding) }

// USBID identifies a USB serial adapter: vendor and product ids, and where
// the adapter has them, its serial number and the interface of a
// multi-port adapter.
type USBID struct {
	VID, PID  string // four lower-case hexadecimal digits each
	Serial    string // empty matches any serial number
	Interface string // two hexadecimal digits, e.g. "01"; empty matches any
}

// IsUSBBinding reports whether a port binding is an adapter identity
// ("usb:...") rather than a path.
func IsUSBBinding(binding string) bool { return strings.HasPrefix(binding, "usb:") }

// ParseUSBID parses "VID:PID[:SERIAL[:INTERFACE]]", with or without a
// leading "usb:", for example "usb:0403:6001:A50285BI".
func ParseUSBID(s string) (USBID, error) {
	parts := strings.Split(strings.TrimPrefix(s, "usb:"), ":")
	if len(parts) < 2 || len(parts) > 4 {
		return USBID{}, fmt.Errorf("serialport: adapter identity %q: want VID:PID[:SERIAL[:INTERFACE]], for example 0403:6001:A50285BI", s)
	}
	id := USBID{VID: strings.ToLower(parts[0]), PID: strings.ToLower(parts[1])}
	for _, x := range []struct{ name, v string }{{"vendor id", id.VID}, {"product id", id.PID}} {
		if len(x.v) != 4 || !isHex(x.v) {
			return USBID{}, fmt.Errorf("serialport: adapter identity %q: %s %q: want four hexadecimal digits", s, x.name, x.v)
		}
	}
	if len(parts) > 2 {
		id.Serial = parts[2]
		if id.Serial == "" {
			return USBID{}, fmt.Errorf("serialport: adapter identity %q: empty serial number", s)
		}
	}
	if len(parts) > 3 {
		id.Interface = strings.ToLower(strings.TrimPrefix(parts[3], "if"))
		if len(id.Interface) != 2 || !isHex(id.Interface) {
			return USBID{}, fmt.Errorf("serialport: adapter identity %q: interface %q: want two hexadecimal digits, for example 00", s, parts[3])
		}
	}
	return id, nil
}

// String gives the binding form, "usb:VID:PID[:SERIAL[:INTERFACE]]".
func (u USBID) String() string {
	s := "usb:" + u.VID + ":" + u.PID
	if u.Serial != "" {
		s += ":" + u.Serial
		if u.Interface != "" {
			s += ":" + u.Interface
		}
	}
	return s
}

// Matches reports whether port p is an adapter with this identity.
func (u USBID) Matches(p PortInfo) bool {
	return p.USB && strings.EqualFold(p.VID, u.VID) && strings.EqualFold(p.PID, u.PID) &&
		(u.Serial == "" || p.Serial == u.Serial) &&
		(u.Interface == "" || strings.EqualFold(p.Interface, u.Interface))
}

// Identity returns the adapter identity of a USB port, naming the
// interface only for multi-port adapters (interface other than 00), and
// the zero USBID for another port.
func (p PortInfo) Identity() USBID {
	if !p.USB {
		return USBID{}
	}
	id := USBID{VID: p.VID, PID: p.PID, Serial: p.Serial}
	if p.Serial != "" && p.Interface != "" && p.Interface != "00" {
		id.Interface = p.Interface
	}
	return id
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// attr reads a sysfs attribute, trimmed; "" when absent.
func attr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// compareNames orders names with their trailing numbers by value, so that
// ttyS2 comes before ttyS10.
func compareNames(a, b string) int {
	sa, na := splitNumber(a)
	sb, nb := splitNumber(b)
	if c := strings.Compare(sa, sb); c != 0 {
		return c
	}
	if na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(s[i:])
	return s[:i], n
}
