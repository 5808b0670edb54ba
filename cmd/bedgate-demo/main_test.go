package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
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

// TestDemoShowsWhatREADMEPromises runs the demo's 30 s with three beds and
// checks its output: the status page's address (and the page answering),
// one line per reading with the key vitals, two respiration rates told
// apart, NEWS2 labelled advisory and never "[flagged]", bed2 deteriorating
// (SpO2 down, pulse up) and bed3's sensor coming off.
func TestDemoShowsWhatREADMEPromises(t *testing.T) {
	if testing.Short() {
		t.Skip("demo test: skipped in -short mode")
	}
	var out, errOut lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--for", "30s", "--beds", "3"}, &out, &errOut) }()

	// The status page answers while the demo runs.
	var url string
	for url == "" {
		if m := regexp.MustCompile(`(?m)^status  (http://127\.0\.0\.1:\d+/)$`).FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo ended before printing the status line: %v\n%s%s", err, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}

	text := out.String()
	for _, want := range []string{"RR (impedance)", "RR (airway CO2)", "(advisory", "BP ", "Temp ", "not measured: sensor off"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "[flagged]") {
		t.Errorf("demo output says [flagged]:\n%s", text)
	}
	if n := strings.Count(text, "\nEPR      bed1 "); n < 10 || n > 40 {
		t.Errorf("%d lines for bed1's IntelliVue in 30 s, want one per reading (10 to 40)", n)
	}
	vitals := regexp.MustCompile(`(?m)^EPR      bed2 .* SpO2 (\d+)%  Pulse (\d+)/min`).FindAllStringSubmatch(text, -1)
	if len(vitals) < 10 {
		t.Fatalf("%d readings of bed2, want at least 10:\n%s", len(vitals), text)
	}
	first, last := vitals[0], vitals[len(vitals)-1]
	spo2a, _ := strconv.Atoi(first[1])
	spo2b, _ := strconv.Atoi(last[1])
	pulsea, _ := strconv.Atoi(first[2])
	pulseb, _ := strconv.Atoi(last[2])
	if spo2b > spo2a-3 || pulseb < pulsea+15 {
		t.Errorf("bed2 went from SpO2 %d, pulse %d to SpO2 %d, pulse %d: want a visible deterioration", spo2a, pulsea, spo2b, pulseb)
	}
}
