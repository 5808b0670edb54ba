package buffer

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// badgerLogger routes the storage engine's log lines to slog. The engine's
// errors stay errors, its warnings warnings; its informational chatter
// (compactions, memtable flushes, replay progress) goes to debug so that a
// healthy gateway logs nothing from the engine above debug level. Nothing is
// ever written to stdout or stderr directly.
type badgerLogger struct {
	log *slog.Logger
}

func (l badgerLogger) emit(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, "badger: "+strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (l badgerLogger) Errorf(format string, args ...any)   { l.emit(slog.LevelError, format, args) }
func (l badgerLogger) Warningf(format string, args ...any) { l.emit(slog.LevelWarn, format, args) }
func (l badgerLogger) Infof(format string, args ...any)    { l.emit(slog.LevelDebug, format, args) }
func (l badgerLogger) Debugf(format string, args ...any)   { l.emit(slog.LevelDebug, format, args) }
