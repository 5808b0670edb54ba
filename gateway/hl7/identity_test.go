package hl7_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/hl7"
	"github.com/bedgate/bedgate/gateway/record"
)

// observed is a record as the gateway builds it: a reading from dev at
// Bed 3 of gw, turned into a record by gateway.Bed.Observe.
func observed(t *testing.T, gw string, dev drivers.DeviceID) record.Record {
	t.Helper()
	bed := gateway.Bed{Gateway: gw, Site: "St Elsewhere", Ward: "Ward 7", Name: "Bed 3", Device: "bed3-monitor"}
	spo2 := 97.0
	return bed.Observe(drivers.Reading{
		Device:     dev,
		DeviceTime: time.Date(2026, 6, 11, 9, 15, 0, 0, time.FixedZone("BST", 3600)),
		ReceivedAt: time.Date(2026, 6, 11, 8, 15, 1, 0, time.UTC),
		Values:     []drivers.Value{{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: &spo2, Unit: "%"}},
	})
}

// documentedEUI64 derives an EUI-64 as DeviceEUI64's documentation says:
// the first 8 bytes of SHA-256("<kind>\x00<scope>\x00<key>"), the first
// octet made locally administered and individual.
func documentedEUI64(kind, scope, key string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + scope + "\x00" + key))
	sum[0] = sum[0]&^0x01 | 0x02
	return strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// TestDeviceEUI64OfObservedRecords encodes records built the way the
// gateway builds them: a device that reports a serial is identified by
// driver and serial (though the gateway's device key is
// "<driver>:<serial>"), one without by gateway and device key, in
// DeviceEUI64 and in OBX-18 of the device row.
func TestDeviceEUI64OfObservedRecords(t *testing.T) {
	tests := []struct {
		name    string
		dev     drivers.DeviceID
		wantKey string
		want    string
	}{
		{
			name:    "serial",
			dev:     drivers.DeviceID{Driver: "masimo", Model: "Radical-7", Serial: "0000093112"},
			wantKey: "masimo:0000093112",
			want:    documentedEUI64("bedgate-device-serial", "masimo", "0000093112"),
		},
		{
			name:    "no serial",
			dev:     drivers.DeviceID{Driver: "intellivue"},
			wantKey: "bed:St Elsewhere/Ward 7/bed3-monitor",
			want:    documentedEUI64("bedgate-device-key", "gw-ward7", "bed:St Elsewhere/Ward 7/bed3-monitor"),
		},
	}
	enc, err := hl7.New(hl7.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := observed(t, "gw-ward7", tt.dev)
			if r.DeviceKey != tt.wantKey {
				t.Fatalf("device key %q, want %q", r.DeviceKey, tt.wantKey)
			}
			if got := hl7.DeviceEUI64(r); got != tt.want {
				t.Errorf("DeviceEUI64 = %s, want %s", got, tt.want)
			}
			msg, err := enc.Encode(r, 1)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			var mds []string
			for _, seg := range strings.Split(strings.TrimRight(string(msg), "\r\n"), "\r") {
				if f := strings.Split(seg, "|"); f[0] == "OBX" && len(f) > 18 && f[4] == "1.0.0.0" {
					mds = f
				}
			}
			if mds == nil {
				t.Fatalf("no device row (OBX-4 1.0.0.0) in %q", msg)
			}
			if want := tt.want + "^^" + tt.want + "^EUI-64"; mds[18] != want {
				t.Errorf("device row OBX-18 = %q, want %q", mds[18], want)
			}
		})
	}
}

// TestDeviceEUI64AcrossGateways: a device known by its serial has one
// EUI-64 wherever it is read; one known by the bed's configured name has a
// different one at each gateway.
func TestDeviceEUI64AcrossGateways(t *testing.T) {
	for _, tt := range []struct {
		name string
		dev  drivers.DeviceID
		same bool
	}{
		{"serial", drivers.DeviceID{Driver: "masimo", Serial: "0000093112"}, true},
		{"no serial", drivers.DeviceID{Driver: "intellivue"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := hl7.DeviceEUI64(observed(t, "gw-ward7", tt.dev))
			b := hl7.DeviceEUI64(observed(t, "gw-ward8", tt.dev))
			if same := a == b; same != tt.same {
				t.Errorf("EUI-64 at gw-ward7 %s, at gw-ward8 %s: same = %v, want %v", a, b, same, tt.same)
			}
		})
	}
}
