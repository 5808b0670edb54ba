package simulators

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// Device is the device side of one protocol.
type Device interface {
	// Run speaks the protocol over rw until ctx ends (it then returns an
	// error matching ctx.Err()), rw fails, or the device has nothing more
	// to send (a replayed capture at its end): it then returns nil.
	Run(ctx context.Context, rw io.ReadWriter) error
}

// Options configure a simulated device. The zero value is valid.
type Options struct {
	// Scenario names the physiology scenario (see simulators/scenario).
	// The default is "stable".
	Scenario string
	// Seed makes the scenario's noise repeatable. The default is 1.
	Seed int64
	// Serial is the serial number the device reports. The default is
	// protocol specific.
	Serial string
	// Period is the time between readings. The default is the protocol's
	// own (one second for Masimo ASCII 1).
	Period time.Duration
	// Values, when not nil, receives one JSON line (a drivers.Reading)
	// per reading sent: the values the device meant to send.
	Values io.Writer
	// Now is the device clock. The default is time.Now.
	Now func() time.Time
	// Logger receives diagnostics. The default is slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns a copy of o with defaults filled in. period is the
// protocol's own default reading period.
func (o Options) WithDefaults(period time.Duration) Options {
	if o.Scenario == "" {
		o.Scenario = "stable"
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Period <= 0 {
		o.Period = period
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Kind describes one simulated device type.
type Kind struct {
	// Name is the driver name the simulator pairs with, for example "masimo".
	Name string
	// Line is the serial setting the simulated device uses.
	Line drivers.LineSettings
	// New builds a device.
	New func(opts Options) (Device, error)
}

// Registry maps simulator names to kinds. The zero value is empty and ready.
type Registry struct {
	byName map[string]Kind
}

// Register adds k; it fails on an empty or duplicate name.
func (r *Registry) Register(k Kind) error {
	if k.Name == "" || k.New == nil {
		return errors.New("simulators: register: name and New are required")
	}
	if _, dup := r.byName[k.Name]; dup {
		return fmt.Errorf("simulators: register %q: duplicate name", k.Name)
	}
	if r.byName == nil {
		r.byName = make(map[string]Kind)
	}
	r.byName[k.Name] = k
	return nil
}

// Lookup returns the kind registered under name.
func (r *Registry) Lookup(name string) (Kind, error) {
	k, ok := r.byName[name]
	if !ok {
		return Kind{}, fmt.Errorf("simulators: unknown simulator %q (known: %v)", name, r.Names())
	}
	return k, nil
}

// Names lists the registered names in sorted order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
