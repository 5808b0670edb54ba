package gateway

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// LogWatch is a slog.Handler that keeps the messages logged, so that a test
// can wait for something only the log shows (the broker being down). It is
// exported for the package's external tests too.
type LogWatch struct {
	mu       sync.Mutex
	messages []string
}

func (l *LogWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l *LogWatch) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *LogWatch) WithGroup(string) slog.Handler            { return l }
func (l *LogWatch) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.messages = append(l.messages, r.Message)
	return nil
}

// Saw reports whether msg was logged.
func (l *LogWatch) Saw(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.messages, msg)
}

// Count returns how many messages containing s were logged.
func (l *LogWatch) Count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.messages {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}
