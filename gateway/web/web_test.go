package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/stats"
)

// fixedSnapshot is a gateway with one connected bed and a link that is up
// unless down is set.
func fixedSnapshot(down bool) stats.Snapshot {
	spo2 := 97.0
	return stats.Snapshot{
		Gateway: "gw1", Site: "s", Ward: "w", Version: "v1.2.3", Time: time.Now(),
		Outbox: stats.Outbox{Open: true, Entries: 3, Bytes: 900, MaxBytes: 1000, OldestAge: stats.Duration(10 * time.Minute),
			Dropped: map[string]uint64{"full": 0, "age": 2}},
		Link: stats.Link{Connected: !down, Reconnects: 1, LastError: "connection refused"},
		Readings: stats.Readings{Read: 5, Stored: map[string]int64{"obs": 4, "rejected": 1, "news2": 0},
			Quarantined: map[string]uint64{"implausible-high": 1}, Repeats: 90},
		Beds: []stats.Bed{{Name: "bed1", Driver: "masimo", State: stats.Connected, Readings: 5, Admitted: true,
			Vitals:      []stats.Vital{{Key: stats.KeySpO2, Label: "SpO2", Value: &spo2, Unit: "%"}},
			Quarantined: map[string]uint64{"implausible-high": 1}}},
		MLLP: &stats.MLLP{Connections: 2, Messages: 9, AA: 6, AE: 2, AR: 1, Duplicates: 1},
	}
}

func get(t *testing.T, h http.Handler, path string, header http.Header) (int, string) {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	if header != nil {
		r.Header = header
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	for _, tt := range []struct {
		name      string
		down      bool
		wantReady int
		wantText  string
	}{
		{"connected", false, 200, "ready"},
		{"broker away, old backlog", true, 503, "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(Options{Snapshot: func() stats.Snapshot { return fixedSnapshot(tt.down) }, Metrics: NewMetrics(func() stats.Snapshot { return fixedSnapshot(tt.down) })})
			if code, body := get(t, h, "/healthz", nil); code != 200 || body != "ok\n" {
				t.Errorf("/healthz = %d %q", code, body)
			}
			code, body := get(t, h, "/readyz", nil)
			if code != tt.wantReady || !strings.Contains(body, tt.wantText) {
				t.Errorf("/readyz = %d %q, want %d mentioning %q", code, body, tt.wantReady, tt.wantText)
			}
			code, body = get(t, h, "/status.json", nil)
			var st Status
			if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
				t.Fatalf("/status.json = %d %v", code, err)
			}
			if st.Ready == tt.down || st.Gateway != "gw1" || len(st.Beds) != 1 || !st.Beds[0].Admitted {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestToken(t *testing.T) {
	snap := func() stats.Snapshot { return fixedSnapshot(false) }
	h := Handler(Options{Snapshot: snap, Metrics: NewMetrics(snap), Token: "t0ken"})
	for _, tt := range []struct {
		path, auth string
		want       int
	}{
		{"/", "", 401},
		{"/status.json", "Bearer wrong", 401},
		{"/metrics", "", 401},
		{"/metrics", "Bearer t0ken", 200},
		{"/", "Basic " + basic("nurse", "t0ken"), 200},
		{"/status.json", "Basic " + basic("nurse", "nope"), 401},
		{"/healthz", "", 200},
		{"/readyz", "", 200},
	} {
		header := http.Header{}
		if tt.auth != "" {
			header.Set("Authorization", tt.auth)
		}
		if code, _ := get(t, h, tt.path, header); code != tt.want {
			t.Errorf("%s with %q: %d, want %d", tt.path, tt.auth, code, tt.want)
		}
	}
}

func basic(user, pw string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestPageIsSelfContained checks that the page loads nothing from
// elsewhere: no URL but the SVG namespace, no external script or style.
func TestPageIsSelfContained(t *testing.T) {
	snap := func() stats.Snapshot { return fixedSnapshot(false) }
	code, body := get(t, Handler(Options{Snapshot: snap, Metrics: NewMetrics(snap)}), "/", nil)
	if code != 200 || !strings.Contains(body, "status.json") {
		t.Fatalf("/ = %d", code)
	}
	for _, u := range regexp.MustCompile(`https?://[^"'\s)]+`).FindAllString(body, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("the page refers to %s", u)
		}
	}
	if regexp.MustCompile(`<(script|link)[^>]+(src|href)=`).MatchString(body) {
		t.Error("the page loads an external script or style sheet")
	}
}

func TestMetricsFamilies(t *testing.T) {
	snap := func() stats.Snapshot { return fixedSnapshot(false) }
	m := NewMetrics(snap)
	m.ObservePublishLatency(3 * time.Millisecond)
	code, body := get(t, Handler(Options{Snapshot: snap, Metrics: m}), "/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`bedgate_readings_read_total{bed="bed1"} 5`,
		`bedgate_records_stored_total{kind="obs"} 4`,
		`bedgate_values_quarantined_total{bed="bed1",reason="implausible-high"} 1`,
		`bedgate_values_repeated_total 90`,
		`bedgate_outbox_bytes 900`,
		`bedgate_outbox_oldest_age_seconds 600`,
		`bedgate_outbox_dropped_total{reason="age"} 2`,
		`bedgate_publish_latency_seconds_bucket{le="0.004"} 1`,
		`bedgate_publish_latency_seconds_count 1`,
		`bedgate_device_state{bed="bed1",state="connected"} 1`,
		`bedgate_device_state{bed="bed1",state="port-missing"} 0`,
		`bedgate_broker_reconnects_total 1`,
		`bedgate_bed_patient_admitted{bed="bed1"} 1`,
		`bedgate_build_info{gateway="gw1",version="v1.2.3"} 1`,
		`bedgate_mllp_acks_total{code="AE"} 2`,
		`bedgate_mllp_duplicates_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
