package topic

import (
	"errors"
	"testing"
)

func TestBedTopics(t *testing.T) {
	if got := Bed("rxh", "ward7", "bed01", Obs); got != "bedgate/v1/rxh/ward7/bed01/obs" {
		t.Errorf("Bed = %q", got)
	}
	if got := BedFilter("rxh", "ward7", Admission); got != "bedgate/v1/rxh/ward7/+/admission" {
		t.Errorf("BedFilter = %q", got)
	}
	if got := Status("rxh", "gw1"); got != "bedgate/v1/rxh/gateway/gw1/status" {
		t.Errorf("Status = %q", got)
	}
	if got := Site("rxh"); got != "bedgate/v1/rxh/#" {
		t.Errorf("Site = %q", got)
	}
}

func TestParseBed(t *testing.T) {
	site, ward, bed, err := ParseBed("bedgate/v1/rxh/ward7/bed01/nurse", Nurse)
	if err != nil || site != "rxh" || ward != "ward7" || bed != "bed01" {
		t.Fatalf("ParseBed = %q %q %q %v", site, ward, bed, err)
	}
	for _, bad := range []string{
		"bedgate/v1/rxh/ward7/bed01/obs",     // another leaf
		"bedgate/v2/rxh/ward7/bed01/nurse",   // another version
		"bedgate/v1/rxh/ward7/nurse",         // too short
		"bedgate/v1/rxh/ward7/x/bed01/nurse", // too long
		"bedgate/v1/rxh/ward7/+/nurse",       // a wildcard
		"bedgate/v1/rxh//bed01/nurse",        // an empty level
	} {
		if _, _, _, err := ParseBed(bad, Nurse); !errors.Is(err, ErrTopic) {
			t.Errorf("ParseBed(%q) = %v, want ErrTopic", bad, err)
		}
	}
}
