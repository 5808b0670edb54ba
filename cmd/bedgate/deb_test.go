package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestDebInstalls builds the Debian package with `make deb`, installs it
// with dpkg into a throw-away root (maintainer scripts run outside a
// chroot, with DPKG_ROOT set), and checks what a ward box gets: the files
// and their modes, the bedgate user in dialout owning its data directory,
// an installed binary that runs and passes `config check` on the example
// configuration, a unit that starts that binary, and a changed
// configuration kept when the package is installed again.
func TestDebInstalls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installing a package into a throw-away root needs root (CI runs as root)")
	}
	for _, tool := range []string{"dpkg", "make", "systemd-sysusers"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "-C", repo, "deb").CombinedOutput()
	if err != nil {
		t.Fatalf("make deb: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`created package: (\S+\.deb)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("make deb named no package:\n%s", out)
	}
	deb := filepath.Join(repo, string(m[1]))

	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	install := func() {
		t.Helper()
		// systemd is what the package depends on; the throw-away root has
		// none.
		cmd := exec.Command("dpkg", "--root="+root, "--force-script-chrootless", "--force-depends", "--log=/dev/null", "-i", deb)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg -i: %v\n%s", err, out)
		}
	}
	install()

	for path, mode := range map[string]os.FileMode{
		"usr/bin/bedgate":                              0o755,
		"usr/lib/systemd/system/bedgate.service":       0o644,
		"usr/lib/sysusers.d/bedgate.conf":              0o644,
		"usr/lib/udev/rules.d/99-bedgate-serial.rules": 0o644,
		"etc/bedgate/bedgate.yaml":                     0o640,
		"var/lib/bedgate":                              0o750 | os.ModeDir,
	} {
		info, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if got := info.Mode() & (os.ModePerm | os.ModeDir); got != mode {
			t.Errorf("/%s has mode %v, want %v", path, got, mode)
		}
	}

	uid, gid := lookupIDs(t, root)
	if info, err := os.Stat(filepath.Join(root, "var/lib/bedgate")); err == nil {
		st := info.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("/var/lib/bedgate owned by %d:%d, want bedgate %d:%d", st.Uid, st.Gid, uid, gid)
		}
	}
	if info, err := os.Stat(filepath.Join(root, "etc/bedgate/bedgate.yaml")); err == nil {
		if st := info.Sys().(*syscall.Stat_t); int(st.Gid) != gid {
			t.Errorf("/etc/bedgate/bedgate.yaml has group %d, want bedgate's %d (the gateway reads it)", st.Gid, gid)
		}
	}
	group, err := os.ReadFile(filepath.Join(root, "etc/group"))
	if err != nil || !regexp.MustCompile(`(?m)^dialout:x:\d+:(.*,)?bedgate(,|$)`).Match(group) {
		t.Errorf("bedgate is not in dialout (serial ports):\n%s", group)
	}

	unit, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/bedgate.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=/usr/bin/bedgate run --config /etc/bedgate/bedgate.yaml", "User=bedgate", "StateDirectory=bedgate"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit does not say %q", want)
		}
	}

	bin := filepath.Join(root, "usr/bin/bedgate")
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "bedgate ") {
		t.Errorf("installed bedgate version: %v\n%s", err, out)
	}
	config := filepath.Join(root, "etc/bedgate/bedgate.yaml")
	if out, err := exec.Command(bin, "config", "check", config).CombinedOutput(); err != nil || !strings.Contains(string(out), ": ok: gateway") {
		t.Errorf("installed bedgate config check of the installed configuration: %v\n%s", err, out)
	}

	// An operator's changes to the configuration survive a reinstall.
	edited := []byte("# this ward's configuration\n")
	if err := os.WriteFile(config, edited, 0o640); err != nil {
		t.Fatal(err)
	}
	install()
	if got, _ := os.ReadFile(config); string(got) != string(edited) {
		t.Errorf("reinstalling replaced the edited configuration with:\n%.200s", got)
	}
}

// lookupIDs returns the bedgate user's uid and gid in root's passwd.
func lookupIDs(t *testing.T, root string) (uid, gid int) {
	t.Helper()
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == "bedgate" {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			return uid, gid
		}
	}
	t.Fatalf("no bedgate user in the root's passwd:\n%s", passwd)
	return 0, 0
}
