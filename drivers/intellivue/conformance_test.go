package intellivue_test

import (
	"bufio"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/drivertest"
	"github.com/bedgate/bedgate/drivers/intellivue"
	sim "github.com/bedgate/bedgate/simulators/intellivue"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Pair{
		Driver:    intellivue.Driver(),
		Simulator: sim.Kind(),
		NewSplit:  func() bufio.SplitFunc { return intellivue.SplitFrames },
		MaxFrame:  intellivue.MaxFrameSize,
		Dir:       ".",
		Fuzz:      []string{"FuzzSplitFrames", "FuzzDecodeFrame", "FuzzDecodeMessage"},
		// The session polls once a second: a device clock 6 times faster
		// samples every 6 s, so the 8 s artefact bursts are seen.
		Speed:    6,
		Readings: 3,
		Wait:     40 * time.Second,
	})
}
