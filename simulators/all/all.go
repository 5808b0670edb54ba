package all

import (
	"fmt"
	"slices"

	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/dri"
	"github.com/bedgate/bedgate/simulators/intellivue"
	"github.com/bedgate/bedgate/simulators/masimo"
	"github.com/bedgate/bedgate/simulators/nonin"
)

// Registry returns a registry holding every simulator kind.
func Registry() (*simulators.Registry, error) {
	r := new(simulators.Registry)
	for _, k := range slices.Concat([]simulators.Kind{
		intellivue.Kind(),
		masimo.Kind(),
		dri.Kind(),
	}, nonin.Kinds()) {
		if err := r.Register(k); err != nil {
			return nil, fmt.Errorf("simulators/all: %w", err)
		}
	}
	return r, nil
}
