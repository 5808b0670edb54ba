package masimo_test

import (
	"fmt"

	"github.com/bedgate/bedgate/drivers/masimo"
)

func ExampleParseLine() {
	line := "11/02/24 07:15:05 SN=0000070123 SPO2=099% BPM=061 PI=04.10% SPCO=--.-% ALARM=0000 EXC=000C00"
	r, err := masimo.ParseLine([]byte(line), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Device.Serial, r.DeviceTime.Format("2006-01-02 15:04:05"), r.DeviceStatus)
	for _, v := range r.Values {
		if v.Value == nil {
			fmt.Printf("%d %s - %s %v\n", v.MDC, v.Ref, v.Unit, v.Status)
			continue
		}
		fmt.Printf("%d %s %g %s %v\n", v.MDC, v.Ref, *v.Value, v.Unit, v.Status)
	}
	// Output:
	// 0000070123 2024-11-02 07:15:05 ALARM=0000 EXC=000C00
	// 150456 MDC_PULS_OXIM_SAT_O2 99 % questionable
	// 149530 MDC_PULS_OXIM_PULS_RATE 61 /min questionable
	// 150448 MDC_PULS_OXIM_PERF_REL 4.1 % questionable
	// 160128 MDC_CONC_HB_CO_GEN - % unavailable|questionable
}
