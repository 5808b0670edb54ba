// Package ratelog rate-limits per-event log lines: a slog.Handler that
// passes the first line of each key on, then at most one line per key every
// Interval, carrying "suppressed": the number of lines of that key dropped
// since the previous one.
//
// A key is a line's level, its message and the values of its key
// attributes (by default "bed" and "reason", whether set on the line or
// with Logger.With), so a flood from one bed or of one kind never hides
// another. Attributes that vary per event (errors, offsets, counts) are not
// part of the key: log the event's kind under "reason".
//
// Counts still pending when a flood stops are reported with the key's next
// line, or by Flush.
package ratelog
