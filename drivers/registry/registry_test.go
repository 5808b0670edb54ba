package registry_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers/registry"
)

type thing struct {
	name string
	bad  error
}

func (t thing) RegistryName() string         { return t.name }
func (thing) RegistryKind() (string, string) { return "things", "thing" }
func (t thing) Check() error                 { return t.bad }

func TestRegister(t *testing.T) {
	tests := []struct {
		name  string
		adds  []thing
		want  []string // substrings of the last Register's error; none: it succeeds
		names []string
	}{
		{"one", []thing{{name: "a"}}, nil, []string{"a"}},
		{"sorted", []thing{{name: "b"}, {name: "a"}}, nil, []string{"a", "b"}},
		{"empty name", []thing{{name: ""}}, []string{"things: register: empty thing name"}, []string{}},
		{"check fails", []thing{{name: "x", bad: errors.New("no line")}}, []string{`things: register "x": no line`}, []string{}},
		{"duplicate", []thing{{name: "a"}, {name: "a"}}, []string{`things: register "a": duplicate thing name`}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r registry.Registry[thing]
			var err error
			for _, e := range tt.adds {
				err = r.Register(e)
			}
			if len(tt.want) == 0 && err != nil {
				t.Fatalf("Register: %v", err)
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Register error %v, want it to contain %q", err, w)
				}
			}
			if got := r.Names(); !slices.Equal(got, tt.names) {
				t.Errorf("Names() = %q, want %q", got, tt.names)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	var r registry.Registry[thing]
	if _, err := r.Lookup("a"); err == nil || !strings.Contains(err.Error(), `things: unknown thing "a"`) {
		t.Errorf("Lookup on an empty registry: %v", err)
	}
	for _, n := range []string{"b", "a"} {
		if err := r.Register(thing{name: n}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Lookup("b")
	if err != nil || got.name != "b" {
		t.Errorf("Lookup(b) = %v, %v", got, err)
	}
	_, err = r.Lookup("c")
	if err == nil || !strings.Contains(err.Error(), "[a b]") {
		t.Errorf("Lookup(c) = %v, want the known names listed", err)
	}
	all := r.All()
	if len(all) != 2 || all[0].name != "a" || all[1].name != "b" {
		t.Errorf("All() = %v, want a then b", all)
	}
}
