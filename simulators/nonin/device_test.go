package nonin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/nonin"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

func TestEncodeDecodesToTheMeantReading(t *testing.T) {
	vitals := []struct {
		name string
		v    scenario.Vitals
		want drivers.Status // on both values
		num  bool
	}{
		{"good", scenario.Vitals{SpO2: 96.6, PulseRate: 71.2}, 0, true},
		{"artefact", scenario.Vitals{SpO2: 80, PulseRate: 150, Artefact: true}, drivers.Questionable, true},
		{"sensor off", scenario.Vitals{SensorOff: true}, drivers.Invalid | drivers.Unavailable, false},
		{"no signal", scenario.Vitals{NoSignal: true}, drivers.Invalid | drivers.Unavailable, false},
	}
	for _, f := range []driver.Format{driver.DF2, driver.DF7, driver.DF8} {
		for _, tt := range vitals {
			t.Run(f.Name()+"/"+tt.name, func(t *testing.T) {
				wire, meant := Encode(f, tt.v, 3)
				var got []drivers.Reading
				if _, err := driver.Decode(t.Context(), bytes.NewReader(wire), f, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
					got = append(got, r)
					return nil
				}), drivers.Options{}); err != nil || len(got) != 1 {
					t.Fatalf("Decode: %d readings, %v", len(got), err)
				}
				got[0].ReceivedAt = meant.ReceivedAt
				if g, m := canon(t, got[0]), canon(t, meant); g != m {
					t.Errorf("decoded %s\nmeant   %s", g, m)
				}
				for _, v := range meant.Values {
					if v.Status&tt.want != tt.want || (v.Value != nil) != tt.num {
						t.Errorf("value %+v, want flags %v, number %v", v, tt.want, tt.num)
					}
				}
				if tt.num && (*meant.Values[0].Value != 97 && *meant.Values[0].Value != 80) {
					t.Errorf("SpO2 %v", *meant.Values[0].Value)
				}
			})
		}
	}
}

func canon(t *testing.T, r drivers.Reading) string {
	var b bytes.Buffer
	if err := jsonEncode(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestNew(t *testing.T) {
	if _, err := New(driver.Format(13), simulators.Options{}); err == nil {
		t.Error("format #13 accepted")
	}
	if _, err := New(driver.DF2, simulators.Options{Scenario: "sleepy"}); err == nil {
		t.Error("unknown scenario accepted")
	}
	d, err := New(driver.DF8, simulators.Options{})
	if err != nil || d.opts.Period != driver.Period(driver.DF8) {
		t.Errorf("New(DF8) = %+v, %v; want the format's period", d, err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Read([]byte) (int, error)  { return 0, errors.New("not read") }
func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestRunStopsOnWriteError(t *testing.T) {
	d, err := New(driver.DF2, simulators.Options{})
	if err != nil {
		t.Fatal(err)
	}
	errGone := errors.New("gone")
	if err := d.Run(t.Context(), failWriter{errGone}); !errors.Is(err, errGone) {
		t.Errorf("Run = %v, want the write error", err)
	}
}

func jsonEncode(b *bytes.Buffer, v any) error { return json.NewEncoder(b).Encode(v) }
