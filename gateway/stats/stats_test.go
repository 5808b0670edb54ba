package stats

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/mdc"
)

func TestReady(t *testing.T) {
	open := Outbox{Open: true, MaxBytes: 1000}
	tests := []struct {
		name string
		snap Snapshot
		want string // "" for ready, else a part of the reason
	}{
		{"connected", Snapshot{Outbox: open, Link: Link{Connected: true}}, ""},
		{"connected with a backlog", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, Bytes: 900, OldestAge: Duration(time.Hour)}, Link: Link{Connected: true}}, ""},
		{"outbox closed", Snapshot{Link: Link{Connected: true}}, "outbox is closed"},
		{"short outage", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, Bytes: 10, OldestAge: Duration(time.Minute)}}, ""},
		{"long outage", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, OldestAge: Duration(6 * time.Minute)}, Link: Link{LastError: "connection refused"}}, "connection refused"},
		{"outbox half full", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, Bytes: 500}}, "50% full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.snap.Ready()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Ready() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Ready() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Duration }{Duration(1500 * time.Millisecond)})
	if err != nil || string(b) != `{"D":"1.5s"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct{ D Duration }
	if err := json.Unmarshal(b, &back); err != nil || back.D.Std() != 1500*time.Millisecond {
		t.Fatalf("Unmarshal = %v, %v", back.D, err)
	}
}

func TestKeyVital(t *testing.T) {
	for _, tt := range []struct {
		code       uint32
		key, label string
	}{
		{mdc.SpO2, KeySpO2, "SpO2"},
		{mdc.PulsOximPulse, KeyPulse, "Pulse"},
		{mdc.ECGHeartRate, KeyHeartRate, "HR (ECG)"},
		{mdc.TThorRespRate, KeyRespImpeda, "RR (impedance)"},
		{mdc.AwayRespRate, KeyRespAirway, "RR (airway CO2)"},
		{mdc.CO2RespRate, KeyRespAirway, "RR (airway CO2)"},
		{mdc.NIBPSys, KeySystolic, "BP sys"},
		{mdc.TempBody, KeyTemperature, "Temp"},
	} {
		key, label, _, ok := KeyVital(tt.code)
		if !ok || key != tt.key || label != tt.label {
			t.Errorf("KeyVital(%d) = %q %q %v, want %q %q", tt.code, key, label, ok, tt.key, tt.label)
		}
	}
	if _, _, _, ok := KeyVital(mdc.AwayCO2Et); ok {
		t.Error("end-tidal CO2 is not a key vital of the tile")
	}
}
