package drivers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

func TestLineSettingsString(t *testing.T) {
	tests := []struct {
		l    drivers.LineSettings
		want string
	}{
		{drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}, "9600 8N1"},
		{drivers.LineSettings{Baud: 19200, DataBits: 7, Parity: drivers.EvenParity, StopBits: 1}, "19200 7E1"},
		{drivers.LineSettings{Baud: 115200, DataBits: 8, Parity: drivers.OddParity, StopBits: 2}, "115200 8O2"},
		{drivers.LineSettings{Baud: 38400, DataBits: 8, Parity: drivers.NoParity, StopBits: 1, RTSCTS: true}, "38400 8N1 RTS/CTS"},
		{drivers.LineSettings{Baud: 9600, DataBits: 8, StopBits: 1}, "9600 8N1"}, // empty parity prints as none
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.l, got, tt.want)
		}
	}
}

func TestLineSettingsValidate(t *testing.T) {
	good := drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
	tests := []struct {
		name   string
		change func(*drivers.LineSettings)
		want   []string // substrings the error must contain; none means valid
	}{
		{"9600 8N1", func(*drivers.LineSettings) {}, nil},
		{"7E2 with flow control", func(l *drivers.LineSettings) {
			l.DataBits, l.Parity, l.StopBits, l.RTSCTS = 7, drivers.EvenParity, 2, true
		}, nil},
		{"5 data bits odd", func(l *drivers.LineSettings) { l.DataBits, l.Parity = 5, drivers.OddParity }, nil},
		{"zero baud", func(l *drivers.LineSettings) { l.Baud = 0 }, []string{"baud rate 0"}},
		{"negative baud", func(l *drivers.LineSettings) { l.Baud = -9600 }, []string{"baud rate -9600"}},
		{"4 data bits", func(l *drivers.LineSettings) { l.DataBits = 4 }, []string{"data bits 4"}},
		{"9 data bits", func(l *drivers.LineSettings) { l.DataBits = 9 }, []string{"data bits 9"}},
		{"empty parity", func(l *drivers.LineSettings) { l.Parity = "" }, []string{`parity ""`}},
		{"mark parity", func(l *drivers.LineSettings) { l.Parity = "mark" }, []string{`parity "mark"`}},
		{"upper-case parity", func(l *drivers.LineSettings) { l.Parity = "NONE" }, []string{`parity "NONE"`}},
		{"0 stop bits", func(l *drivers.LineSettings) { l.StopBits = 0 }, []string{"stop bits 0"}},
		{"3 stop bits", func(l *drivers.LineSettings) { l.StopBits = 3 }, []string{"stop bits 3"}},
		{"everything wrong", func(l *drivers.LineSettings) { *l = drivers.LineSettings{Parity: "space"} },
			[]string{"baud rate 0", "data bits 0", `parity "space"`, "stop bits 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := good
			tt.change(&l)
			err := l.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", l, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want an error naming %q", l, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%+v) = %q, want it to name %q", l, err, w)
				}
			}
			// Only the bad fields are named.
			for _, field := range []string{"baud rate", "data bits", "parity", "stop bits"} {
				named := strings.Contains(err.Error(), field)
				wanted := slices.ContainsFunc(tt.want, func(w string) bool { return strings.HasPrefix(w, field) })
				if named != wanted {
					t.Errorf("Validate(%+v) = %q: names %q is %v, want %v", l, err, field, named, wanted)
				}
			}
		})
	}
}

// fakeDriver returns a driver with working constructors that do nothing.
func fakeDriver(name string) drivers.Driver {
	return drivers.Driver{
		Name:        name,
		Description: "test driver " + name,
		Line:        drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1},
		NewSession: func(io.ReadWriter, drivers.Options) (drivers.Session, error) {
			return nil, errors.New("fake: no session")
		},
		Decode: func(context.Context, io.Reader, drivers.Sink, drivers.Options) (drivers.Stats, error) {
			return drivers.Stats{Frames: 1}, nil
		},
	}
}

func TestRegistryRegister(t *testing.T) {
	tests := []struct {
		name   string
		driver func() drivers.Driver
		want   []string // substrings of the error; none means success
	}{
		{"good", func() drivers.Driver { return fakeDriver("good") }, nil},
		{"empty name", func() drivers.Driver { return fakeDriver("") }, []string{"drivers: register", "empty driver name"}},
		{"no session constructor", func() drivers.Driver {
			d := fakeDriver("nosession")
			d.NewSession = nil
			return d
		}, []string{`"nosession"`, "NewSession and Decode are required"}},
		{"no decoder", func() drivers.Driver {
			d := fakeDriver("nodecode")
			d.Decode = nil
			return d
		}, []string{`"nodecode"`, "NewSession and Decode are required"}},
		{"invalid line", func() drivers.Driver {
			d := fakeDriver("badline")
			d.Line.StopBits = 3
			d.Line.Baud = 0
			return d
		}, []string{`"badline"`, "stop bits 3", "baud rate 0"}},
		{"zero line settings", func() drivers.Driver {
			d := fakeDriver("noline")
			d.Line = drivers.LineSettings{}
			return d
		}, []string{`"noline"`, "baud rate 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r drivers.Registry // the zero value is ready
			d := tt.driver()
			err := r.Register(d)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Register: %v", err)
				}
				if got := r.Names(); !slices.Equal(got, []string{d.Name}) {
					t.Errorf("Names() = %q after Register(%q)", got, d.Name)
				}
				return
			}
			if err == nil {
				t.Fatalf("Register(%q) = nil, want an error", d.Name)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Register(%q) = %q, want it to contain %q", d.Name, err, w)
				}
			}
			if got := r.Names(); len(got) != 0 {
				t.Errorf("a refused driver was registered: Names() = %q", got)
			}
		})
	}
}

func TestRegistryRegisterDuplicate(t *testing.T) {
	var r drivers.Registry
	first := fakeDriver("masimo")
	if err := r.Register(first); err != nil {
		t.Fatal(err)
	}
	second := fakeDriver("masimo")
	second.Description = "the second one"
	err := r.Register(second)
	if err == nil || !strings.Contains(err.Error(), `"masimo"`) || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("second Register(masimo) = %v, want a duplicate-name error", err)
	}
	got, err := r.Lookup("masimo")
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != first.Description {
		t.Errorf("after a refused duplicate, Lookup gives %q, want the first driver %q", got.Description, first.Description)
	}
}

func TestRegistryLookup(t *testing.T) {
	var r drivers.Registry
	if _, err := r.Lookup("masimo"); err == nil {
		t.Error("Lookup on an empty registry succeeded")
	}
	for _, n := range []string{"philips", "masimo", "nihon"} {
		if err := r.Register(fakeDriver(n)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := r.Lookup("nihon")
	if err != nil {
		t.Fatalf("Lookup(nihon): %v", err)
	}
	if d.Name != "nihon" || d.Description != "test driver nihon" {
		t.Errorf("Lookup(nihon) = %q %q", d.Name, d.Description)
	}
	if st, err := d.Decode(t.Context(), strings.NewReader(""), nil, drivers.Options{}); err != nil || st.Frames != 1 {
		t.Errorf("looked-up Decode = %+v, %v: not the registered function", st, err)
	}

	_, err = r.Lookup("Masimo") // names are exact
	if err == nil {
		t.Fatal("Lookup(Masimo) succeeded; names are case sensitive")
	}
	for _, w := range []string{"drivers: ", `unknown driver "Masimo"`, "[masimo nihon philips]"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Lookup(Masimo) = %q, want it to contain %q", err, w)
		}
	}
}

func TestRegistryNames(t *testing.T) {
	var r drivers.Registry
	if got := r.Names(); got == nil || len(got) != 0 {
		t.Errorf("zero Registry Names() = %#v, want an empty non-nil slice", got)
	}
	in := []string{"zoll", "masimo", "ge-dash", "philips", "a"}
	for _, n := range in {
		if err := r.Register(fakeDriver(n)); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Clone(in)
	slices.Sort(want)
	got := r.Names()
	if !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	got[0] = "changed" // the caller owns the slice
	if again := r.Names(); !slices.Equal(again, want) {
		t.Errorf("changing the returned slice changed the registry: %q", again)
	}
}

func TestOptionsWithDefaults(t *testing.T) {
	var zero drivers.Options
	d := zero.WithDefaults()
	if zero.Logger != nil || zero.Now != nil || zero.DeviceLocation != nil {
		t.Errorf("WithDefaults changed the caller's struct: %+v", zero)
	}
	if d.Logger != slog.Default() {
		t.Error("default Logger is not slog.Default()")
	}
	if d.DeviceLocation != time.UTC {
		t.Errorf("default DeviceLocation = %v, want UTC", d.DeviceLocation)
	}
	before := time.Now()
	got := d.Now()
	if got.Before(before) || got.After(time.Now()) {
		t.Errorf("default Now() = %v, not the current time", got)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fixed := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	loc := time.FixedZone("test", 3600)
	set := drivers.Options{Logger: logger, Now: func() time.Time { return fixed }, DeviceLocation: loc}
	d = set.WithDefaults()
	if d.Logger != logger || d.DeviceLocation != loc || !d.Now().Equal(fixed) {
		t.Errorf("WithDefaults replaced options that were set: %+v", d)
	}
}

func TestSinkFunc(t *testing.T) {
	var got []drivers.Reading
	stop := errors.New("stop")
	sink := drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got = append(got, r)
		if len(got) == 2 {
			return stop
		}
		return nil
	})
	var s drivers.Sink = sink
	for i, serial := range []string{"a", "b"} {
		err := s.Emit(t.Context(), drivers.Reading{Device: drivers.DeviceID{Serial: serial}})
		if want := i == 1; (err != nil) != want || err != nil && !errors.Is(err, stop) {
			t.Errorf("Emit %d = %v", i, err)
		}
	}
	if len(got) != 2 || got[0].Device.Serial != "a" || got[1].Device.Serial != "b" {
		t.Errorf("the function saw %+v", got)
	}
}

func TestLineSettingsOverride(t *testing.T) {
	base := drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
	tests := []struct {
		name string
		o    drivers.LineSettings
		want drivers.LineSettings
	}{
		{"nothing", drivers.LineSettings{}, base},
		{"baud", drivers.LineSettings{Baud: 19200}, drivers.LineSettings{Baud: 19200, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}},
		{"every field", drivers.LineSettings{Baud: 115200, DataBits: 7, Parity: drivers.EvenParity, StopBits: 2, RTSCTS: true},
			drivers.LineSettings{Baud: 115200, DataBits: 7, Parity: drivers.EvenParity, StopBits: 2, RTSCTS: true}},
	}
	for _, tt := range tests {
		if got := base.Override(tt.o); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
