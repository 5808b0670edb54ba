package ratelog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/intellivue"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/drivers/ratelog"
)

// TestDriverFloodsAreBounded decodes a flood of noise with each driver, as
// a gateway logs it (one bed, rate-limited, a clock that does not move):
// thousands of rejections write one line per reason, and Flush accounts
// for every other rejection in "suppressed".
func TestDriverFloodsAreBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(alphabet string, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		decode func(context.Context, io.Reader, drivers.Sink, drivers.Options) (drivers.Stats, error)
		input  []byte
		msg    string
	}{
		// Frame delimiters among random bytes: a bad frame every few bytes.
		{"intellivue", intellivue.Decode, noise("\xc0\xc1\x11\x01\x02\x7d\x00\xff", 200_000), "intellivue: rejected frame or message"},
		// Short lines of field-like noise.
		{"masimo", masimo.Decode, noise("SPO2=97 BPM%\r\n-", 200_000), "masimo: rejected line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			h := ratelog.New(slog.NewJSONHandler(&out, nil), ratelog.Options{Now: func() time.Time { return now }})
			log := slog.New(h).With("bed", "bed1")
			st, err := tc.decode(context.Background(), bytes.NewReader(tc.input), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }),
				drivers.Options{Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			written := strings.Count(out.String(), "\n")
			h.Flush(context.Background())
			var events int64
			reasons := map[string]bool{}
			for i, s := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var l struct {
					Msg        string `json:"msg"`
					Reason     string `json:"reason"`
					Suppressed int64  `json:"suppressed"`
				}
				if err := json.Unmarshal([]byte(s), &l); err != nil {
					t.Fatalf("log line %q: %v", s, err)
				}
				if l.Msg != tc.msg {
					t.Errorf("unexpected log line %q", s)
					continue
				}
				events += l.Suppressed
				if i < written {
					events++
					reasons[l.Reason] = true
				}
			}
			t.Logf("%d bytes of noise: %d rejected, %d lines written (%d reasons), every rejection accounted for: %v",
				len(tc.input), st.Bad, written, len(reasons), events == st.Bad)
			if st.Bad < 1000 {
				t.Fatalf("only %d rejections: the noise is no flood", st.Bad)
			}
			if written != len(reasons) {
				t.Errorf("%d lines written for %d reasons within one interval, want one per reason", written, len(reasons))
			}
			if events != st.Bad {
				t.Errorf("lines and suppressed counts add up to %d rejections, the decoder counted %d", events, st.Bad)
			}
		})
	}
}
