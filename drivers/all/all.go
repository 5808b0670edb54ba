package all

import (
	"slices"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/dri"
	"github.com/bedgate/bedgate/drivers/intellivue"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/drivers/nonin"
)

// Registry returns a registry holding every driver.
func Registry() (*drivers.Registry, error) {
	var r drivers.Registry
	for _, d := range slices.Concat([]drivers.Driver{
		intellivue.Driver(),
		masimo.Driver(),
		dri.Driver(),
	}, nonin.Drivers()) {
		if err := r.Register(d); err != nil {
			return nil, err
		}
	}
	return &r, nil
}
