package intellivue

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/intellivue"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// valueOf returns the value with MDC code partition 2 and physio id.
func valueOf(t *testing.T, vs []drivers.Value, physio uint16) drivers.Value {
	t.Helper()
	for _, v := range vs {
		if v.MDC == driver.MDCCode(physio) {
			return v
		}
	}
	t.Fatalf("no value with physio id 0x%04X", physio)
	return drivers.Value{}
}

func TestOximetryStates(t *testing.T) {
	base := scenario.Vitals{SpO2: 96.6, PulseRate: 71.4, PerfusionIndex: 3.456}
	tests := []struct {
		name      string
		change    func(*scenario.Vitals)
		want      drivers.Status
		wantValue bool
	}{
		{"valid", func(*scenario.Vitals) {}, 0, true},
		{"sensor off", func(v *scenario.Vitals) { v.SensorOff = true }, drivers.Invalid | drivers.Unavailable, false},
		{"pulse search", func(v *scenario.Vitals) { v.NoSignal = true }, drivers.Unavailable, false},
		{"artefact", func(v *scenario.Vitals) { v.Artefact = true }, drivers.Questionable, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := base
			tt.change(&v)
			spo2, pulse, perf := oximetry(v)
			for _, c := range []struct {
				n    driver.NuObsValue
				unit string
				want float64
			}{{spo2, "%", 97}, {pulse, "/min", 71}, {perf, "1", 3.46}} {
				got := driver.NumericValue(c.n, "")
				if got.Status != tt.want || got.Unit != c.unit {
					t.Errorf("0x%04X: status %v unit %q, want %v %q", c.n.PhysioID, got.Status, got.Unit, tt.want, c.unit)
				}
				switch {
				case tt.wantValue && (got.Value == nil || *got.Value != c.want):
					t.Errorf("0x%04X: value %v, want %v", c.n.PhysioID, got.Value, c.want)
				case !tt.wantValue && got.Value != nil:
					t.Errorf("0x%04X: value %v, want none", c.n.PhysioID, *got.Value)
				}
			}
		})
	}
}

func TestNumerics(t *testing.T) {
	d, err := NewDevice(simulators.Options{Seed: 5, Logger: quiet()}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := 7*time.Minute + 30*time.Second
	objs := d.objects(elapsed, epoch)
	vs := meantValues(contexts(objs), time.UTC)
	v := d.engine.At(elapsed)
	nbp := d.engine.At(5 * time.Minute) // the last automatic measurement
	tests := []struct {
		physio uint16
		ref    string
		label  string
		unit   string
		want   float64
	}{
		{physioHR, "MDC_ECG_HEART_RATE", "HR", "/min", math.Round(v.HeartRate)},
		{physioPVC, "MDC_ECG_V_P_C_CNT", "PVC", "/min", 0},
		{physioRR, "MDC_RESP_RATE", "RR", "/min", math.Round(v.RespRate)},
		{physioSpO2, "MDC_PULS_OXIM_SAT_O2", "SpO₂", "%", math.Round(v.SpO2)},
		{physioPulse, "MDC_PLETH_PULS_RATE", "Pulse", "/min", math.Round(v.PulseRate)},
		{physioPerf, "MDC_PULS_OXIM_PERF_REL", "Perf", "1", math.Round(v.PerfusionIndex*100) / 100},
		{physioNBPSys, "MDC_PRESS_BLD_NONINV_SYS", "NBP", "mm[Hg]", math.Round(nbp.SysBP)},
		{physioNBPDia, "MDC_PRESS_BLD_NONINV_DIA", "NBP", "mm[Hg]", math.Round(nbp.DiaBP)},
		{physioNBPMean, "MDC_PRESS_BLD_NONINV_MEAN", "NBP", "mm[Hg]", math.Round(nbp.MeanBP)},
		{physioTemp, "MDC_TEMP", "Temp", "Cel", math.Round(v.TempC*10) / 10},
		{physioEtCO2, "MDC_AWAY_CO2_ET", "etCO₂", "mm[Hg]", math.Round(v.EtCO2)},
		{physioAwRR, "MDC_AWAY_RESP_RATE", "awRR", "/min", math.Round(v.RespRate)},
		{0x0302, "MDC_ECG_AMPL_ST_II", "ST", "mm", d.st[1]},
	}
	for _, tt := range tests {
		got := valueOf(t, vs, tt.physio)
		if got.Ref != tt.ref || got.Label != tt.label || got.Unit != tt.unit || got.Status != 0 || got.Value == nil || math.Abs(*got.Value-tt.want) > 1e-9 {
			t.Errorf("0x%04X: got %s %q %v %q %v, want %s %q %v %q ok", tt.physio, got.Ref, got.Label, got.Value, got.Unit, got.Status, tt.ref, tt.label, tt.want, tt.unit)
		}
	}
	if len(vs) != 24 {
		t.Errorf("%d values, want 24 (11 simple, NBP 3, ST 12 leads minus none)", len(vs))
	}
	// The NBP object carries the time of its measurement, as the host
	// reads it, on each component; no other value has one. A later poll
	// before the next measurement carries the same time.
	later := meantValues(contexts(d.objects(elapsed+100*time.Second, epoch)), time.UTC)
	for i, v := range vs {
		want := time.Time{}
		if v.Label == "NBP" {
			want = epoch.Add(5 * time.Minute)
		}
		if !v.MeasuredAt.Equal(want) || !later[i].MeasuredAt.Equal(want) {
			t.Errorf("%s measured at %v, then %v; want %v", v.Ref, v.MeasuredAt, later[i].MeasuredAt, want)
		}
	}
	// ST deviations are small and fixed by the seed.
	for i, x := range d.st {
		if math.Abs(x) > 1.2 {
			t.Errorf("ST lead %d: %v mm", i, x)
		}
	}
	if other := stBaselines(6); reflect.DeepEqual(other, d.st) {
		t.Error("seeds 5 and 6 give the same ST deviations")
	}
}

func TestSplitResult(t *testing.T) {
	d, err := NewDevice(simulators.Options{Logger: quiet()}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	reply := driver.PollReply{Extended: true, PollNumber: 9, SequenceNo: 4, RelTime: 123456, AbsTime: driver.NoAbsoluteTime(),
		ObjectType: driver.Type{Partition: driver.PartitionObject, Code: driver.ClassNumeric},
		Contexts:   contexts(d.objects(time.Minute, epoch))}
	tests := []struct {
		mtu       int
		wantParts int // linked parts; 0 for a single RORS
		wantErr   bool
	}{
		{4000, 0, false},
		{MTU, 3, false},
		{500, 5, false},
		{300, 10, false},
		{150, 0, true}, // the ST compound alone does not fit
	}
	for _, tt := range tests {
		msgs, err := splitResult(7, reply, tt.mtu)
		if tt.wantErr {
			if err == nil {
				t.Errorf("MTU %d: split in %d messages, want an error", tt.mtu, len(msgs))
			}
			continue
		}
		if err != nil {
			t.Fatalf("MTU %d: %v", tt.mtu, err)
		}
		var re driver.Reassembler
		var whole *driver.PollReply
		parts := 0
		for i, b := range msgs {
			if len(b) > tt.mtu {
				t.Errorf("MTU %d: message %d has %d bytes", tt.mtu, i, len(b))
			}
			m, err := driver.DecodeMessage(b)
			if err != nil {
				t.Fatalf("MTU %d: message %d: %v", tt.mtu, i, err)
			}
			r := m.(*driver.Result)
			if r.InvokeID != 7 {
				t.Errorf("MTU %d: message %d: invoke id %d", tt.mtu, i, r.InvokeID)
			}
			if r.Linked != nil {
				parts++
				want := driver.Linked{State: driver.LinkedNotFirstNot, Count: uint8(parts)}
				switch {
				case parts == 1:
					want.State = driver.LinkedFirst
				case i == len(msgs)-2:
					want.State = driver.LinkedLast
				}
				if *r.Linked != want {
					t.Errorf("MTU %d: part %d is %+v, want %+v", tt.mtu, parts, *r.Linked, want)
				}
			} else if i != len(msgs)-1 {
				t.Errorf("MTU %d: RORS at %d of %d messages", tt.mtu, i, len(msgs))
			}
			p, err := re.Add(r)
			if err != nil {
				t.Fatalf("MTU %d: reassembly: %v", tt.mtu, err)
			}
			if p != nil {
				whole = p
			}
		}
		if parts != tt.wantParts {
			t.Errorf("MTU %d: %d linked parts, want %d", tt.mtu, parts, tt.wantParts)
		}
		if whole == nil {
			t.Fatalf("MTU %d: no complete reply", tt.mtu)
		}
		if g, w := meantValues(whole.Contexts, time.UTC), meantValues(reply.Contexts, time.UTC); !reflect.DeepEqual(g, w) {
			t.Errorf("MTU %d: reassembled values differ:\n got %v\nwant %v", tt.mtu, g, w)
		}
		if whole.RelTime != reply.RelTime || whole.PollNumber != reply.PollNumber || whole.SequenceNo != reply.SequenceNo {
			t.Errorf("MTU %d: reassembled header %+v", tt.mtu, whole)
		}
	}
}
