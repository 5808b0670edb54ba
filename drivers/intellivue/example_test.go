package intellivue_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/intellivue"
)

// Decode a capture: the MDS Create Event that names the monitor and its
// clock, then one poll reply with a heart rate and an invalid SpO2.
func ExampleDecode() {
	mdsTime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	mds := intellivue.NewMDSCreate(intellivue.MDSInfo{Manufacturer: "Philips", Model: "MX800",
		Serial: "DE12345678", AbsTime: intellivue.NewAbsoluteTime(mdsTime), RelTime: 8000})
	nu := func(v intellivue.NuObsValue) intellivue.AVA {
		return intellivue.AVA{ID: intellivue.AttrNuValObs, Value: intellivue.AppendNuObsValue(nil, v)}
	}
	label := func(s string) intellivue.AVA {
		return intellivue.AVA{ID: intellivue.AttrIDLabelString, Value: intellivue.AppendString(nil, s)}
	}
	reply := intellivue.PollReply{Extended: true, PollNumber: 1, RelTime: 8000 + 16000,
		AbsTime: intellivue.NoAbsoluteTime(), ObjectType: intellivue.Type{Partition: 1, Code: intellivue.ClassNumeric},
		Contexts: []intellivue.ContextPoll{{Observations: []intellivue.Observation{
			{Handle: 1, Attributes: []intellivue.AVA{label("HR"), nu(intellivue.NuObsValue{PhysioID: 0x4182, Unit: 2720, Value: intellivue.NewFloat(72)})}},
			{Handle: 2, Attributes: []intellivue.AVA{label("SpO₂"), nu(intellivue.NuObsValue{PhysioID: 0x4BB8, State: intellivue.StateInvalid, Unit: 544, Value: intellivue.FloatNaN})}},
		}}}}
	var capture []byte
	for _, msg := range [][]byte{
		intellivue.AppendMDSCreateEvent(nil, 1, 8000, mds),
		intellivue.AppendPollResult(nil, 1, nil, reply),
	} {
		capture, _ = intellivue.AppendFrame(capture, msg)
	}

	st, err := intellivue.Decode(context.Background(), bytes.NewReader(capture),
		drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
			fmt.Println(r.Device.Model, r.Device.Serial, r.DeviceTime.Format(time.RFC3339))
			for _, v := range r.Values {
				val := "-"
				if v.Value != nil {
					val = fmt.Sprint(*v.Value)
				}
				fmt.Println(v.MDC, v.Ref, v.Label, val, v.Unit, v.Status)
			}
			return nil
		}), drivers.Options{})
	fmt.Println(st.Frames, "frames,", st.Readings, "reading,", err)
	// Output:
	// MX800 DE12345678 2024-05-06T07:08:11Z
	// 147842 MDC_ECG_HEART_RATE HR 72 /min ok
	// 150456 MDC_PULS_OXIM_SAT_O2 SpO₂ - % unavailable|invalid
	// 2 frames, 1 reading, <nil>
}
