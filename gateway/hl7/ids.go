package hl7

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/bedgate/bedgate/gateway/record"
)

// MessageControlID returns MSH-10 for the record with sequence number seq of
// a gateway's outbox incarnation: "<gateway-id>-<incarnation>-<seq>" (or
// "<gateway-id>-<seq>" without an incarnation), seq in decimal without
// padding. The sequence number is the digits after the last "-" and the
// incarnation (12 hex digits) the part before it, so the id is unique per
// (gateway, incarnation, seq) even when the gateway id contains "-", and a
// receiver can check that no sequence number is missing within an
// incarnation. The value is escaped when written into the message.
func MessageControlID(gateway, incarnation string, seq uint64) string {
	if incarnation != "" {
		gateway += "-" + incarnation
	}
	return gateway + "-" + strconv.FormatUint(seq, 10)
}

// DeviceEUI64 returns the EUI-64 the encoder writes in OBX-18 for the device
// of r: 16 upper-case hex digits derived from the device's identity, not
// read from the device. It is the first 8 bytes of the SHA-256 of
// "bedgate-device-serial\x00<driver>\x00<serial>" when the driver reports
// the device's serial number (serials are unique per manufacturer, and a
// driver speaks for one), else of
// "bedgate-device-key\x00<gateway>\x00<device key>" (the device key then
// names the bed's configured device, unique only within its gateway). The
// first octet
// has the universal/local bit set and the individual/group bit cleared, as
// IEEE says for a locally administered individual identifier, so it can
// never equal a manufacturer-assigned EUI-64.
func DeviceEUI64(r record.Record) string {
	if r.Device.Serial != "" && r.Device.Driver != "" {
		return localEUI64("bedgate-device-serial", r.Device.Driver, r.Device.Serial)
	}
	return localEUI64("bedgate-device-key", r.Gateway, r.DeviceKey)
}

// GatewayEUI64 returns the EUI-64 the encoder writes in MSH-3 and OBR-3 for
// a gateway: derived like DeviceEUI64 from "bedgate-gateway\x00<gateway-id>".
func GatewayEUI64(gateway string) string {
	return localEUI64("bedgate-gateway", gateway, "")
}

func localEUI64(kind, scope, key string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + scope + "\x00" + key))
	b := sum[:8]
	b[0] = b[0]&^0x01 | 0x02 // individual, locally administered
	return strings.ToUpper(hex.EncodeToString(b))
}

// Private MDC codes for values the driver knows only by the device's label
// (MDC code 0): IEEE 11073-10101 reserves term codes 0xF000-0xFFFF of each
// partition for private use. PrivateCode returns
// 2<<16 | (0xF000 + h mod 4096), where h is the first two bytes of the
// SHA-256 of "<driver>\x00<label>" read big-endian: a stable code in the
// metrics (SCADA) partition's private range, distinct for the labels of one
// driver in practice; the label itself travels as the alternate code.
func PrivateCode(driver, label string) uint32 {
	sum := sha256.Sum256([]byte(driver + "\x00" + label))
	h := uint32(sum[0])<<8 | uint32(sum[1])
	return 2<<16 | (0xF000 + h%0x1000)
}
