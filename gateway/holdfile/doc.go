// Package holdfile is a small durable set of opaque entries in one
// append-only file: the readings the gateway holds until it can decide whom
// they belong to. An entry is on disk (written and synced) when Add returns,
// so it survives kill -9 and a power cut as far as the disk honours a sync;
// Adds made together share one sync (group commit: a 64-bed ward at 50 Hz
// adds 3,200 entries a second, more syncs than a disk does), and each Add
// waiting for a sync is woken once: when the sync that covers it ends, or
// to run that sync. BenchmarkAddBurst (64 beds adding a 1.5 KB reading at
// once) measured 9.6-11.6 µs of CPU an Add, 1.5-2.3 times one goroutine
// writing the same frames and syncing once; 15-21 µs (3.0-4.1 times) when
// the waiters took a mutex in turn, each waking the next. Waking every
// waiter when any sync ended woke each Add 2.2 times on average in
// BenchmarkWard at 64 beds × 1 Hz (a Go execution trace), once since.
// Done removes an entry. Open replays the file.
//
// The file is a sequence of frames: op (1 byte: add or done), key (8 bytes,
// big endian), length (4 bytes), data, CRC-32 (Castagnoli) of everything
// before it in the frame. Replay stops at the first incomplete or damaged
// frame (a write cut short by a crash), which is cut off so that later
// frames follow good ones; Stats.Damaged counts the bytes cut.
//
// The file stays small: it is emptied when no entry is live, and rewritten
// with only the live entries when it is more than four times their size
// and over 1 MiB.
package holdfile
