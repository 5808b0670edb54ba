package buffer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashDirEnv, when set, makes TestHelperProcessCrashAppender act as the
// child of TestCrashKill9KeepsAcknowledgedAppends.
const crashDirEnv = "BEDGATE_BUFFER_CRASH_DIR"

// TestHelperProcessCrashAppender is not a test by itself: run as a child
// process, it appends from several goroutines in a tight loop and prints
// each sequence number once Append has returned it, that is once it is
// durable, until it is killed.
func TestHelperProcessCrashAppender(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashKill9KeepsAcknowledgedAppends")
	}
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	// A safety net: never outlive a parent that failed to kill us.
	time.AfterFunc(30*time.Second, func() { os.Exit(3) })
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				s, err := b.Append(context.Background(), fmt.Appendf(nil, "child-%d-%d-%s", w, i, strings.Repeat("x", i%300)))
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "%d\n", s)
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashKill9KeepsAcknowledgedAppends kills an appending child process
// with SIGKILL several times and checks after each crash that every sequence
// number the child saw acknowledged is stored, that the stored sequence has
// no gap, and that the next Append continues after the highest.
func TestCrashKill9KeepsAcknowledgedAppends(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL")
	}
	dir := t.TempDir()
	var mine []Seq // appended by this process between crashes
	for round := 1; round <= 3; round++ {
		acked := runAndKill(t, dir, 100*round)
		if len(acked) == 0 {
			t.Fatalf("round %d: child acknowledged nothing", round)
		}

		b, err := Open(dir, Options{Logger: quietLogger()})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		s := b.Stats()
		if s.RecoveredFrom != "" || s.Quarantined != 0 {
			t.Fatalf("round %d: store not cleanly recovered: %+v", round, s)
		}
		stored := seqsOf(drain(t, b))
		if len(stored) == 0 {
			t.Fatalf("round %d: nothing stored", round)
		}
		// Nothing was ever acked, so the stored sequence is 1..max.
		wantSeqs(t, fmt.Sprintf("round %d stored", round), stored, seqRange(1, stored[len(stored)-1]))
		for _, a := range append(acked, mine...) {
			if _, found := slices.BinarySearch(stored, a); !found {
				t.Fatalf("round %d: acknowledged seq %d missing after SIGKILL", round, a)
			}
		}
		highest := stored[len(stored)-1]
		if s.NextSeq != highest+1 {
			t.Fatalf("round %d: NextSeq %d, want %d", round, s.NextSeq, highest+1)
		}
		seq, err := b.Append(context.Background(), []byte("parent"))
		if err != nil || seq != highest+1 {
			t.Fatalf("round %d: Append after crash = %d, %v; want %d", round, seq, err, highest+1)
		}
		mine = append(mine, seq)
		t.Logf("round %d: child acknowledged %d appends, %d stored, next append %d", round, len(acked), len(stored), seq)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill starts the child on dir, kills it with SIGKILL once it has
// acknowledged at least n appends, and returns every sequence number it
// printed in full before dying.
func runAndKill(t *testing.T, dir string, n int) []Seq {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessCrashAppender$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	var acked []Seq
	r := bufio.NewReader(stdout)
	deadline := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break // a partial last line was never fully acknowledged
		}
		if err != nil {
			t.Fatal(err)
		}
		s, perr := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
		if perr != nil {
			continue // test framework chatter
		}
		acked = append(acked, Seq(s))
		if len(acked) == n && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("child exited before being killed: %v\n%s", werr, stderr.String())
	}
	return acked
}
