package buffer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestAppendFuncBuildsWithItsSeq: each payload is built with the sequence
// number it is stored under, also under concurrency, and a failed build
// uses no number.
func TestAppendFuncBuildsWithItsSeq(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	const n = 200
	var wg sync.WaitGroup
	errBuild := errors.New("encoder refused")
	var mu sync.Mutex
	failed := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq, err := b.AppendFunc(context.Background(), func(s Seq) ([]byte, error) {
				if i%10 == 0 {
					return nil, errBuild
				}
				return fmt.Appendf(nil, "seq=%d", s), nil
			})
			if i%10 == 0 {
				if !errors.Is(err, errBuild) || seq != 0 {
					t.Errorf("failing build: seq %d, err %v", seq, err)
				}
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			if err != nil {
				t.Errorf("AppendFunc: %v", err)
			}
		}()
	}
	wg.Wait()
	// Plain appends interleave with built ones.
	if s, err := b.Append(context.Background(), []byte("plain")); err != nil || s != Seq(n-failed+1) {
		t.Fatalf("plain append after %d built: seq %d, %v; want %d", n-failed, s, err, n-failed+1)
	}
	entries := drain(t, b)
	if len(entries) != n-failed+1 {
		t.Fatalf("%d entries stored, want %d", len(entries), n-failed+1)
	}
	for i, e := range entries[:len(entries)-1] {
		if want := Seq(i + 1); e.Seq != want || string(e.Payload) != fmt.Sprintf("seq=%d", want) {
			t.Fatalf("entry %d: seq %d payload %q, want seq %d built with it", i, e.Seq, e.Payload, want)
		}
	}
}

func TestAppendFuncTooLarge(t *testing.T) {
	b := open(t, t.TempDir(), Options{MaxBytes: 1 << 20})
	_, err := b.AppendFunc(context.Background(), func(Seq) ([]byte, error) { return make([]byte, 2<<20), nil })
	if !errors.Is(err, ErrFull) {
		t.Fatalf("oversized built payload: %v, want ErrFull", err)
	}
	if s, err := b.Append(context.Background(), []byte("x")); err != nil || s != 1 {
		t.Fatalf("next append: seq %d, %v; want 1 (the refused one used no number)", s, err)
	}
}

// TestAppendFuncBuildsInParallel: builds run on the appenders' goroutines,
// not one after the other on the committer. Each of these builds waits
// until every one has started, which only builds running together can do.
func TestAppendFuncBuildsInParallel(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	const n = 4
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := b.AppendFunc(context.Background(), func(s Seq) ([]byte, error) {
				started.Done()
				select {
				case <-all:
				case <-time.After(10 * time.Second):
					return nil, errors.New("the other builds never started: builds run one at a time")
				}
				return fmt.Appendf(nil, "seq=%d", s), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, e := range drain(t, b) {
		if want := Seq(i + 1); e.Seq != want || string(e.Payload) != fmt.Sprintf("seq=%d", want) {
			t.Fatalf("entry %d: seq %d payload %q, want seq %d built with it", i, e.Seq, e.Payload, want)
		}
	}
}

// TestCloseWaitsForABuildingAppend: an append whose caller is still
// building when Close is called is stored, and Close returns after it.
func TestCloseWaitsForABuildingAppend(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	building, release := make(chan struct{}), make(chan struct{})
	appended := make(chan error, 1)
	go func() {
		_, err := b.AppendFunc(context.Background(), func(s Seq) ([]byte, error) {
			close(building)
			<-release
			return fmt.Appendf(nil, "seq=%d", s), nil
		})
		appended <- err
	}()
	<-building
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	close(release)
	if err := <-appended; err != nil {
		t.Fatalf("the append building at Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	b = open(t, dir, Options{})
	if es := drain(t, b); len(es) != 1 || string(es[0].Payload) != "seq=1" {
		t.Fatalf("after reopening: %d entries %v, want the one built while closing", len(es), es)
	}
}
