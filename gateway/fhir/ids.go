package fhir

import (
	"strings"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/record"
)

// Identifier systems the encoder writes.
const (
	// ObservationIdentifierSystem qualifies Observation.identifier: the
	// value is the record's observation id as a urn:uuid URI, which is
	// globally unique by itself (FHIR's system for URI-valued identifiers).
	ObservationIdentifierSystem = "urn:ietf:rfc:3986"
	// LocationIdentifierSystem qualifies the bed Location's identifier,
	// whose value is "<site>/<ward>/<bed>" with "%" and "/" inside a name
	// percent-encoded.
	LocationIdentifierSystem = "urn:bedgate:location"
	// NHSNumberSystem is the system of NHS numbers (UK Core Patient).
	NHSNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
)

// SequenceSystem returns the system of Bundle.identifier for a gateway and
// outbox incarnation: "urn:bedgate:gateway:<gateway-id>:seq:<incarnation>",
// both percent-encoded, or "urn:bedgate:gateway:<gateway-id>:seq" without an
// incarnation. The identifier's value is the record's sequence number in
// decimal, so a receiver can check that none is missing within a system; a
// new system for the same gateway means its outbox was replaced (a reset,
// not a gap).
func SequenceSystem(gateway, incarnation string) string {
	s := "urn:bedgate:gateway:" + escapePart(gateway) + ":seq"
	if incarnation != "" {
		s += ":" + escapePart(incarnation)
	}
	return s
}

// deviceIdentifier returns the identifier of the record's device:
// {deviceSerialSystem(driver), serial} when the driver reports the device's
// serial number, so the device keeps one identity wherever it is plugged
// in, else {deviceKeySystem(gateway), device key}. The device key (the
// gateway's "<driver>:<serial>" or "bed:<site>/<ward>/<device>") is not
// the serial-based value: it stays what observation ids are derived from.
func deviceIdentifier(r record.Record) identifier {
	if r.Device.Serial != "" && r.Device.Driver != "" {
		return identifier{System: deviceSerialSystem(r.Device.Driver), Value: r.Device.Serial}
	}
	return identifier{System: deviceKeySystem(r.Gateway), Value: r.DeviceKey}
}

// deviceSerialSystem qualifies a device identified by its serial number:
// serials are unique per manufacturer, and a driver speaks for one.
func deviceSerialSystem(driver string) string {
	return "urn:bedgate:device:" + escapePart(driver) + ":serial"
}

// deviceKeySystem qualifies a device identified by the bed's configured
// device name, which is unique only within the gateway.
func deviceKeySystem(gateway string) string {
	return "urn:bedgate:gateway:" + escapePart(gateway) + ":device"
}

// driverParameterSystem codes a value a driver knows only by the device's
// own label (MDC code 0).
func driverParameterSystem(driver string) string {
	return "urn:bedgate:driver:" + escapePart(driver) + ":parameter"
}

// entryNamespace is the UUIDv5 namespace of Bundle entry fullUrls.
const entryNamespace = "3c7e1f0a-5b2d-4e8a-9f61-0d2b7a4c8e15"

// entryURL returns the deterministic urn:uuid fullUrl of the entry for a
// resource of type kind with the given key.
func entryURL(ns uuid.UUID, kind, key string) string {
	return "urn:uuid:" + uuid.NewSHA1(ns, []byte(kind+"\x00"+key)).String()
}

// ifNoneExist returns the search query that matches an identifier, for a
// conditional create, update or reference: "identifier=<system>|<value>".
// The system stays even for an Observation's urn:uuid value, unique by
// itself: without it the query also matches a copy of the identifier
// under another system that an EPR's integration engine may have made,
// and a conditional update matching two resources fails (412), leaving a
// wrong filing standing.
func ifNoneExist(id identifier) string {
	return "identifier=" + escape(id.System) + "|" + escape(id.Value)
}

// escape percent-encodes every byte except the RFC 3986 unreserved
// characters and ":", "/" and "@", so that the result is safe inside a URN
// part and a URL query value ("|", "&", "=", "+", "#", "%" and spaces are
// encoded). Used for names from configuration, where ":" only appears in
// identifiers' systems and values.
func escape(s string) string {
	i := 0
	for i < len(s) && keepsItself(s[i]) {
		i++
	}
	if i == len(s) {
		return s // the usual case: nothing to encode, nothing allocated
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(i + 3*(len(s)-i))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if keepsItself(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// keepsItself reports whether escape leaves c as it is.
func keepsItself(c byte) bool {
	return isUnreserved(c) || c == ':' || c == '/' || c == '@'
}

// escapePart is escape that also encodes ":" and "/", for one part of a
// structured name such as a URN segment or a Location path.
func escapePart(s string) string { return partEscaper.Replace(escape(s)) }

// pathPart percent-encodes "%" and "/" so that names can be joined with "/".
func pathPart(s string) string { return pathEscaper.Replace(s) }

// The replacers are built once: building one costs more than using it, and
// the encoder calls them several times for every reading.
var (
	partEscaper = strings.NewReplacer(":", "%3A", "/", "%2F")
	pathEscaper = strings.NewReplacer("%", "%25", "/", "%2F")
)

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// metricSystem qualifies the DeviceMetric identifiers of a device whose
// identifier has the given system; the value is "<device value>/<metric>",
// the metric a decimal MDC code or "label:<device label>".
func metricSystem(deviceSystem string) string {
	return deviceSystem + ":metric"
}
