package conformancetest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Validators in the shared conformance folder.
const (
	FHIR = "validate-fhir" // FHIR R4 JSON, JSON Lines or MQTT payload dumps
	HL7  = "validate-hl7"  // HL7 v2.6 ORU^R01 messages against IHE PCD-01
)

// Validate runs validator (FHIR, HL7 or another program in the shared
// conformance folder) once over files and returns its output, with each
// file's directory removed from the file names it reports, and the number
// of problems its summary line counts.
//
// It skips the test when the shared folder or node is not available, runs
// the folder's setup first when the validator says setup has not been run
// (skipping the test if setup fails, as it does without the npm registry),
// and fails the test when the validator cannot run, prints no summary, or
// exits with a status its summary contradicts.
func Validate(t testing.TB, validator string, files ...string) (output string, problems int) {
	t.Helper()
	dir := Dir(t)
	tool := filepath.Join(dir, validator)
	if _, err := os.Stat(tool); err != nil {
		t.Skipf("conformance validator %s not found in %s (the shared folder next to the repository): %v", validator, dir, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH: the conformance validators need Node.js >= 20.19")
	}
	code, out := run(t, tool, files...)
	if code == 2 && strings.Contains(out, "setup") {
		t.Logf("%s asks for setup", validator)
		setup(t, dir)
		code, out = run(t, tool, files...)
	}
	if code == 2 {
		t.Fatalf("%s could not run (exit 2):\n%s", validator, out)
	}
	for _, f := range files {
		if d := filepath.Dir(f); d != "." {
			out = strings.ReplaceAll(out, d+string(filepath.Separator), "")
		}
	}
	problems, ok := summaryProblems(out)
	switch {
	case !ok:
		t.Fatalf("%s exit %d printed no summary line:\n%s", validator, code, out)
	case (code == 0) != (problems == 0) || code > 1:
		t.Fatalf("%s exit %d contradicts its summary of %d problems:\n%s", validator, code, problems, out)
	}
	return out, problems
}

// NodeModules returns the node_modules folder the shared conformance kit's
// setup installed (in the shared folder, or in the user's cache when the
// shared folder is read-only, as in CI), running setup first when needed.
// Tests use it to run npm packages nobody on this project wrote, such as
// node-hl7-client. It skips the test when the shared folder or Node.js is
// absent or setup fails.
func NodeModules(t testing.TB) string {
	t.Helper()
	dir := Dir(t)
	if _, err := os.Stat(filepath.Join(dir, "setup")); err != nil {
		t.Skipf("conformance setup not found in %s (the shared folder next to the repository): %v", dir, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH: the conformance kit needs Node.js >= 20.19")
	}
	setup(t, dir)
	code, out := run(t, "node", filepath.Join(dir, "lib", "deps.js"), "--check", "--verbose")
	const ok = "dependencies OK in "
	i := strings.Index(out, ok)
	if code != 0 || i < 0 {
		t.Fatalf("conformance dependencies do not load after setup (exit %d):\n%s", code, out)
	}
	return strings.TrimSpace(out[i+len(ok):])
}

// setup runs the shared folder's setup script (which returns at once when
// the install is current), one test process at a time: go test runs
// packages in parallel, and two npm installs into one folder would clash.
// It skips the test when setup fails, as it does without the npm registry.
func setup(t testing.TB, dir string) {
	t.Helper()
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "bedgate-conformance-setup.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("conformancetest: setup lock: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("conformancetest: setup lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	script := filepath.Join(dir, "setup")
	t.Logf("running %s", script)
	if c, o := run(t, script); c != 0 {
		t.Skipf("conformance setup failed (it needs the npm registry), exit %d:\n%s", c, o)
	}
}

// Dir returns the shared conformance folder, ../shared/conformance beside
// the root of the repository (the folder holding go.mod) that the test
// runs in. It skips the test when there is no such root.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("conformancetest: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "conformance")
		}
		if filepath.Dir(d) == d {
			t.Skipf("conformancetest: no go.mod above %s, so no shared conformance folder beside the repository", wd)
			return ""
		}
	}
}

// summary is the validators' last line, "N resources, M problems" or
// "N messages, 1 problem".
var summary = regexp.MustCompile(`^\d+ \w+, (\d+) problems?$`)

// summaryProblems reads the problem count from out's last non-empty line.
func summaryProblems(out string) (int, bool) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	m := summary.FindStringSubmatch(strings.TrimSpace(lines[len(lines)-1]))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// run runs name and returns its exit status and combined output.
func run(t testing.TB, name string, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("conformancetest: run %s: %v", name, err)
	return 0, ""
}
