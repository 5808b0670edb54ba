package masimo_test

import (
	"bufio"
	"testing"

	"github.com/bedgate/bedgate/drivers/drivertest"
	"github.com/bedgate/bedgate/drivers/masimo"
	sim "github.com/bedgate/bedgate/simulators/masimo"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Pair{
		Driver:    masimo.Driver(),
		Simulator: sim.Kind(),
		NewSplit:  func() bufio.SplitFunc { return new(masimo.Splitter).Split },
		MaxFrame:  masimo.MaxLineLength,
		Dir:       ".",
		Fuzz:      []string{"FuzzParseLine", "FuzzSplit"},
	})
}
