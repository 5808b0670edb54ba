package recordtest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/record"
)

func TestBuilders(t *testing.T) {
	tests := []struct {
		name        string
		build       func() record.Record
		values      int  // observations
		patient     bool // an NHS number is bound
		deviceClock bool
	}{
		{"base", Base, 0, true, true},
		{"pulse oximetry", PulseOximetry, 2, true, true},
		{"masimo reading", MasimoReading, 3, true, true},
		{"monitor without patient", MonitorNoPatient, 7, false, false},
		{"monitor with patient", MonitorWithPatient, 7, true, false},
		{"sensor off", SensorOff, 2, true, true},
		{"questionable", Questionable, 2, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.build()
			if len(r.Observations) != tt.values {
				t.Errorf("%d observations, want %d", len(r.Observations), tt.values)
			}
			if got := r.Patient != nil && r.Patient.NHSNumber == NHSNumber; got != tt.patient {
				t.Errorf("patient %+v, want NHS number bound %v", r.Patient, tt.patient)
			}
			if got := !r.DeviceTime.IsZero(); got != tt.deviceClock {
				t.Errorf("device time %v, want set %v", r.DeviceTime, tt.deviceClock)
			}
			if want := r.DeviceTime.Sub(r.ReceivedAt); tt.deviceClock && r.ClockOffset != want {
				t.Errorf("clock offset %v, want device minus receive time %v", r.ClockOffset, want)
			}
			at := r.DeviceTime
			if at.IsZero() {
				at = r.ReceivedAt
			}
			seen := map[string]bool{}
			for _, o := range r.Observations {
				if _, err := uuid.Parse(o.ID); err != nil || seen[o.ID] {
					t.Errorf("observation %s: id %q not a unique UUID (%v)", o.Ref, o.ID, err)
				}
				seen[o.ID] = true
				if want := ObsID(r.Gateway, r.DeviceKey, o.MDC, at); o.ID != want {
					t.Errorf("observation %s: id %s, want %s as the gateway derives it", o.Ref, o.ID, want)
				}
			}
			// Each call builds a new record: changing one leaves the next alone.
			if r.Patient != nil {
				r.Patient.NHSNumber = "changed"
			}
			if len(r.Observations) > 0 {
				r.Observations[0].Value = Float(-1)
			}
			again := tt.build()
			if again.Patient != nil && again.Patient.NHSNumber != NHSNumber {
				t.Error("builders share the patient between records")
			}
			if len(again.Observations) > 0 && again.Observations[0].Value != nil && *again.Observations[0].Value == -1 {
				t.Error("builders share observation values between records")
			}
		})
	}
}

func TestObsID(t *testing.T) {
	base := ObsID("gw-ward7", "masimo:1000123456", 150456, DeviceTime())
	if base != ObsID("gw-ward7", "masimo:1000123456", 150456, DeviceTime().UTC().In(Zone())) {
		t.Error("ObsID is not stable")
	}
	for name, id := range map[string]string{
		"gateway": ObsID("gw-ward8", "masimo:1000123456", 150456, DeviceTime()),
		"key":     ObsID("gw-ward7", "masimo:1000123457", 150456, DeviceTime()),
		"code":    ObsID("gw-ward7", "masimo:1000123456", 149530, DeviceTime()),
		"time":    ObsID("gw-ward7", "masimo:1000123456", 150456, DeviceTime().Add(time.Second)),
	} {
		if id == base {
			t.Errorf("another %s gives the same id %s", name, id)
		}
	}
}
