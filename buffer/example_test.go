package buffer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/bedgate/bedgate/buffer"
)

func Example() {
	dir, err := os.MkdirTemp("", "outbox-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	b, err := buffer.Open(dir, buffer.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	ctx := context.Background()
	for _, p := range []string{"first", "second"} {
		if _, err := b.Append(ctx, []byte(p)); err != nil { // durable on return
			fmt.Println(err)
			return
		}
	}
	entries, err := b.Next(ctx, 10) // both, in order, now in flight
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Println(e.Seq, string(e.Payload))
	}
	_ = b.Ack(entries[0].Seq) // the broker acknowledged the first
	b.Release(entries[1].Seq) // the second must be sent again
	fmt.Println(b.Stats().Entries, "left")
	// Output:
	// 1 first
	// 2 second
	// 1 left
}
