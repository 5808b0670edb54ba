package simtest

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/simulators"
)

func TestRunSendsOnAPTY(t *testing.T) {
	p := OpenPTY(t)
	stop := Run(t, "masimo", p, simulators.Options{Period: 20 * time.Millisecond, Now: FastClock(50)})
	f := openSlave(t, p.Path())
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil || !strings.Contains(line, "SPO2=") {
		t.Fatalf("first line %q, %v: want a Masimo ASCII 1 line", line, err)
	}
	stop()
	stop() // harmless twice
}

func TestFastClock(t *testing.T) {
	clock := FastClock(1000)
	a := clock()
	time.Sleep(20 * time.Millisecond)
	if d := clock().Sub(a); d < 10*time.Second {
		t.Errorf("20 ms at 1000x advanced the clock by %v, want at least 10 s", d)
	}
	if a.Location() != time.UTC {
		t.Errorf("clock zone %v, want UTC", a.Location())
	}
}

func openSlave(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
