package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/news2"
)

// TestRanges: every duration, size and rate outside its sane range is
// refused, naming the key, the range and the reason; values at the edges
// pass.
func TestRanges(t *testing.T) {
	mqtt := func(line string) func(string) string {
		return func(s string) string { return strings.Replace(s, "plaintext: true", "plaintext: true\n  "+line, 1) }
	}
	section := func(body string) func(string) string {
		return func(s string) string { return strings.Replace(s, "beds:", body+"\nbeds:", 1) }
	}
	baud := func(v string) func(string) string {
		return func(s string) string { return strings.Replace(s, "baud: 19200", "baud: "+v, 1) }
	}
	tests := []struct {
		name string
		edit func(string) string
		want []string // nil: valid
	}{
		{"keepalive at the MQTT limit", mqtt("keepalive: 65535s"), nil},
		{"keepalive past the 16-bit field", mqtt("keepalive: 65536s"), []string{"mqtt.keepalive", "18h12m16s", "16-bit"}},
		{"keepalive under a second", mqtt("keepalive: 500ms"), []string{"mqtt.keepalive", "between 1s and"}},
		{"window past packet identifiers", mqtt("window: 65536"), []string{"mqtt.window", "16-bit packet identifiers"}},
		{"window at its largest", mqtt("window: 1024"), nil},
		{"window sharing identifiers with the statuses", mqtt("window: 1025"), []string{"mqtt.window", "1025", "1024", "retained statuses"}},
		{"backlog_rate unlimited", mqtt("backlog_rate: 0"), nil},
		{"backlog_rate of one a second", mqtt("backlog_rate: 1"), nil},
		{"backlog_rate a trickle", mqtt("backlog_rate: 0.0001"), []string{"mqtt.backlog_rate", "0.0001", "drains slower"}},
		{"backlog_rate negative", mqtt("backlog_rate: -5"), []string{"mqtt.backlog_rate"}},
		{"max_bytes at its largest", section("buffer:\n  max_bytes: 17179869184"), nil},
		{"max_bytes of int64", section("buffer:\n  max_bytes: 9223372036854775807"), []string{"buffer.max_bytes", "9223372036854775807", "memory"}},
		{"max_bytes tiny", section("buffer:\n  max_bytes: 1000"), []string{"buffer.max_bytes", "1048576"}},
		{"max_age of a year", section("buffer:\n  max_age: 8760h"), []string{"buffer.max_age", "720h0m0s", "30 days late"}},
		{"max_age under a minute", section("buffer:\n  max_age: 30s"), []string{"buffer.max_age"}},
		{"hold_for of centuries", section("association:\n  policy: hold\n  hold_for: 2562047h"), []string{"association.hold_for", "2562047h", "go out late"}},
		{"hold_for of an hour", section("association:\n  policy: hold\n  hold_for: 1h"), nil},
		{"max_clock_offset of a week", section("validation:\n  max_clock_offset: 168h"), []string{"validation.max_clock_offset", "wrong, not drifting"}},
		{"news2 windows per input", section("news2:\n  windows:\n    systolic_bp: 2h\n    spo2: 5m"), nil},
		{"news2 window of an unknown input", section("news2:\n  windows:\n    blood_sugar: 1h"), []string{"news2.windows.blood_sugar", "not a NEWS2 input", "systolic_bp"}},
		{"news2 window of a week", section("news2:\n  windows:\n    temperature: 168h"), []string{"news2.windows.temperature", "168h0m0s", "between 1m and 24h"}},
		{"news2 window of seconds", section("news2:\n  windows:\n    respiration: 10s"), []string{"news2.windows.respiration", "10s", "between 1m and 24h"}},
		{"max_measurement_age of two hours", section("validation:\n  max_measurement_age: 2h"), nil},
		{"max_measurement_age of two days", section("validation:\n  max_measurement_age: 48h"), []string{"validation.max_measurement_age", "48h0m0s", "not a current observation"}},
		{"max_measurement_age of seconds", section("validation:\n  max_measurement_age: 30s"), []string{"validation.max_measurement_age", "between 1m0s and"}},
		{"baud of 99999999", baud("99999999"), []string{"beds[1].baud", "99999999", "4000000", "termios"}},
		{"baud negative", baud("-9600"), []string{"beds[1].baud"}},
		{"baud of 921600", baud("921600"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.edit(goodYAML)), []string{"masimo"})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			wantMentions(t, err, tt.want)
		})
	}
}

// TestSecretWarnings: a key or password file others can read is a warning
// naming the key, the file and the chmod that fixes it; 0600 and 0400 are
// not.
func TestSecretWarnings(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"owner only", 0o600, false},
		{"owner read-only", 0o400, false},
		{"group readable", 0o640, true},
		{"world readable", 0o644, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".key")
			pw := key + ".password"
			for _, f := range []string{key, pw} {
				if err := os.WriteFile(f, []byte("secret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(f, tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			c := Config{MQTT: MQTT{KeyFile: key, PasswordFile: pw}}
			got := c.SecretWarnings()
			if !tt.warn {
				if len(got) != 0 {
					t.Errorf("warnings %q for mode %#o", got, tt.mode)
				}
				return
			}
			if len(got) != 2 {
				t.Fatalf("warnings %q, want one for each file", got)
			}
			for i, f := range []struct{ key, path string }{{"mqtt.key_file", key}, {"mqtt.password_file", pw}} {
				for _, w := range []string{f.key, "readable by group or others", "chmod 600 " + f.path} {
					if !strings.Contains(got[i], w) {
						t.Errorf("warning %q does not mention %q", got[i], w)
					}
				}
			}
		})
	}
}

// TestNEWS2InputWindows: news2.windows overrides the default windows per
// input; the others keep theirs (news2.window, or an hour for systolic
// pressure and temperature).
func TestNEWS2InputWindows(t *testing.T) {
	c, err := Load(writeConfig(t, goodYAML+"news2:\n  window: 20m\n  windows:\n    systolic_bp: 2h\n    spo2: 5m\n"), []string{"masimo"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.NEWS2.InputWindows()
	want := news2.Windows{SpO2: 5 * time.Minute, SystolicBP: 2 * time.Hour, Temperature: time.Hour}
	if got != want || c.NEWS2.Window != 20*time.Minute {
		t.Errorf("windows %+v (window %v), want %+v (20m for the rest)", got, c.NEWS2.Window, want)
	}
	d, err := Load(writeConfig(t, goodYAML), []string{"masimo"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.NEWS2.InputWindows(); got != news2.DefaultWindows() {
		t.Errorf("default windows %+v, want %+v", got, news2.DefaultWindows())
	}
}
