package validate_test

import (
	"fmt"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/validate"
)

func Example() {
	checker, err := validate.NewChecker(validate.Options{Cycle: time.Second})
	if err != nil {
		panic(err)
	}
	value := func(x float64) *float64 { return &x }
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	rec := record.Record{
		DeviceKey:  "example:1",
		DeviceTime: at,
		ReceivedAt: at,
		Observations: []record.Observation{
			{ID: "1", MDC: 150456, Value: value(65), Unit: "%"},       // SpO2, below the soft range
			{ID: "2", MDC: 150021, Value: value(16), Unit: "kPa"},     // NIBP systolic in kPa
			{ID: "3", MDC: 149530, Value: value(400), Unit: "/min"},   // pulse rate, an artefact
			{ID: "4", MDC: 151708, Value: value(38), Unit: "mm[Hg]"},  // etCO2 in mm[Hg]
			{ID: "5", MDC: 999999, Value: value(1), Unit: "{custom}"}, // no rule: passed through
		},
	}
	accepted, rejected := checker.Check(rec)
	for _, o := range accepted.Observations {
		fmt.Printf("forward %s: %v %s questionable=%v %q\n", o.ID, *o.Value, o.Unit, o.Questionable, o.Reason)
	}
	for _, r := range rejected {
		fmt.Printf("quarantine %s: %s: %s\n", r.Observation.ID, r.Reason, r.Text)
	}
	_, again := checker.Check(rec)
	fmt.Println("re-sent:", len(again), "rejected as", again[0].Reason)
	fmt.Println(checker.Counts().Rejected())
	// Output:
	// forward 1: 65 % questionable=true "spo2 65 % below 70 %"
	// forward 2: 120 mm[Hg] questionable=false "unit converted: 16 kPa = 120 mm[Hg] (1 kPa = 7.50061683 mm[Hg])"
	// forward 4: 5.07 kPa questionable=false "unit converted: 38 mm[Hg] = 5.07 kPa (1 mm[Hg] = 0.133322387 kPa)"
	// forward 5: 1 {custom} questionable=false ""
	// quarantine 3: implausible-high: pulse-rate 400 /min above the plausible maximum 300 /min
	// re-sent: 5 rejected as duplicate
	// map[duplicate:5 implausible-high:1]
}
