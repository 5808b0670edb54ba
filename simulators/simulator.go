package simulators

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/registry"
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

// RegistryName returns k.Name, the registry key.
func (k Kind) RegistryName() string { return k.Name }

// RegistryKind names simulators in registry errors.
func (Kind) RegistryKind() (pkg, noun string) { return "simulators", "simulator" }

// Check reports why k cannot be registered: no constructor, or line
// settings no port accepts.
func (k Kind) Check() error {
	if k.New == nil {
		return errors.New("New is required")
	}
	return k.Line.Validate()
}

// Registry maps simulator names to kinds. The zero value is empty and
// ready; simulators/all builds the one the programs use.
type Registry = registry.Registry[Kind]
