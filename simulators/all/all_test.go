package all

import (
	"slices"
	"testing"

	"github.com/bedgate/bedgate/simulators"
)

func TestRegistryHoldsEveryKind(t *testing.T) {
	r, err := Registry()
	if err != nil {
		t.Fatalf("Registry: %v", err)
	}
	names := r.Names()
	for _, want := range []string{"intellivue", "masimo"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, want %s among them", names, want)
		}
	}
	for _, name := range names {
		k, err := r.Lookup(name)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", name, err)
		}
		if k.Name != name {
			t.Errorf("kind registered as %q calls itself %q", name, k.Name)
		}
		if err := k.Line.Validate(); err != nil {
			t.Errorf("%s: line settings %v: %v", name, k.Line, err)
		}
		dev, err := k.New(simulators.Options{})
		if err != nil || dev == nil {
			t.Errorf("%s: New with default options = %v, %v", name, dev, err)
		}
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	a, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	// Each call builds a fresh registry: registering into one leaves the other alone.
	k, _ := a.Lookup("masimo")
	k.Name = "masimo-copy"
	if err := a.Register(k); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lookup("masimo-copy"); err == nil {
		t.Error("a kind registered in one registry appeared in another")
	}
}
