package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	simmasimo "github.com/bedgate/bedgate/simulators/masimo"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// invoke runs the command in process and returns its output.
func invoke(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	err = run(t.Context(), args, stdin, &out, &errOut)
	return out.String(), errOut.String(), err
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, errOut, err := invoke(t, nil, arg)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if want := "bedgate " + version + "\n"; out != want {
			t.Errorf("%s: stdout %q, want %q", arg, out, want)
		}
		if errOut != "" {
			t.Errorf("%s: stderr %q, want nothing", arg, errOut)
		}
	}
}

func TestHelp(t *testing.T) {
	out, _, err := invoke(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"bedgate run", "bedgate decode", "bedgate config check", "bedgate version"} {
		if !strings.Contains(out, cmd) {
			t.Errorf("help does not mention %q:\n%s", cmd, out)
		}
	}
}

// TestCommandHelp: every command answers --help with its synopsis and exits
// 0 (flags on stderr, as the flag package does), and "help COMMAND" prints
// the same on stdout.
func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			want := "usage: bedgate " + c.synopsis
			args := []string{c.name, "--help"}
			if c.name == "config" {
				args = []string{"config", "check", "--help"}
			}
			out, errOut, err := invoke(t, nil, args...)
			if err != nil {
				t.Fatalf("%q = %v, want exit 0", args, err)
			}
			if c.name != "help" && !strings.Contains(out+errOut, want) {
				t.Errorf("%q printed %q%q, want %q", args, out, errOut, want)
			}
			out, errOut, err = invoke(t, nil, "help", c.name)
			if err != nil || errOut != "" {
				t.Fatalf("help %s = %v, stderr %q", c.name, err, errOut)
			}
			if c.name != "help" && !strings.HasPrefix(out, want+"\n") {
				t.Errorf("help %s printed %q, want it to start with %q", c.name, out, want)
			}
		})
	}
}

// TestUsageErrors checks every command-line mistake that is caught before
// anything starts: each error wraps errUsage (exit status 2) and says what
// is wrong.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      []string // substrings of the error
		wantUsage bool     // the usage text is printed on stderr
	}{
		{"no command", nil, []string{"no command"}, true},
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`}, true},
		{"config without check", []string{"config"}, []string{"check FILE"}, false},
		{"config other subcommand", []string{"config", "lint", "x.yaml"}, []string{"check FILE"}, false},
		{"config check without file", []string{"config", "check"}, []string{"exactly one FILE"}, false},
		{"config check two files", []string{"config", "check", "a.yaml", "b.yaml"}, []string{"exactly one FILE"}, false},
		{"run without config", []string{"run"}, []string{"--config FILE is required"}, false},
		{"run unknown flag", []string{"run", "--bogus"}, []string{"run:", "bogus"}, false},
		{"decode without driver", []string{"decode", "capture.txt"}, []string{"--driver is required", "masimo"}, false},
		{"decode unknown driver", []string{"decode", "--driver", "philips", "capture.txt"}, []string{`unknown driver "philips"`, "masimo"}, false},
		{"decode two files", []string{"decode", "--driver", "masimo", "a.txt", "b.txt"}, []string{"at most one FILE"}, false},
		{"version with an argument", []string{"version", "now"}, []string{"version takes no arguments"}, false},
		{"help for an unknown command", []string{"help", "frobnicate"}, []string{`unknown command "frobnicate"`}, false},
		{"help for two commands", []string{"help", "run", "demo"}, []string{"at most one COMMAND"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, err := invoke(t, nil, tt.args...)
			if !errors.Is(err, errUsage) {
				t.Fatalf("run %q = %v, want an error wrapping errUsage", tt.args, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("run %q = %q, want it to contain %q", tt.args, err, w)
				}
			}
			if tt.wantUsage && !strings.Contains(errOut, "usage:") {
				t.Errorf("run %q: stderr %q, want the usage text", tt.args, errOut)
			}
		})
	}
}

func TestConfigCheckShippedConfigs(t *testing.T) {
	tests := []struct {
		path    string
		gateway string
		beds    int
		broker  string
	}{
		{"../../configs/ward-example.yaml", "rxh-ward7-gw01", 3, "ssl://epr-broker.example.nhs.uk:8883"},
		{"../../configs/demo.yaml", "demo-gw", 3, "tcp://127.0.0.1:1883"},
	}
	for _, tt := range tests {
		out, _, err := invoke(t, nil, "config", "check", tt.path)
		if err != nil {
			t.Errorf("config check %s: %v", tt.path, err)
			continue
		}
		want := tt.path + ": ok: gateway " + tt.gateway + ", " + strconv.Itoa(tt.beds) + " beds, broker " + tt.broker + "\n"
		if out != want {
			t.Errorf("config check %s: stdout %q, want %q", tt.path, out, want)
		}
	}
}

// badConfig has a problem in almost every section.
const badConfig = `gateway:
  id: "ward 7 gateway"
  site: rxh
  ward: ward7
  format: xml
  device_timezone: Mars/Olympus_Mons
mqtt:
  broker: tcp://epr-broker.example.nhs.uk:1883
  keepalive: 0s
  window: 0
buffer:
  max_bytes: 1024
  max_age: 30s
beds:
  - name: bed01
    driver: philips
    port: ttyUSB0
  - name: bed01
    driver: masimo
    port: /dev/ttyUSB1
    stop_bits: 3
    parity: mark
    nhs_number: "1234567890"
`

// badConfigKeys are the keys badConfig gets wrong.
var badConfigKeys = []string{
	"gateway.id", "gateway.format", "gateway.device_timezone",
	"mqtt.broker", "mqtt.keepalive", "mqtt.window",
	"buffer.max_bytes", "buffer.max_age",
	"beds[0].driver", "beds[0].port",
	"beds[1].name", "beds[1].stop_bits", "beds[1].parity", "beds[1].nhs_number",
}

func TestConfigCheckNamesEveryBadKey(t *testing.T) {
	path := writeFile(t, "bad.yaml", badConfig)
	out, _, err := invoke(t, nil, "config", "check", path)
	if err == nil {
		t.Fatalf("config check of a bad file succeeded: %q", out)
	}
	if errors.Is(err, errUsage) {
		t.Errorf("a bad configuration is a usage error (exit 2), want exit 1: %v", err)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("the error does not name the file %s:\n%s", path, msg)
	}
	for _, key := range badConfigKeys {
		if !strings.Contains(msg, key+": ") {
			t.Errorf("the error does not name %s:\n%s", key, msg)
		}
	}
	for _, good := range []string{"gateway.site", "gateway.ward", "beds[0].name", "beds[1].driver", "beds[1].port"} {
		if strings.Contains(msg, good+": ") {
			t.Errorf("the error names %s, which is valid:\n%s", good, msg)
		}
	}
}

func TestConfigCheckUnreadable(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		content string
	}{
		{"missing file", filepath.Join(t.TempDir(), "absent.yaml"), ""},
		{"not YAML", "", "gateway: [unterminated\n"},
		{"unknown key", "", "gateway:\n  id: gw\n  colour: blue\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = writeFile(t, "c.yaml", tt.content)
			}
			_, _, err := invoke(t, nil, "config", "check", path)
			if err == nil || errors.Is(err, errUsage) {
				t.Fatalf("config check %s = %v, want a non-usage error", path, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{"bad values", writeFile(t, "bad.yaml", badConfig), "mqtt.keepalive"},
		{"missing file", filepath.Join(t.TempDir(), "absent.yaml"), "absent.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := invoke(t, nil, "run", "--config", tt.path)
			if err == nil || errors.Is(err, errUsage) {
				t.Fatalf("run --config %s = %v, want a non-usage error", tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run --config %s = %q, want it to contain %q", tt.path, err, tt.want)
			}
		})
	}
	// A bad log level is refused before the configuration is read.
	_, _, err := invoke(t, nil, "run", "--config", filepath.Join(t.TempDir(), "absent.yaml"), "--log-level", "chatty")
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `"chatty"`) {
		t.Errorf("run --log-level chatty = %v, want a usage error naming the level", err)
	}
}

// capture is what a Masimo Radical-7 sends for a few seconds of a scenario,
// produced with the simulator, and the readings it meant.
func capture(t *testing.T) ([]byte, []drivers.Reading) {
	t.Helper()
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	vitals := []scenario.Vitals{
		{SpO2: 97, PulseRate: 72, PerfusionIndex: 1.27},
		{SpO2: 91.6, PulseRate: 118.4, PerfusionIndex: 0.4, Artefact: true},
		{SensorOff: true},
	}
	var buf bytes.Buffer
	var meant []drivers.Reading
	for i, v := range vitals {
		r := simmasimo.MeantReading(start.Add(time.Duration(i)*time.Second), simmasimo.DefaultSerial, v)
		line, err := simmasimo.FormatLine(r)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(line)
		meant = append(meant, r)
		if i == 0 {
			buf.WriteString("\x00\x13garbage from a cable being plugged in\r\n")
		}
	}
	return buf.Bytes(), meant
}

// decodedLine is one line of "bedgate decode" as a consumer reads it.
type decodedLine struct {
	DeviceTime   *time.Time       `json:"device_time"`
	Device       drivers.DeviceID `json:"device"`
	Values       []drivers.Value  `json:"values"`
	DeviceStatus string           `json:"device_status"`
}

var summary = regexp.MustCompile(`decode: (\d+) readings, (\d+) frames, (\d+) rejected, (\d+) bytes skipped`)

func TestDecode(t *testing.T) {
	data, meant := capture(t)
	file := writeFile(t, "capture.txt", string(data))
	tests := []struct {
		name  string
		args  []string
		stdin io.Reader
	}{
		{"file", []string{"decode", "--driver", "masimo", file}, nil},
		{"stdin with -", []string{"decode", "--driver", "masimo", "-"}, bytes.NewReader(data)},
		{"stdin without FILE", []string{"decode", "--driver=masimo"}, bytes.NewReader(data)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := invoke(t, tt.stdin, tt.args...)
			if err != nil {
				t.Fatalf("decode: %v\nstderr: %s", err, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(meant) {
				t.Fatalf("decode printed %d lines, want %d:\n%s", len(lines), len(meant), out)
			}
			for i, line := range lines {
				checkDecodedLine(t, line, meant[i])
			}
			m := summary.FindStringSubmatch(errOut)
			if m == nil {
				t.Fatalf("stderr has no summary:\n%s", errOut)
			}
			if m[1] != strconv.Itoa(len(meant)) || m[3] != "1" {
				t.Errorf("summary %q: want %d readings and 1 rejected", m[0], len(meant))
			}
		})
	}
}

// checkDecodedLine compares one JSON line with the reading the simulator
// meant, and checks the documented shape of the JSON.
func checkDecodedLine(t *testing.T, line string, want drivers.Reading) {
	t.Helper()
	var got decodedLine
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("line %s: %v", line, err)
	}
	if got.DeviceTime == nil || !got.DeviceTime.Equal(want.DeviceTime) {
		t.Errorf("line %s: device_time %v, want %v", line, got.DeviceTime, want.DeviceTime)
	}
	if got.Device != want.Device {
		t.Errorf("line %s: device %+v, want %+v", line, got.Device, want.Device)
	}
	if got.DeviceStatus != want.DeviceStatus {
		t.Errorf("line %s: device_status %q, want %q", line, got.DeviceStatus, want.DeviceStatus)
	}
	if len(got.Values) != len(want.Values) {
		t.Fatalf("line %s: %d values, want %d", line, len(got.Values), len(want.Values))
	}
	for i, v := range got.Values {
		w := want.Values[i]
		if v.MDC != w.MDC || v.Ref != w.Ref || v.Label != w.Label || v.Unit != w.Unit || v.Status != w.Status ||
			(v.Value == nil) != (w.Value == nil) || v.Value != nil && *v.Value != *w.Value {
			t.Errorf("line %s: value %d = %+v, want %+v", line, i, v, w)
		}
	}

	// The raw shape: a number or null under "value", the status as text,
	// and no receive time (a capture has none).
	var raw struct {
		DeviceTime string                       `json:"device_time"`
		Values     []map[string]json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, raw.DeviceTime); err != nil {
		t.Errorf("line %s: device_time is not RFC 3339: %v", line, err)
	}
	if strings.Contains(line, "received_at") {
		t.Errorf("line %s has a received_at", line)
	}
	for i, v := range raw.Values {
		for _, key := range []string{"mdc", "value", "unit", "status"} {
			if _, ok := v[key]; !ok {
				t.Errorf("line %s: value %d has no %q", line, i, key)
			}
		}
		w := want.Values[i]
		wantValue := "null"
		if w.Value != nil {
			wantValue = strconv.FormatFloat(*w.Value, 'f', -1, 64)
		}
		if got := string(v["value"]); got != wantValue {
			t.Errorf("line %s: value %d is %s, want %s", line, i, got, wantValue)
		}
		if got, want := string(v["status"]), strconv.Quote(w.Status.String()); got != want {
			t.Errorf("line %s: status %d is %s, want %s", line, i, got, want)
		}
	}
}

// TestDecodeFirstValue pins the README's example of one value.
func TestDecodeFirstValue(t *testing.T) {
	data, _ := capture(t)
	out, _, err := invoke(t, bytes.NewReader(data), "decode", "--driver", "masimo", "-")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out, "\n")
	for _, want := range []string{
		`"device_time":"2026-11-26T10:00:00Z"`,
		`"device":{"driver":"masimo","serial":"` + simmasimo.DefaultSerial + `"}`,
		`{"mdc":150456,"ref":"MDC_PULS_OXIM_SAT_O2",`,
		`"value":97,"unit":"%","status":"ok"}`,
		`"value":null,"unit":"%","status":"unavailable"}`, // SPCO sent as dashes
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first line does not contain %s:\n%s", want, first)
		}
	}
}

func TestDecodeMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-capture.txt")
	out, _, err := invoke(t, nil, "decode", "--driver", "masimo", path)
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("decode of a missing file = %v, want a non-usage error", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("decode of a missing file = %q, want a not-exist error naming the path", err)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
}

func TestDecodeEmptyAndTruncated(t *testing.T) {
	data, meant := capture(t)
	tests := []struct {
		name         string
		input        []byte
		wantReadings int
		wantRejected string
	}{
		{"empty input", nil, 0, "0"},
		{"capture ends inside a line", data[:len(data)-20], len(meant) - 1, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := invoke(t, bytes.NewReader(tt.input), "decode", "--driver", "masimo")
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if n := strings.Count(out, "\n"); n != tt.wantReadings {
				t.Errorf("decode printed %d lines, want %d", n, tt.wantReadings)
			}
			m := summary.FindStringSubmatch(errOut)
			if m == nil || m[1] != strconv.Itoa(tt.wantReadings) || m[3] != tt.wantRejected {
				t.Errorf("summary %q, want %d readings and %s rejected", m, tt.wantReadings, tt.wantRejected)
			}
		})
	}
}

// TestProductionBinaryLinksNoSimulators: bedgate, the program a ward box
// runs, links neither the simulators nor the demo's embedded broker; they
// live in bedsim and bedgate-demo.
func TestProductionBinaryLinksNoSimulators(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/bedgate/bedgate/simulators") || pkg == "github.com/bedgate/bedgate/gateway/demo" ||
			strings.HasPrefix(pkg, "github.com/mochi-mqtt/") || strings.HasPrefix(pkg, "github.com/nats-io/nats-server") {
			t.Errorf("bedgate links %s", pkg)
		}
	}
}
