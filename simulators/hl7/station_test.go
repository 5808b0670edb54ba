package hl7

import (
	"math"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// TestMessageReadsBack: what the station sends reads back through the
// gateway's parser as the vitals it encoded, the sensor-off values as
// absent and flagged.
func TestMessageReadsBack(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := Monitor{Bed: "bed 1", Unit: "ICU", Serial: "9000000001", PID: "9434765919"}
	for _, v := range []scenario.Vitals{
		{SpO2: 97.2, PulseRate: 71, PerfusionIndex: 3.1, RespRate: 15, SysBP: 121, DiaBP: 77, TempC: 36.9},
		{SensorOff: true, RespRate: 15, SysBP: 121, DiaBP: 77, TempC: 36.9},
	} {
		oru, err := hl7v2.ParseORU(Message(m, "ID-1", at, v), hl7v2.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if nhs, _ := oru.Patient.NHSNumber(); nhs != m.PID || oru.Location.Bed != "bed 1" || len(oru.Readings) != 1 {
			t.Fatalf("header %+v location %+v readings %d", oru.Patient, oru.Location, len(oru.Readings))
		}
		r := oru.Readings[0]
		if r.Equipment != EUI64(m.Serial) || !r.DeviceTime.Equal(at) {
			t.Fatalf("equipment %q time %v", r.Equipment, r.DeviceTime)
		}
		want := []float64{v.SpO2, v.PulseRate, v.PerfusionIndex, v.RespRate, v.SysBP, v.DiaBP, v.TempC}
		for i, val := range r.Values {
			switch {
			case i < 3 && v.SensorOff:
				if val.Value != nil || val.Status&drivers.Unavailable == 0 {
					t.Errorf("value %d with the sensor off: %+v", i, val)
				}
			case val.Value == nil || math.Abs(*val.Value-want[i]) > 0.05 || val.Status != 0:
				t.Errorf("value %d: %+v, want %v", i, val, want[i])
			}
		}
	}
	if EUI64("9000000001") != "0000000218711A01" || len(EUI64("MON-7")) != 16 {
		t.Errorf("EUI64: %s %s", EUI64("9000000001"), EUI64("MON-7"))
	}
}
