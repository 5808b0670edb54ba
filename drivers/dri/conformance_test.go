package dri_test

import (
	"bufio"
	"testing"

	"github.com/bedgate/bedgate/drivers/dri"
	"github.com/bedgate/bedgate/drivers/drivertest"
	sim "github.com/bedgate/bedgate/simulators/dri"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Pair{
		Driver:    dri.Driver(),
		Simulator: sim.Kind(),
		NewSplit:  func() bufio.SplitFunc { return dri.Split },
		MaxFrame:  dri.MaxFrame,
		Dir:       ".",
		Fuzz:      []string{"FuzzSplit", "FuzzDecode"},
	})
}
