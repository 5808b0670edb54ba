package serialport

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestBackoffSequence(t *testing.T) {
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"defaults without jitter", Backoff{Jitter: -1},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms}},
		{"custom bounds", Backoff{Min: 10 * ms, Max: 50 * ms, Jitter: -1},
			[]time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms, 50 * ms}},
		{"max below min is min", Backoff{Min: 300 * ms, Max: 100 * ms, Jitter: -1},
			[]time.Duration{300 * ms, 300 * ms}},
		{"jitter shortens by fraction times random", Backoff{Min: 100 * ms, Max: 400 * ms, Jitter: 0.5, Rand: func() float64 { return 0.5 }},
			[]time.Duration{75 * ms, 150 * ms, 300 * ms, 300 * ms}},
		{"zero jitter means the default", Backoff{Min: 100 * ms, Max: 200 * ms, Rand: func() float64 { return 0.5 }},
			[]time.Duration{90 * ms, 180 * ms, 180 * ms}},
		{"jitter above one is one", Backoff{Min: 100 * ms, Jitter: 3, Rand: func() float64 { return 0.25 }},
			[]time.Duration{75 * ms, 150 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			for i, want := range tt.want {
				if got := b.Next(); got != want {
					t.Errorf("Next() #%d = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func TestBackoffReset(t *testing.T) {
	b := Backoff{Min: 10 * ms, Max: time.Second, Jitter: -1}
	for range 4 {
		b.Next()
	}
	b.Reset()
	if got := b.Next(); got != 10*ms {
		t.Errorf("Next after Reset = %v, want Min", got)
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	b := Backoff{Min: 100 * ms, Max: 100 * ms}
	for range 1000 {
		if d := b.Next(); d < 80*ms || d > 100*ms {
			t.Fatalf("Next() = %v, want within [80ms, 100ms]", d)
		}
	}
}
