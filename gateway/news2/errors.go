package news2

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrParameter is returned when a Parameter is not one of chart 1's.
	ErrParameter = errors.New("news2: unknown parameter")
	// ErrValue is returned when a value cannot be scored: not finite,
	// negative, above the parameter's range (SpO2 above 100 %, any value
	// above 1000), or not one of the levels of [ACVPU] or [Breathing].
	ErrValue = errors.New("news2: value cannot be scored")
	// ErrNeedsBreathing is returned by SubScore for a Scale 2 SpO2 of 93 %
	// or more, whose sub-score depends on air or oxygen: use
	// Scale2SubScore.
	ErrNeedsBreathing = errors.New("news2: scale 2 SpO2 of 93% or more needs air or oxygen")
	// ErrIncomplete is returned (as an [*IncompleteError]) when a set lacks
	// a parameter or its observations were not taken together.
	ErrIncomplete = errors.New("news2: incomplete set")
	// ErrWindow is returned when Options.Window or one of Options.Windows
	// is negative.
	ErrWindow = errors.New("news2: negative window")
)

// IncompleteError names the parameters that keep a set from being scored.
// errors.Is(err, ErrIncomplete) reports true for it.
type IncompleteError struct {
	// Missing are the parameters with no observation.
	Missing []Parameter
	// Untimed are the parameters whose observation has a zero Time.
	Untimed []Parameter
	// Stale are the parameters taken more than Window before Newest.
	Stale []Parameter
	// Newest is the time of the newest timed observation of the set, zero
	// when no observation has a time.
	Newest time.Time
	// Window is the window that was applied to parameters without one of
	// their own (Options.Windows).
	Window time.Duration
	// StaleWindows are the windows the Stale parameters exceeded, in the
	// same order.
	StaleWindows []time.Duration
}

// Error lists what is missing, untimed and stale.
func (e *IncompleteError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+joinParameters(e.Missing))
	}
	if len(e.Untimed) > 0 {
		parts = append(parts, "no time for "+joinParameters(e.Untimed))
	}
	for i, p := range e.Stale {
		w := e.Window
		if i < len(e.StaleWindows) {
			w = e.StaleWindows[i]
		}
		parts = append(parts, fmt.Sprintf("stale %s (more than %v before the newest)", p, w))
	}
	return "news2: incomplete set: " + strings.Join(parts, "; ")
}

// Is reports whether target is ErrIncomplete.
func (e *IncompleteError) Is(target error) bool { return target == ErrIncomplete }

func joinParameters(ps []Parameter) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}
