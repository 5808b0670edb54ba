package gateway

import (
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// TestMeasurementRecords: a reading's episodic values become records of
// their own, at the time the device took them, with the reading's clock
// offset; each measurement keeps one time, and so one set of observation
// identifiers, in every poll that reports it.
func TestMeasurementRecords(t *testing.T) {
	bed := Bed{Gateway: "gw", Site: "s", Ward: "w", Name: "bed1", Device: "mon"}
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cuff := t0.Add(-90 * time.Second)
	hr := func(x float64) drivers.Value {
		return drivers.Value{MDC: mdc.ECGHeartRate, Value: drivers.Float(x), Unit: "/min"}
	}
	bp := func(code uint32, x float64, at time.Time) drivers.Value {
		return drivers.Value{MDC: code, Value: drivers.Float(x), Unit: "mm[Hg]", MeasuredAt: at}
	}
	reading := func(poll int, vs ...drivers.Value) drivers.Reading {
		at := t0.Add(time.Duration(poll) * time.Second)
		// The device clock runs 30 s ahead of the gateway's.
		return drivers.Reading{Device: drivers.DeviceID{Driver: "intellivue", Serial: "1"}, DeviceTime: at, ReceivedAt: at.Add(-30 * time.Second), Values: vs}
	}
	type want struct {
		codes    int
		at       time.Time
		episodic bool
	}
	tests := []struct {
		name     string
		episodic []uint32
		readings []drivers.Reading
		want     [][]want // per reading, its records
	}{
		{"stamped blood pressure beside continuous values", nil,
			[]drivers.Reading{
				reading(0, hr(70), bp(mdc.NIBPSys, 117, cuff), bp(mdc.NIBPDia, 75, cuff), bp(mdc.NIBPMean, 89, cuff)),
				reading(1, hr(71), bp(mdc.NIBPSys, 117, cuff), bp(mdc.NIBPDia, 75, cuff), bp(mdc.NIBPMean, 89, cuff)),
			},
			[][]want{{{1, t0, false}, {3, cuff, true}}, {{1, t0.Add(time.Second), false}, {3, cuff, true}}}},
		{"only a measurement: no empty record beside it", nil,
			[]drivers.Reading{reading(0, bp(mdc.NIBPSys, 117, cuff), bp(mdc.NIBPDia, 75, cuff))},
			[][]want{{{2, cuff, true}}}},
		{"two measurement times: two records", nil,
			[]drivers.Reading{reading(0, bp(mdc.NIBPSys, 117, cuff), bp(mdc.NIBPDia, 75, cuff.Add(time.Minute)))},
			[][]want{{{1, cuff, true}, {1, cuff.Add(time.Minute), true}}}},
		{"unstamped episodic codes: at the time the value was first reported", []uint32{mdc.NIBPSys},
			[]drivers.Reading{
				reading(0, hr(70), bp(mdc.NIBPSys, 117, time.Time{})),
				reading(1, hr(70), bp(mdc.NIBPSys, 117, time.Time{})),
				reading(2, hr(70), bp(mdc.NIBPSys, 121, time.Time{})),
			},
			[][]want{{{1, t0, false}, {1, t0, true}}, {{1, t0.Add(time.Second), false}, {1, t0, true}}, {{1, t0.Add(2 * time.Second), false}, {1, t0.Add(2 * time.Second), true}}}},
		{"unstamped cuff parts are one measurement: one new part makes all new", []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean},
			[]drivers.Reading{
				reading(0, bp(mdc.NIBPSys, 120, time.Time{}), bp(mdc.NIBPDia, 80, time.Time{}), bp(mdc.NIBPMean, 93, time.Time{})),
				reading(1, bp(mdc.NIBPSys, 120, time.Time{}), bp(mdc.NIBPDia, 80, time.Time{}), bp(mdc.NIBPMean, 93, time.Time{})),
				reading(2, bp(mdc.NIBPSys, 120, time.Time{}), bp(mdc.NIBPDia, 75, time.Time{}), bp(mdc.NIBPMean, 90, time.Time{})),
				reading(3, bp(mdc.NIBPSys, 120, time.Time{}), bp(mdc.NIBPDia, 75, time.Time{}), bp(mdc.NIBPMean, 90, time.Time{})),
			},
			[][]want{{{3, t0, true}}, {{3, t0, true}}, {{3, t0.Add(2 * time.Second), true}}, {{3, t0.Add(2 * time.Second), true}}}},
		{"a measurement keeps the device's zone", nil,
			[]drivers.Reading{reading(0, bp(mdc.NIBPSys, 117, cuff.In(time.FixedZone("BST", 3600))), bp(mdc.NIBPDia, 75, cuff))},
			[][]want{{{2, cuff.In(time.FixedZone("BST", 3600)), true}}}},
		{"no episodic values: the reading as it was", nil,
			[]drivers.Reading{reading(0, hr(70))},
			[][]want{{{1, t0, false}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMeasurements(tt.episodic)
			ids := map[time.Time]string{}
			for i, r := range tt.readings {
				recs := m.records(bed, r)
				if len(recs) != len(tt.want[i]) {
					t.Fatalf("reading %d: %d records, want %d", i, len(recs), len(tt.want[i]))
				}
				for j, rec := range recs {
					w := tt.want[i][j]
					_, zone := rec.DeviceTime.Zone()
					_, wantZone := w.at.Zone()
					if len(rec.Observations) != w.codes || !rec.DeviceTime.Equal(w.at) || zone != wantZone || rec.Episodic != w.episodic {
						t.Errorf("reading %d record %d: %d values at %v (episodic %v), want %d at %v (%v)", i, j, len(rec.Observations), rec.DeviceTime, rec.Episodic, w.codes, w.at, w.episodic)
					}
					if rec.ClockOffset != 30*time.Second || !rec.ReceivedAt.Equal(r.ReceivedAt) {
						t.Errorf("reading %d record %d: clock offset %v, received %v; want the reading's 30s, %v", i, j, rec.ClockOffset, rec.ReceivedAt, r.ReceivedAt)
					}
					if rec.Episodic {
						id := rec.Observations[0].ID
						if prev, ok := ids[rec.DeviceTime]; ok && prev != id {
							t.Errorf("reading %d: the measurement at %v has identifier %s, before %s", i, rec.DeviceTime, id, prev)
						}
						ids[rec.DeviceTime] = id
					}
				}
			}
		})
	}
}

// TestMeasurementIdentifierSurvivesRestart: a gateway restarted while the
// monitor still reports the same cuff measurement forwards it again under
// the same observation identifiers (the EPR's conditional create files it
// once); its panel's identifier follows from them.
func TestMeasurementIdentifierSurvivesRestart(t *testing.T) {
	bed := Bed{Gateway: "gw", Site: "s", Ward: "w", Name: "bed1"}
	cuff := time.Date(2026, 12, 4, 9, 58, 30, 0, time.UTC)
	reading := func(at time.Time) drivers.Reading {
		return drivers.Reading{Device: drivers.DeviceID{Driver: "intellivue", Serial: "1"}, DeviceTime: at, ReceivedAt: at, Values: []drivers.Value{
			{MDC: mdc.NIBPSys, Value: drivers.Float(117), Unit: "mm[Hg]", MeasuredAt: cuff},
			{MDC: mdc.NIBPDia, Value: drivers.Float(75), Unit: "mm[Hg]", MeasuredAt: cuff}}}
	}
	before := newMeasurements(nil).records(bed, reading(cuff.Add(time.Minute)))
	after := newMeasurements(nil).records(bed, reading(cuff.Add(3*time.Minute))) // after the restart
	if len(before) != 1 || len(after) != 1 {
		t.Fatalf("%d and %d records, want one measurement each", len(before), len(after))
	}
	for i := range before[0].Observations {
		if b, a := before[0].Observations[i].ID, after[0].Observations[i].ID; b != a {
			t.Errorf("value %d: identifier %s before the restart, %s after", i, b, a)
		}
	}
}
