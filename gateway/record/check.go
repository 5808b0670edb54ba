package record

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Check reports every way an observation record breaks the contract the
// encoders rely on: a gateway, bed, device key and receive time, and
// observation identifiers that are UUIDs, each used once. The errors are
// joined, and name no patient identifier and no value.
func (r Record) Check() error {
	var errs []error
	if r.Gateway == "" {
		errs = append(errs, errors.New("no gateway id"))
	}
	if r.Bed == "" {
		errs = append(errs, errors.New("no bed"))
	}
	if r.DeviceKey == "" {
		errs = append(errs, errors.New("no device key"))
	}
	if r.ReceivedAt.IsZero() {
		errs = append(errs, errors.New("no receive time"))
	}
	seen := make(map[uuid.UUID]bool, len(r.Observations))
	for i, o := range r.Observations {
		id, err := uuid.Parse(o.ID)
		if err != nil || len(o.ID) != 36 {
			errs = append(errs, fmt.Errorf("observation %d (MDC %d): id %q is not a UUID", i, o.MDC, o.ID))
			continue
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("observation %d (MDC %d): id %s appears twice", i, o.MDC, id))
		}
		seen[id] = true
	}
	return errors.Join(errs...)
}
