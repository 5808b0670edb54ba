package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/bedgate/bedgate/simulators/hl7"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// runHL7 runs the devices as monitors behind a simulated central station
// that sends their readings over MLLP to c.hl7, and prints
// "hl7<TAB>NAME<TAB>HOST:PORT" for each. --record writes every message
// sent, MLLP-framed.
func runHL7(ctx context.Context, c config, specs []deviceSpec, stdout io.Writer, log *slog.Logger) error {
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	name := c.scenario
	if name == "" {
		name = "stable"
	}
	st := &hl7.Station{Addr: c.hl7, Period: c.period, Now: deviceClock(c.speed, time.Now), Logger: log}
	if st.Period <= 0 {
		st.Period = time.Second
	}
	for _, spec := range specs {
		eng, err := scenario.New(name, spec.seed)
		if err != nil {
			return &usageError{err}
		}
		st.Monitors = append(st.Monitors, hl7.Monitor{Bed: spec.name, Unit: c.hl7Unit, Serial: spec.serial, Engine: eng})
	}
	if c.record != "" {
		f, err := os.Create(c.record)
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		defer f.Close()
		st.Record = f
	}
	for _, m := range st.Monitors {
		fmt.Fprintf(stdout, "hl7\t%s\t%s\n", m.Bed, c.hl7)
	}
	err := st.Run(ctx)
	sent, aa, ae, ar := st.Counts()
	log.Info("bedsim: HL7 messages", "sent", sent, "aa", aa, "ae", ae, "ar", ar)
	return err
}
