package nonin_test

import (
	"bufio"
	"testing"

	"github.com/bedgate/bedgate/drivers/drivertest"
	"github.com/bedgate/bedgate/drivers/nonin"
	sim "github.com/bedgate/bedgate/simulators/nonin"
)

func TestConformance(t *testing.T) {
	for _, f := range []nonin.Format{nonin.DF2, nonin.DF7, nonin.DF8} {
		t.Run(f.Name(), func(t *testing.T) {
			drivertest.Run(t, drivertest.Pair{
				Driver:    nonin.Driver(f),
				Simulator: sim.Kind(f),
				NewSplit:  func() bufio.SplitFunc { return nonin.Splitter(f) },
				MaxFrame:  f.FrameSize(),
				Dir:       ".",
				Fuzz:      []string{"FuzzSplit", "FuzzDecode"},
			})
		})
	}
}
