// Package all builds the registry of every simulated device kind bedgate
// ships, from an explicit list: adding a simulator means adding it here.
package all

import (
	"fmt"

	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/intellivue"
	"github.com/bedgate/bedgate/simulators/masimo"
)

// Registry returns a registry holding every simulator kind.
func Registry() (*simulators.Registry, error) {
	r := new(simulators.Registry)
	for _, k := range []simulators.Kind{
		intellivue.Kind(),
		masimo.Kind(),
	} {
		if err := r.Register(k); err != nil {
			return nil, fmt.Errorf("simulators/all: %w", err)
		}
	}
	return r, nil
}
