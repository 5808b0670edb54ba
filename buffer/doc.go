// Package buffer is bedgate's durable outbox: an ordered, bounded queue of
// opaque payloads on disk, written by the gateway and drained by the
// publisher. It knows nothing of vital signs.
package buffer
