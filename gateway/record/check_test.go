package record

import (
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	good := Record{Gateway: "gw", Bed: "b", DeviceKey: "masimo:1", ReceivedAt: time.Unix(1, 0),
		Observations: []Observation{{ID: "0b5c3c44-6f0c-5c55-9b1e-5d3f1e6a7b80"}, {ID: "1b5c3c44-6f0c-5c55-9b1e-5d3f1e6a7b80"}}}
	if err := good.Check(); err != nil {
		t.Fatalf("good record: %v", err)
	}
	tests := []struct {
		name string
		edit func(*Record)
		want string
	}{
		{"no gateway", func(r *Record) { r.Gateway = "" }, "no gateway id"},
		{"no bed", func(r *Record) { r.Bed = "" }, "no bed"},
		{"no device key", func(r *Record) { r.DeviceKey = "" }, "no device key"},
		{"no receive time", func(r *Record) { r.ReceivedAt = time.Time{} }, "no receive time"},
		{"bad id", func(r *Record) { r.Observations[0].ID = "obs-1" }, "not a UUID"},
		{"braced id", func(r *Record) { r.Observations[0].ID = "{0b5c3c44-6f0c-5c55-9b1e-5d3f1e6a7b80}" }, "not a UUID"},
		{"repeated id", func(r *Record) { r.Observations[1].ID = r.Observations[0].ID }, "appears twice"},
	}
	for _, tt := range tests {
		r := good
		r.Observations = append([]Observation(nil), good.Observations...)
		tt.edit(&r)
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
}
