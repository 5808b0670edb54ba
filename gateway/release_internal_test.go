package gateway

import (
	"testing"
	"time"
)

// TestLookAfter: the held-records loop looks again when the earliest held
// reading may be decided, within its bounds.
func TestLookAfter(t *testing.T) {
	for _, tc := range []struct {
		untilNext, want time.Duration
	}{
		{-time.Second, minLook},                                   // already decidable: at the soonest
		{50 * time.Millisecond, minLook},                          // not sooner than minLook
		{700 * time.Millisecond, 700*time.Millisecond + coalesce}, // when it is due, and coalesce later
		{5 * time.Second, maxLook},                                // not later than maxLook
	} {
		if got := lookAfter(tc.untilNext); got != tc.want {
			t.Errorf("lookAfter(%v) = %v, want %v", tc.untilNext, got, tc.want)
		}
	}
}
