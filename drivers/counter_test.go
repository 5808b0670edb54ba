package drivers_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

func TestCounter(t *testing.T) {
	tests := []struct {
		name    string
		count   func(c *drivers.Counter) (badReturns []int64)
		want    drivers.Stats
		wantBad []int64 // what each Bad call returned
	}{
		{"nothing counted", func(*drivers.Counter) []int64 { return nil }, drivers.Stats{}, nil},
		{"readings and frames", func(c *drivers.Counter) []int64 {
			c.Frame()
			c.Reading()
			c.Frame()
			return nil
		}, drivers.Stats{Readings: 1, Frames: 2}, nil},
		{"skipped bytes add up", func(c *drivers.Counter) []int64 {
			c.Skipped(3)
			c.Skipped(0)
			c.Skipped(14)
			return nil
		}, drivers.Stats{Skipped: 17}, nil},
		{"bad frames: the last error is kept, the count returned", func(c *drivers.Counter) []int64 {
			first := c.Bad(errors.New("masimo: bad checksum"))
			c.Frame()
			return []int64{first, c.Bad(errors.New("masimo: line truncated"))}
		}, drivers.Stats{Frames: 1, Bad: 2, LastError: "masimo: line truncated"}, []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c drivers.Counter
			gotBad := tt.count(&c)
			if got := c.Stats(); got != tt.want {
				t.Errorf("Stats() = %+v, want %+v", got, tt.want)
			}
			if !slices.Equal(gotBad, tt.wantBad) {
				t.Errorf("Bad returned %v, want %v", gotBad, tt.wantBad)
			}
		})
	}
}

// TestCounterConcurrent: counting from several goroutines while Stats is
// read loses nothing (run with -race).
func TestCounterConcurrent(t *testing.T) {
	const workers, each = 4, 250
	var c drivers.Counter
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				c.Reading()
				c.Frame()
				c.Skipped(2)
				c.Bad(fmt.Errorf("worker %d frame %d", w, i))
				_ = c.Stats()
			}
		})
	}
	wg.Wait()
	got := c.Stats()
	const n = workers * each
	if got.Readings != n || got.Frames != n || got.Bad != n || got.Skipped != 2*n || got.LastError == "" {
		t.Errorf("Stats() = %+v, want %d readings, frames and bad, %d skipped and a last error", got, n, 2*n)
	}
}
