package news2_test

import (
	"fmt"
	"time"

	"github.com/bedgate/bedgate/gateway/news2"
)

func ExampleScore() {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	set := news2.Set{
		RespRate:      &news2.Observation[float64]{Value: 22, Time: at},
		SpO2:          &news2.Observation[float64]{Value: 95, Time: at},
		AirOrOxygen:   &news2.Observation[news2.Breathing]{Value: news2.Air, Time: at},
		SystolicBP:    &news2.Observation[float64]{Value: 118, Time: at.Add(-2 * time.Minute)},
		Pulse:         &news2.Observation[float64]{Value: 90.5, Time: at},
		Consciousness: &news2.Observation[news2.ACVPU]{Value: news2.Alert, Time: at.Add(-time.Minute)},
		Temperature:   &news2.Observation[float64]{Value: 38.05, Time: at.Add(-3 * time.Minute)},
	}
	r, err := news2.Score(set, news2.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range r.Items {
		fmt.Printf("%-14s %5v -> %d (%s)\n", it.Parameter, it.Charted, it.Score, it.Parameter.ScoreCode())
	}
	fmt.Println("total", r.Total, r.Band)

	set.Temperature.Time = at.Add(-20 * time.Minute)
	_, err = news2.Score(set, news2.Options{})
	fmt.Println(err)
	// Output:
	// resp-rate         22 -> 2 (1104301000000104)
	// spo2-scale1       95 -> 1 (1104311000000102)
	// air-or-oxygen      1 -> 0 (1104331000000105)
	// systolic-bp      118 -> 0 (1104341000000101)
	// pulse             91 -> 1 (1104351000000103)
	// consciousness      1 -> 0 (1104361000000100)
	// temperature     38.1 -> 1 (1104371000000107)
	// total 5 medium
	// news2: incomplete set: stale temperature (more than 15m0s before the newest)
}
