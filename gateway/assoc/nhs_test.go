package assoc

import (
	"errors"
	"testing"
)

func TestCheckNHSNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"data dictionary worked example", "9434765919", true},
		{"test range 9990000018", "9990000018", true},
		{"test range 9990000026", "9990000026", true},
		{"another valid number", "9449305552", true},
		{"remainder 0 gives check digit 0", "9990000050", true},
		{"wrong check digit", "9434765918", false},
		{"check digit 10 is never issued", "1234567890", false},
		{"check digit 10 whatever the last digit", "9990000000", false},
		{"spaces are not accepted by the strict check", "943 476 5919", false},
		{"nine digits", "943476591", false},
		{"eleven digits", "94347659190", false},
		{"letter", "94347659A9", false},
		{"empty", "", false},
		{"non-ASCII digit", "943476591٩", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNHSNumber(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckNHSNumber(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNHSNumber) {
				t.Fatalf("error %v does not wrap ErrNHSNumber", err)
			}
		})
	}
}

func TestNormalizeNHSNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"ten digits unchanged", "9434765919", "9434765919", true},
		{"3-3-4 display form", "943 476 5919", "9434765919", true},
		{"display form with a bad check digit", "943 476 5918", "", false},
		{"spaces in the wrong places", "9434 765 919", "", false},
		{"double spaces", "943  476 5919", "", false},
		{"leading space", " 9434765919", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeNHSNumber(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("NormalizeNHSNumber(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
