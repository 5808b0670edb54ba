package gateway

import (
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/record"
)

// TestCadenceChart feeds one bed's readings through its cadence in order
// and checks each decision: the first complete reading of each interval is
// charted, the rest of the interval is not, and episodic, flagged,
// partly quarantined, status-changing and recovering readings always are.
func TestCadenceChart(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	v := func(x float64) *float64 { return &x }
	spo2 := func(x float64) record.Observation {
		return record.Observation{MDC: mdc.SpO2, Value: v(x), Unit: "%"}
	}
	type step struct {
		at      time.Duration // device time after t0
		obs     []record.Observation
		status  string // device status word
		partial bool   // values of the reading were quarantined
		noTime  bool   // the device sends no time: received at t0+at
		// episodic: a record the measurements split off (Record.Episodic)
		episodic bool
		// quarantined: every value was quarantined (quarantinedAll; want "")
		quarantined bool
		want        string
	}
	ok := []record.Observation{spo2(97)}
	tests := []struct {
		name     string
		every    time.Duration
		episodic []uint32
		steps    []step
	}{
		{"no cadence charts every reading", 0, nil, []step{
			{at: 0, obs: ok, want: chartEvery},
			{at: time.Second, obs: ok, want: chartEvery},
		}},
		{"first complete reading of each minute", time.Minute, nil, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: time.Second, obs: ok, want: ""},
			{at: 59 * time.Second, obs: ok, want: ""},
			{at: 60 * time.Second, obs: ok, want: chartInterval},
			{at: 61 * time.Second, obs: ok, want: ""},
			{at: 185 * time.Second, obs: ok, want: chartInterval},
		}},
		{"intervals aligned to the clock, not to the first reading", time.Minute, nil, []step{
			{at: 50 * time.Second, obs: ok, want: chartInterval},
			{at: 61 * time.Second, obs: ok, want: chartInterval},
			{at: 119 * time.Second, obs: ok, want: ""},
		}},
		{"receive time when the device sends none", time.Minute, nil, []step{
			{at: 0, obs: ok, noTime: true, want: chartInterval},
			{at: 30 * time.Second, obs: ok, noTime: true, want: ""},
			{at: 60 * time.Second, obs: ok, noTime: true, want: chartInterval},
		}},
		{"flagged values always, then the recovery", time.Minute, nil, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: 1 * time.Second, obs: []record.Observation{{MDC: mdc.SpO2, Unit: "%", Status: drivers.SensorOff, Absent: "error"}}, want: chartFlagged},
			{at: 2 * time.Second, obs: []record.Observation{{MDC: mdc.SpO2, Value: v(88), Unit: "%", Questionable: true, Reason: "low perfusion"}}, want: chartFlagged},
			{at: 3 * time.Second, obs: []record.Observation{{MDC: mdc.SpO2, Value: v(91), Unit: "%", Status: drivers.AlarmActive}}, want: chartFlagged},
			{at: 4 * time.Second, obs: ok, want: chartRecovered},
			{at: 5 * time.Second, obs: ok, want: ""},
		}},
		{"a value the device does not have is no flag; a change in what it has is charted", time.Minute, nil, []step{
			{at: 0, obs: []record.Observation{spo2(97), {MDC: mdc.Temp, Unit: "Cel", Status: drivers.Unavailable, Absent: "not-performed"}}, want: chartInterval},
			{at: time.Second, obs: []record.Observation{spo2(97), {MDC: mdc.Temp, Unit: "Cel", Status: drivers.Unavailable, Absent: "not-performed"}}, want: ""},
			{at: 2 * time.Second, obs: []record.Observation{spo2(97), {MDC: mdc.Temp, Value: v(36.8), Unit: "Cel"}}, want: chartStatus},
			{at: 3 * time.Second, obs: []record.Observation{spo2(97), {MDC: mdc.Temp, Value: v(36.8), Unit: "Cel"}}, want: ""},
		}},
		{"a reading with values quarantined", time.Minute, nil, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: time.Second, obs: ok, partial: true, want: chartFlagged},
			{at: 2 * time.Second, obs: ok, want: chartRecovered},
		}},
		{"episodic codes of the driver and NIBP from any source", time.Minute, []uint32{mdc.Temp}, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: time.Second, obs: []record.Observation{spo2(97), {MDC: mdc.NIBPSys, Value: v(120), Unit: "mm[Hg]"}}, want: chartEpisodic},
			{at: 2 * time.Second, obs: []record.Observation{{MDC: mdc.Temp, Value: v(37), Unit: "Cel"}}, want: chartEpisodic},
			{at: 3 * time.Second, obs: ok, want: ""},
		}},
		{"a measurement the device stamped, whatever its code", time.Minute, nil, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: 20 * time.Second, obs: []record.Observation{{MDC: mdc.Temp, Value: v(37), Unit: "Cel"}}, episodic: true, want: chartEpisodic},
			{at: 21 * time.Second, obs: ok, want: ""},
		}},
		{"a reading quarantined whole, then the recovery", time.Minute, nil, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: 10 * time.Second, obs: []record.Observation{spo2(12)}, quarantined: true, want: ""},
			{at: 11 * time.Second, obs: ok, want: chartRecovered},
			{at: 12 * time.Second, obs: ok, want: ""},
		}},
		{"a measurement quarantined whole leaves the continuous readings alone", time.Minute, nil, []step{
			{at: 0, obs: ok, want: chartInterval},
			{at: 10 * time.Second, obs: []record.Observation{{MDC: mdc.NIBPSys, Value: v(120), Unit: "mm[Hg]"}}, quarantined: true, want: ""},
			{at: 11 * time.Second, obs: ok, want: ""},
		}},
		{"device status changes", time.Minute, nil, []step{
			{at: 0, obs: ok, status: "EXC=000000", want: chartInterval},
			{at: time.Second, obs: ok, status: "EXC=000000", want: ""},
			{at: 2 * time.Second, obs: ok, status: "EXC=000800", want: chartStatus},
			{at: 3 * time.Second, obs: ok, status: "EXC=000800", want: ""},
			{at: 4 * time.Second, obs: ok, status: "EXC=000000", want: chartStatus},
		}},
		{"a device clock set back starts another interval", time.Minute, nil, []step{
			{at: time.Hour, obs: ok, want: chartInterval},
			{at: time.Hour + time.Second, obs: ok, want: ""},
			{at: 10 * time.Second, obs: ok, want: chartInterval},
			{at: 11 * time.Second, obs: ok, want: ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCadence(tt.every, tt.episodic)
			for i, s := range tt.steps {
				rec := record.Record{DeviceTime: t0.Add(s.at), ReceivedAt: t0.Add(s.at + 300*time.Millisecond),
					DeviceStatus: s.status, Observations: s.obs, Episodic: s.episodic}
				if s.noTime {
					rec.DeviceTime, rec.ReceivedAt = time.Time{}, t0.Add(s.at)
				}
				if s.quarantined {
					c.quarantinedAll(rec)
					continue
				}
				if got := c.chart(rec, s.partial); got != s.want {
					t.Errorf("reading %d at +%v: chart = %q, want %q", i, s.at, got, s.want)
				}
			}
		})
	}
}
