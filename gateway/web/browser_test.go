//go:build linux

package web_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/stats"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// screenshotEnv names the file the browser test writes its screenshot to;
// the default is bedgate-status-page.png in the system's temporary
// directory.
const screenshotEnv = "BEDGATE_SCREENSHOT"

// tile is a bed's tile as the browser shows it.
type tile struct {
	Bed    string            `json:"bed"`
	State  string            `json:"state"`
	Reason string            `json:"reason"`
	Age    string            `json:"age"`
	Vitals map[string]string `json:"vitals"` // key → "value|flag"
	Off    []string          `json:"off"`    // keys of vitals marked sensor-off
}

// readTiles is evaluated in the page: every tile's state, reason, reading
// age and vitals, as the DOM has them now.
const readTiles = `JSON.stringify([...document.querySelectorAll("[data-bed]")].map(t => ({
  bed: t.dataset.bed,
  state: t.querySelector("[data-field=state]").textContent,
  reason: t.querySelector("[data-field=reason]").textContent,
  age: t.querySelector("[data-field=age]").textContent,
  vitals: Object.fromEntries([...t.querySelectorAll("[data-vital]")].map(v =>
    [v.dataset.vital, v.querySelector(".value").textContent + "|" + ((v.querySelector(".flag") || {}).textContent || "")])),
  off: [...t.querySelectorAll(".vital.sensor-off")].map(v => v.dataset.vital),
})))`

// TestStatusPageInChromium loads the status page in headless Chromium
// against a running gateway: bed1 a stable simulated Masimo, bed2 a Masimo
// whose sensor the test takes off, bed3 a port that does not exist. The DOM
// shows each bed's state (bed3 port-missing with the error) and values
// equal to the gateway's snapshot; when bed2's sensor comes off its tile
// says so within 3 s, by the page's own polling. A screenshot is written
// for people (see screenshotEnv).
func TestStatusPageInChromium(t *testing.T) {
	browser := findChromium(t)
	broker := brokertest.Start(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stable := simtest.OpenPTY(t)
	context.AfterFunc(ctx, simtest.Run(t, "masimo", stable, simulators.Options{Scenario: "stable", Serial: "S0001", Seed: 1}))
	// bed2's clock can be moved forward: the scenario's time with it.
	var skip atomic.Int64
	offPTY := simtest.OpenPTY(t)
	simStart := time.Now()
	context.AfterFunc(ctx, simtest.Run(t, "masimo", offPTY, simulators.Options{Scenario: "sensor-off", Serial: "S0002", Seed: 2,
		Now: func() time.Time { return time.Now().UTC().Add(time.Duration(skip.Load())) }}))

	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Gateway.ID, cfg.Gateway.Site, cfg.Gateway.Ward, cfg.Gateway.DataDir = "gw-browser", "s", "w", t.TempDir()
	cfg.MQTT.Broker, cfg.MQTT.Plaintext, cfg.MQTT.ClientID = broker.URL(), true, "bedgate-gw-browser"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Validation.MaxClockOffset = 24 * time.Hour // bed2's clock is moved forward
	cfg.Beds = []config.Bed{
		{Name: "bed1", Driver: "masimo", Port: stable.Path(), NHSNumber: "9434765919"},
		{Name: "bed2", Driver: "masimo", Port: offPTY.Path()},
		{Name: "bed3", Driver: "masimo", Port: filepath.Join(t.TempDir(), "ttyUSB-unplugged")},
	}
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(reg.Names()); err != nil {
		t.Fatal(err)
	}
	started := make(chan *gateway.Gateway, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, gateway.Options{Config: &cfg, Drivers: reg, Logger: slog.New(slog.DiscardHandler), Version: "browser-test",
			OnStart: func(g *gateway.Gateway) { started <- g }})
	}()
	var g *gateway.Gateway
	select {
	case g = <-started:
	case err := <-done:
		t.Fatalf("gateway: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not start within 10 s")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	url := "http://" + g.HTTPAddr() + "/"

	page := openPage(t, browser, url)
	var tiles map[string]tile
	waitDOM := func(what string, within time.Duration, cond func(map[string]tile) bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			tiles = page.tiles(t)
			if cond(tiles) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page shows no %s within %v: %+v", what, within, tiles)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitDOM("bed1 and bed2 connected with values, bed3 port-missing", 20*time.Second, func(ts map[string]tile) bool {
		return ts["bed1"].State == "connected" && ts["bed2"].State == "connected" && ts["bed3"].State == "port-missing" &&
			number(ts["bed1"].Vitals["spo2"]) > 0 && number(ts["bed2"].Vitals["pulse"]) > 0
	})
	if r := tiles["bed3"].Reason; !strings.Contains(r, "no such device") || !strings.Contains(r, "retrying every") {
		t.Errorf("bed3's reason %q: want the missing device and the retry interval", r)
	}
	if a := tiles["bed1"].Age; !strings.HasSuffix(a, " s ago") {
		t.Errorf("bed1's last reading %q, want seconds ago", a)
	}
	// The values the page shows are the gateway's: each equals the
	// snapshot's latest, or the one before it (a reading per second).
	for _, bed := range []string{"bed1", "bed2"} {
		for _, key := range []string{stats.KeySpO2, stats.KeyPulse} {
			shown := number(tiles[bed].Vitals[key])
			if now := snapshotValue(g.Stats(), bed, key); shown < 1 || abs(shown-now) > 3 {
				t.Errorf("%s %s: the page shows %v, the gateway has %v", bed, key, shown, now)
			}
		}
	}
	body, err := page.eval("document.body.innerText")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "9434765919") || !strings.Contains(body, "patient admitted: yes") {
		t.Errorf("the page must show that bed1 has a patient, never the NHS number:\n%s", body)
	}

	// Take bed2's sensor off: move its scenario into the sensor-off window.
	eng, err := scenario.New("sensor-off", 2)
	if err != nil {
		t.Fatal(err)
	}
	var offAt time.Duration
	for offAt = 0; !eng.At(offAt).SensorOff; offAt += time.Second {
	}
	skip.Store(int64(offAt + 5*time.Second - time.Since(simStart)))
	off := time.Now()
	waitDOM("bed2's sensor off", 3*time.Second, func(ts map[string]tile) bool {
		return strings.Contains(strings.Join(ts["bed2"].Off, ","), "spo2") && strings.HasPrefix(ts["bed2"].Vitals["spo2"], "—|sensor off")
	})
	t.Logf("bed2's tile showed the sensor off %v after it came off", time.Since(off).Round(10*time.Millisecond))
	if ts := tiles["bed1"]; len(ts.Off) != 0 || ts.State != "connected" {
		t.Errorf("bed1 changed with bed2: %+v", ts)
	}

	shot := os.Getenv(screenshotEnv)
	if shot == "" {
		shot = filepath.Join(os.TempDir(), "bedgate-status-page.png")
	}
	page.screenshot(t, shot)
	t.Logf("screenshot: %s", shot)
}

func number(vital string) float64 {
	v, err := strconv.ParseFloat(strings.SplitN(vital, "|", 2)[0], 64)
	if err != nil {
		return -1
	}
	return v
}

func abs(x float64) float64 { return max(x, -x) }

func snapshotValue(s stats.Snapshot, bed, key string) float64 {
	for _, b := range s.Beds {
		for _, v := range b.Vitals {
			if b.Name == bed && v.Key == key && v.Value != nil {
				return *v.Value
			}
		}
	}
	return -1
}

// findChromium returns Debian's chromium, or skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install -y chromium): the status page is not tested in a browser")
	return ""
}

// page is a page in a headless Chromium, driven over the DevTools protocol.
type page struct {
	conn *websocket.Conn
	id   int
}

// openPage starts headless Chromium on url and connects to its page; both
// end with the test.
func openPage(t *testing.T, browser, url string) *page {
	t.Helper()
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=1400,1000", "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`DevTools listening on ws://([^/]+)/`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var host string
	select {
	case host = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not open its DevTools port within 30 s")
	}
	resp, err := http.Get("http://" + host + "/json/list")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var targets []struct{ Type, WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Type != "page" {
			continue
		}
		conn, _, err := websocket.DefaultDialer.Dial(tg.WebSocketDebuggerURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		p := &page{conn: conn}
		if err := p.call("Page.navigate", map[string]any{"url": url}, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Fatalf("chromium has no page target: %+v", targets)
	return nil
}

// call sends a DevTools command and decodes its result into result.
func (p *page) call(method string, params any, result any) error {
	p.id++
	deadline := time.Now().Add(20 * time.Second)
	p.conn.SetWriteDeadline(deadline)
	p.conn.SetReadDeadline(deadline)
	if err := p.conn.WriteJSON(map[string]any{"id": p.id, "method": method, "params": params}); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for {
		var m struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := p.conn.ReadJSON(&m); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != p.id {
			continue // an event
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	}
}

// eval evaluates a JavaScript expression with a string value in the page;
// it fails while the page is loading.
func (p *page) eval(expr string) (string, error) {
	var r struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		return "", err
	}
	if r.ExceptionDetails != nil {
		return "", fmt.Errorf("%s", r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// tiles reads the bed tiles from the DOM (none before the page has
// loaded).
func (p *page) tiles(t *testing.T) map[string]tile {
	t.Helper()
	text, err := p.eval(readTiles)
	out := map[string]tile{}
	if err != nil || text == "" {
		return out
	}
	var list []tile
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		t.Fatalf("tiles %q: %v", text, err)
	}
	for _, tl := range list {
		out[tl.Bed] = tl
	}
	return out
}

// screenshot writes a PNG of the page as it is now.
func (p *page) screenshot(t *testing.T, path string) {
	t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &r); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
