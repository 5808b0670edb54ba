package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer the demo may write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoPrintsObservations runs the demo in-process for a few seconds
// and checks that it prints observations as the EPR receives them.
func TestDemoPrintsObservations(t *testing.T) {
	if testing.Short() {
		t.Skip("demo test: skipped in -short mode")
	}
	var out, errOut lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, []string{"--for", "5s", "--beds", "2"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"monitor  bed1", "monitor  bed2", "EPR      bed1", "EPR      bed2", "/min", "%"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\nEPR "); n < 6 {
		t.Errorf("demo printed %d observations in 5 s, want at least 6:\n%s", n, text)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--beds", "0"}, "--beds 0"},
		{[]string{"--beds", "65"}, "--beds 65"},
		{[]string{"--for", "-1s"}, "negative"},
		{[]string{"--for", "1s", "--log-level", "loud"}, `"loud"`},
		{[]string{"--for", "soon"}, "soon"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var out, errOut lockedBuffer
		err := run(t.Context(), tt.args, &out, &errOut)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q = %v, want a usage error saying %q", tt.args, err, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errOut lockedBuffer
	if err := run(t.Context(), []string{"--help"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage: bedgate-demo") {
		t.Errorf("--help = %v, printed %q; want flag.ErrHelp (exit 0) and the usage", err, errOut.String())
	}
}
