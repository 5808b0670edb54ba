package fhir_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/record"
)

// observed is a record as the gateway builds it: a reading from dev at
// Bed 3 of gw-ward7, turned into a record by gateway.Bed.Observe.
func observed(t *testing.T, gw string, dev drivers.DeviceID) record.Record {
	t.Helper()
	bed := gateway.Bed{Gateway: gw, Site: "St Elsewhere", Ward: "Ward 7", Name: "Bed 3", Device: "bed3-monitor"}
	spo2, pr := 97.0, 72.0
	r := bed.Observe(drivers.Reading{
		Device:     dev,
		DeviceTime: time.Date(2026, 6, 11, 9, 15, 0, 0, time.FixedZone("BST", 3600)),
		ReceivedAt: time.Date(2026, 6, 11, 8, 15, 1, 0, time.UTC),
		Values: []drivers.Value{
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: &spo2, Unit: "%"},
			{MDC: 149530, Ref: "MDC_PULS_OXIM_PULS_RATE", Value: &pr, Unit: "/min"},
		},
	})
	if r.DeviceKey != bed.DeviceKey(dev) {
		t.Fatalf("Observe gave device key %q, Bed.DeviceKey %q", r.DeviceKey, bed.DeviceKey(dev))
	}
	return r
}

type fhirIdentifier struct{ System, Value string }

type fhirEntry struct {
	FullURL  string `json:"fullUrl"`
	Resource struct {
		ResourceType string           `json:"resourceType"`
		Identifier   []fhirIdentifier `json:"identifier"`
		Source       struct{ Reference string }
		Device       struct{ Reference string }
	} `json:"resource"`
	Request struct {
		URL         string `json:"url"`
		IfNoneExist string `json:"ifNoneExist"`
	} `json:"request"`
}

// conditional is the conditional reference that resolves to what e creates.
func (e fhirEntry) conditional() string { return e.Request.URL + "?" + e.Request.IfNoneExist }

// TestDeviceIdentityOfObservedRecords encodes records built the way the
// gateway builds them and checks the Device identity the package documents:
// by driver and serial when the device reports a serial (whatever the
// gateway's device key looks like), else by gateway and device key; the
// DeviceMetrics derive their identifiers from the Device's; observation
// identifiers still come from the device key.
func TestDeviceIdentityOfObservedRecords(t *testing.T) {
	tests := []struct {
		name       string
		dev        drivers.DeviceID
		wantKey    string
		wantDevice fhirIdentifier
		// wantValue is the Device value as it starts a metric's value.
		wantValue string
	}{
		{
			name:       "serial",
			dev:        drivers.DeviceID{Driver: "masimo", Model: "Radical-7", Serial: "0000093112"},
			wantKey:    "masimo:0000093112",
			wantDevice: fhirIdentifier{"urn:bedgate:device:masimo:serial", "0000093112"},
			wantValue:  "0000093112",
		},
		{
			name:       "no serial",
			dev:        drivers.DeviceID{Driver: "intellivue"},
			wantKey:    "bed:St Elsewhere/Ward 7/bed3-monitor",
			wantDevice: fhirIdentifier{"urn:bedgate:gateway:gw-ward7:device", "bed:St Elsewhere/Ward 7/bed3-monitor"},
			wantValue:  "bed:St Elsewhere%2FWard 7%2Fbed3-monitor",
		},
	}
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := observed(t, "gw-ward7", tt.dev)
			if r.DeviceKey != tt.wantKey {
				t.Fatalf("device key %q, want %q", r.DeviceKey, tt.wantKey)
			}
			entries := encodeEntries(t, enc, r)
			dev := only(t, entries, "Device")
			if len(dev.Resource.Identifier) != 1 || dev.Resource.Identifier[0] != tt.wantDevice {
				t.Fatalf("Device identifier %+v, want [%+v]", dev.Resource.Identifier, tt.wantDevice)
			}
			if want := "identifier=" + escapeQuery(tt.wantDevice.System) + "|" + escapeQuery(tt.wantDevice.Value); dev.Request.IfNoneExist != want {
				t.Errorf("Device ifNoneExist %q, want %q", dev.Request.IfNoneExist, want)
			}

			metrics := map[string]fhirEntry{} // by conditional reference
			for i, code := range []string{"150456", "149530"} {
				m := nth(t, entries, "DeviceMetric", i)
				want := fhirIdentifier{tt.wantDevice.System + ":metric", tt.wantValue + "/" + code}
				if len(m.Resource.Identifier) != 1 || m.Resource.Identifier[0] != want {
					t.Errorf("DeviceMetric %d identifier %+v, want [%+v]", i, m.Resource.Identifier, want)
				}
				if m.Resource.Source.Reference != dev.FullURL {
					t.Errorf("DeviceMetric %d source %q, want the Device %q", i, m.Resource.Source.Reference, dev.FullURL)
				}
				metrics[m.conditional()] = m
			}

			for i, o := range r.Observations {
				at := r.DeviceTime
				if want := gateway.ObservationID(r.Gateway, tt.wantKey, gateway.CodeKey(o.MDC, ""), at); o.ID != want {
					t.Errorf("observation %d id %s, want %s from the device key", i, o.ID, want)
				}
				obs := nth(t, entries, "Observation", i)
				if len(obs.Resource.Identifier) != 1 || obs.Resource.Identifier[0].Value != "urn:uuid:"+o.ID {
					t.Errorf("Observation %d identifier %+v, want urn:uuid:%s", i, obs.Resource.Identifier, o.ID)
				}
				if _, ok := metrics[obs.Resource.Device.Reference]; !ok {
					t.Errorf("Observation %d device %q is none of the DeviceMetrics", i, obs.Resource.Device.Reference)
				}
			}
		})
	}
}

// TestDeviceIdentityAcrossGateways: a device known by its serial is the same
// Device (and DeviceMetrics) wherever it is read; a device known by the
// bed's configured name is a different one at each gateway.
func TestDeviceIdentityAcrossGateways(t *testing.T) {
	enc, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		dev  drivers.DeviceID
		same bool
	}{
		{"serial", drivers.DeviceID{Driver: "masimo", Serial: "0000093112"}, true},
		{"no serial", drivers.DeviceID{Driver: "intellivue"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := encodeEntries(t, enc, observed(t, "gw-ward7", tt.dev))
			b := encodeEntries(t, enc, observed(t, "gw-ward8", tt.dev))
			for _, typ := range []string{"Device", "DeviceMetric"} {
				ea, eb := nth(t, a, typ, 0), nth(t, b, typ, 0)
				same := ea.FullURL == eb.FullURL && ea.Resource.Identifier[0] == eb.Resource.Identifier[0]
				if same != tt.same {
					t.Errorf("%s at gw-ward7 %+v and gw-ward8 %+v: same = %v, want %v",
						typ, ea.Resource.Identifier, eb.Resource.Identifier, same, tt.same)
				}
			}
		})
	}
}

// encodeEntries returns the entries of r's context Bundle, then those of
// r's Bundle.
func encodeEntries(t *testing.T, enc *fhir.Encoder, r record.Record) []fhirEntry {
	t.Helper()
	ctx := record.Record{Kind: record.KindContext, Gateway: r.Gateway, Site: r.Site, Ward: r.Ward, Bed: r.Bed,
		Device: r.Device, DeviceKey: r.DeviceKey, ReceivedAt: r.ReceivedAt, Metrics: enc.Metrics(r)}
	var entries []fhirEntry
	for i, rec := range []record.Record{ctx, r} {
		b, err := enc.Encode(rec, uint64(i+1))
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		var bundle struct{ Entry []fhirEntry }
		if err := json.Unmarshal(b, &bundle); err != nil {
			t.Fatalf("bundle: %v", err)
		}
		entries = append(entries, bundle.Entry...)
	}
	return entries
}

// nth returns the i-th entry (from 0) whose resource is of type typ.
func nth(t *testing.T, entries []fhirEntry, typ string, i int) fhirEntry {
	t.Helper()
	for _, e := range entries {
		if e.Resource.ResourceType == typ {
			if i == 0 {
				return e
			}
			i--
		}
	}
	t.Fatalf("too few %s entries", typ)
	return fhirEntry{}
}

func only(t *testing.T, entries []fhirEntry, typ string) fhirEntry {
	t.Helper()
	n := 0
	for _, e := range entries {
		if e.Resource.ResourceType == typ {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d %s entries, want 1", n, typ)
	}
	return nth(t, entries, typ, 0)
}

// escapeQuery percent-encodes what the identifiers above contain that a
// URL query value cannot: spaces and "%".
func escapeQuery(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20").Replace(s)
}
