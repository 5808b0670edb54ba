package drivers_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// step is one scripted Read result.
type step struct {
	data string
	err  error
}

// scriptedReader returns its steps one per Read, then io.EOF.
type scriptedReader struct{ steps []step }

func (r *scriptedReader) Read(p []byte) (int, error) {
	if len(r.steps) == 0 {
		return 0, io.EOF
	}
	s := r.steps[0]
	r.steps = r.steps[1:]
	if len(s.data) > len(p) {
		panic("scripted step longer than the read buffer")
	}
	return copy(p, s.data), s.err
}

// collect runs ReadChunks over r to the end and returns what it sent.
func collect(t *testing.T, r io.Reader, size int) (data []string, err error) {
	t.Helper()
	out := make(chan drivers.Chunk)
	done := make(chan struct{})
	defer close(done)
	go drivers.ReadChunks(r, size, out, done)
	timeout := time.After(5 * time.Second)
	for {
		select {
		case c := <-out:
			if c.Err != nil {
				if c.Data != nil {
					t.Errorf("error chunk carries data %q", c.Data)
				}
				return data, c.Err
			}
			if len(c.Data) == 0 {
				t.Fatalf("ReadChunks sent an empty chunk after %q", data)
			}
			data = append(data, string(c.Data))
		case <-timeout:
			t.Fatalf("ReadChunks sent no error after %q", data)
		}
	}
}

func TestReadChunks(t *testing.T) {
	broken := errors.New("port unplugged")
	tests := []struct {
		name    string
		r       io.Reader
		size    int
		want    []string
		wantErr error
	}{
		{"reads then end of input", &scriptedReader{steps: []step{{data: "$SPO2"}, {data: "=97\r\n"}}}, 16,
			[]string{"$SPO2", "=97\r\n"}, io.EOF},
		{"bytes and an error in one read: bytes first", &scriptedReader{steps: []step{{data: "abc", err: broken}}}, 16,
			[]string{"abc"}, broken},
		{"an error at once", &scriptedReader{steps: []step{{err: broken}}}, 16, nil, broken},
		{"read timeouts (0, nil) send nothing", &scriptedReader{steps: []step{{}, {data: "a"}, {}, {}, {data: "b"}, {}}}, 16,
			[]string{"a", "b"}, io.EOF},
		{"reads no longer than size; chunks keep their bytes", strings.NewReader("hello world"), 4,
			[]string{"hell", "o wo", "rld"}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.r, tt.size)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("chunks = %q, want %q", got, tt.want)
			}
		})
	}
}

// idleReader returns (0, nil) on every Read, as a serial port whose read
// timeout passes, and counts the Reads.
type idleReader struct{ reads atomic.Int64 }

func (r *idleReader) Read([]byte) (int, error) {
	r.reads.Add(1)
	return 0, nil
}

// TestReadChunksIdleLink: a link that only times out sends nothing and is
// not read in a busy loop; closing done ends ReadChunks during its pause.
func TestReadChunksIdleLink(t *testing.T) {
	r := &idleReader{}
	out := make(chan drivers.Chunk, 1)
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		drivers.ReadChunks(r, 64, out, done)
	}()
	time.Sleep(100 * time.Millisecond)
	close(done)
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("ReadChunks did not return after done was closed")
	}
	// With a pause between Reads, 100 ms allows about ten; a busy loop
	// would make many thousands.
	if n := r.reads.Load(); n < 1 || n > 50 {
		t.Errorf("%d Reads in 100 ms of (0, nil) results, want a few (a pause between Reads)", n)
	}
	if len(out) != 0 {
		t.Errorf("ReadChunks sent %+v for an idle link", <-out)
	}
}

// TestReadChunksDone: ReadChunks returns when done is closed while nobody
// receives what it has read.
func TestReadChunksDone(t *testing.T) {
	for _, r := range []io.Reader{strings.NewReader("unreceived"), &scriptedReader{steps: []step{{err: io.ErrUnexpectedEOF}}}} {
		done := make(chan struct{})
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			drivers.ReadChunks(r, 64, make(chan drivers.Chunk), done)
		}()
		close(done)
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("%T: ReadChunks blocked sending after done was closed", r)
		}
	}
}

func TestReadChunksBadSize(t *testing.T) {
	for _, size := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ReadChunks with size %d did not panic", size)
				}
			}()
			drivers.ReadChunks(strings.NewReader("x"), size, make(chan drivers.Chunk, 1), make(chan struct{}))
		}()
	}
}

// TestLinkKeepsBytesBetweenSessions: a link outlives the frame loops run
// on it one after another. What the device sends while no loop runs (after
// one ended in silence, before the next starts) is read by the next loop,
// with the bytes of a chunk a Read of the link left; nothing is taken by a
// reader the last loop left behind.
func TestLinkKeepsBytesBetweenSessions(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	link := drivers.NewLink(struct {
		io.Reader
		io.Writer
	}{pr, io.Discard}, 64)
	defer link.Close()

	collect := func(loop *drivers.Frames, want int) ([]string, error) {
		var got []string
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := loop.Run(ctx, drivers.Handler{Frame: func(_ context.Context, f []byte) error {
			got = append(got, string(f))
			if len(got) == want {
				cancel()
			}
			return nil
		}})
		return got, err
	}

	if _, err := pw.Write([]byte("one\n")); err != nil { // returns once the link has read it
		t.Fatal(err)
	}
	first := lineLoop(50 * time.Millisecond).Start(link)
	got, err := collect(first, 2)
	first.Close()
	if !errors.Is(err, drivers.ErrSilent) || !slices.Equal(got, []string{"one"}) {
		t.Fatalf("first session: frames %q, %v; want [one] and silence", got, err)
	}

	// Between sessions the device sends again (the write returns once
	// the link has read it), with no loop running.
	if _, err := pw.Write([]byte("two\nthree\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := link.Read(buf); err != nil || string(buf[:n]) != "tw" {
		t.Fatalf("Read = %q, %v; want the first 2 bytes of the next chunk", buf[:n], err)
	}
	second := lineLoop(5 * time.Second).Start(link)
	defer second.Close()
	if got, err := collect(second, 2); !errors.Is(err, context.Canceled) || !slices.Equal(got, []string{"o", "three"}) {
		t.Fatalf("second session: frames %q, %v; want [o three] (the rest of the chunk Read took 2 bytes of)", got, err)
	}
}

// TestLinkReadErrorIsSticky: once a Read of the port fails, every session
// run on the link after that sees the same error at once.
func TestLinkReadErrorIsSticky(t *testing.T) {
	broken := errors.New("port unplugged")
	link := drivers.NewLink(struct {
		io.Reader
		io.Writer
	}{&scriptedReader{steps: []step{{data: "a\n", err: broken}}}, io.Discard}, 16)
	defer link.Close()
	for i := range 3 {
		loop := lineLoop(time.Minute).Start(link)
		err := loop.Run(t.Context(), drivers.Handler{Frame: func(context.Context, []byte) error { return nil }})
		loop.Close()
		if !errors.Is(err, broken) || !errors.Is(err, drivers.ErrLinkLost) || errors.Is(err, drivers.ErrSilent) {
			t.Errorf("session %d: Run = %v, want the read error as a lost link", i, err)
		}
	}
	if _, err := link.Read(make([]byte, 4)); !errors.Is(err, broken) {
		t.Errorf("Read after the failure = %v, want %v", err, broken)
	}
}

// TestLinkCloseEndsItsReader: Close ends the link's reader: once the Read
// of the port pending at Close returns, the port is read no more, a Read of
// the link returns, and writes still reach the port.
func TestLinkCloseEndsItsReader(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	var written bytes.Buffer
	link := drivers.NewLink(struct {
		io.Reader
		io.Writer
	}{pr, &written}, 16)
	if _, err := pw.Write([]byte("taken\n")); err != nil { // returns once the link has read it
		t.Fatal(err)
	}
	if n, err := link.Read(make([]byte, 16)); err != nil || n != 6 {
		t.Fatalf("Read = %d, %v; want the 6 bytes written", n, err)
	}
	// The link's reader is back in a Read of the port.
	link.Close()
	link.Close()                                          // twice is fine
	if _, err := pw.Write([]byte("last\n")); err != nil { // the Read pending at Close takes it
		t.Fatal(err)
	}
	more := make(chan struct{})
	go func() {
		pw.Write([]byte("more\n"))
		close(more)
	}()
	select {
	case <-more:
		t.Fatal("the port was read again after the link was closed")
	case <-time.After(50 * time.Millisecond):
		// Still pending: nothing reads the port.
	}
	if _, err := link.Read(make([]byte, 16)); !errors.Is(err, drivers.ErrLinkLost) {
		t.Errorf("Read after Close = %v, want an error matching ErrLinkLost", err)
	}
	if _, err := link.Write([]byte("x")); err != nil || written.String() != "x" {
		t.Errorf("Write after Close = %v, port got %q; want x written", err, written.String())
	}
}
