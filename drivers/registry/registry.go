package registry

import (
	"fmt"
	"slices"
	"sort"
)

// Entry is what a registry holds.
type Entry interface {
	// RegistryName is the key the entry is registered and looked up
	// under, for example "masimo".
	RegistryName() string
	// RegistryKind names the registering package and what the entry is,
	// for error messages, for example "drivers" and "driver". It must not
	// depend on the receiver's fields.
	RegistryKind() (pkg, noun string)
	// Check reports why the entry cannot be registered, or nil.
	Check() error
}

// Registry maps names to entries. The zero value is empty and ready. It is
// not safe for concurrent Register calls; Lookup and Names may be called
// concurrently once it is built.
type Registry[T Entry] struct {
	byName map[string]T
}

// Register adds e. It fails on an empty or duplicate name, or when e's
// Check fails; the registry is then unchanged.
func (r *Registry[T]) Register(e T) error {
	name := e.RegistryName()
	pkg, noun := e.RegistryKind()
	if name == "" {
		return fmt.Errorf("%s: register: empty %s name", pkg, noun)
	}
	if err := e.Check(); err != nil {
		return fmt.Errorf("%s: register %q: %w", pkg, name, err)
	}
	if _, dup := r.byName[name]; dup {
		return fmt.Errorf("%s: register %q: duplicate %s name", pkg, name, noun)
	}
	if r.byName == nil {
		r.byName = make(map[string]T)
	}
	r.byName[name] = e
	return nil
}

// Lookup returns the entry registered under name.
func (r *Registry[T]) Lookup(name string) (T, error) {
	e, ok := r.byName[name]
	if !ok {
		var zero T
		pkg, noun := zero.RegistryKind()
		return zero, fmt.Errorf("%s: unknown %s %q (known: %v)", pkg, noun, name, r.Names())
	}
	return e, nil
}

// Names lists the registered names in sorted order.
func (r *Registry[T]) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// All returns every entry in the order of their names.
func (r *Registry[T]) All() []T {
	out := make([]T, 0, len(r.byName))
	for _, n := range r.Names() {
		out = append(out, r.byName[n])
	}
	return slices.Clip(out)
}
