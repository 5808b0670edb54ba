package drivers_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// lineLoop is a frame loop of newline-ended lines of at most 16 bytes.
func lineLoop(silence time.Duration) drivers.FrameLoop {
	return drivers.FrameLoop{Name: "test", Split: bufio.ScanLines, MaxFrame: 16, Silence: silence, ReadSize: 4}
}

func TestFramesRunHandlesEveryFrameAcrossReads(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	frames := lineLoop(time.Minute).Start(pr)
	defer frames.Close()
	go func() {
		for _, s := range []string{"one\ntw", "o\n", "thr", "ee\nfour\n"} {
			pw.Write([]byte(s))
		}
		pw.Close()
	}()
	var got []string
	err := frames.Run(t.Context(), drivers.Handler{Frame: func(_ context.Context, f []byte) error {
		got = append(got, string(f))
		return nil
	}})
	if !errors.Is(err, drivers.ErrLinkLost) || !errors.Is(err, io.EOF) {
		t.Errorf("Run at the end of input = %v, want ErrLinkLost wrapping io.EOF", err)
	}
	if want := []string{"one", "two", "three", "four"}; !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
	// The read error is remembered: a second Run returns it at once.
	if err2 := frames.Run(t.Context(), drivers.Handler{Frame: func(context.Context, []byte) error { return nil }}); !errors.Is(err2, io.EOF) {
		t.Errorf("second Run = %v, want the same read error", err2)
	}
}

func TestFramesRunEnds(t *testing.T) {
	errStop := errors.New("stop")
	tests := []struct {
		name  string
		input string // written, never closed
		h     func(tick <-chan time.Time) drivers.Handler
		want  error
	}{
		{"silence", "", func(<-chan time.Time) drivers.Handler {
			return drivers.Handler{Frame: func(context.Context, []byte) error { return nil }}
		}, drivers.ErrSilent},
		{"handler error", "x\n", func(<-chan time.Time) drivers.Handler {
			return drivers.Handler{Frame: func(context.Context, []byte) error { return errStop }}
		}, errStop},
		{"tick error", "", func(tick <-chan time.Time) drivers.Handler {
			return drivers.Handler{Frame: func(context.Context, []byte) error { return nil },
				Tick: tick, OnTick: func(context.Context) error { return errStop }}
		}, errStop},
		{"hoarding splitter", strings.Repeat("x", 20), func(<-chan time.Time) drivers.Handler {
			return drivers.Handler{Frame: func(context.Context, []byte) error { return nil }}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pr.Close()
			go pw.Write([]byte(tt.input))
			frames := lineLoop(50 * time.Millisecond).Start(pr)
			defer frames.Close()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			err := frames.Run(t.Context(), tt.h(tick.C))
			switch {
			case err == nil:
				t.Fatal("Run returned nil")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("Run = %v, want %v", err, tt.want)
			case errors.Is(err, drivers.ErrSilent) != (tt.want == drivers.ErrSilent):
				t.Errorf("Run = %v: matches ErrSilent %v, want %v", err, !(tt.want == drivers.ErrSilent), tt.want == drivers.ErrSilent)
			case errors.Is(err, drivers.ErrSilent) && !errors.Is(err, drivers.ErrLinkLost):
				t.Errorf("Run = %v: silent, but does not match ErrLinkLost", err)
			case tt.want == nil && !strings.Contains(err.Error(), "MaxFrame"):
				t.Errorf("Run = %v, want the splitter named as holding too much", err)
			}
		})
	}
}

func TestFramesRunReturnsOnCancelAndResumes(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	frames := lineLoop(time.Minute).Start(pr)
	defer frames.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var got []string
	h := drivers.Handler{Frame: func(_ context.Context, f []byte) error {
		got = append(got, string(f))
		if string(f) == "first" {
			cancel()
		}
		return nil
	}}
	go pw.Write([]byte("first\nsec"))
	if err := frames.Run(ctx, h); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v", err)
	}
	// The unfinished frame carries over into the next Run.
	go pw.Write([]byte("ond\n"))
	ctx2, cancel2 := context.WithCancel(t.Context())
	h.Frame = func(_ context.Context, f []byte) error {
		got = append(got, string(f))
		cancel2()
		return nil
	}
	if err := frames.Run(ctx2, h); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Run = %v", err)
	}
	if want := []string{"first", "second"}; !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
}

func TestScanFrames(t *testing.T) {
	var got []string
	handle := func(_ context.Context, f []byte) error { got = append(got, string(f)); return nil }
	if err := drivers.ScanFrames(t.Context(), strings.NewReader("a\nb\nc"), bufio.ScanLines, 16, handle); err != nil {
		t.Fatalf("ScanFrames = %v", err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
	errRead := errors.New("unplugged")
	err := drivers.ScanFrames(t.Context(), io.MultiReader(strings.NewReader("a\n"), errReader{errRead}), bufio.ScanLines, 16, handle)
	var in *drivers.InputError
	if !errors.As(err, &in) || !errors.Is(err, errRead) {
		t.Errorf("ScanFrames over a failing reader = %v, want an *InputError wrapping the read error", err)
	}
	errStop := errors.New("stop")
	err = drivers.ScanFrames(t.Context(), strings.NewReader("a\n"), bufio.ScanLines, 16, func(context.Context, []byte) error { return errStop })
	if err != errStop {
		t.Errorf("ScanFrames with a failing handler = %v, want the handler's error as it is", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
