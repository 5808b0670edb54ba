package publish

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// maxTopic bounds a topic in an envelope (MQTT allows 65,535 bytes).
const maxTopic = 65535

// Envelope body encodings, the envelope's first byte.
const (
	bodyPlain = 1 // the body as it is
	bodyS2    = 2 // the body compressed with S2 (Snappy-compatible)
)

// Envelope packs a message for the outbox: the topic it goes to and its
// body, ready to publish. The gateway encodes each record once, when it is
// stored (with its outbox sequence number in it), so that draining a backlog
// costs little more than publishing it. The layout is one byte for the body's
// encoding, the topic's length as a uvarint, the topic, then the body,
// compressed with S2 when that saves space: a FHIR Bundle shrinks to about a
// third, so the same outbox holds three times the backlog.
func Envelope(topic string, body []byte) []byte {
	head := make([]byte, 0, 1+binary.MaxVarintLen64+len(topic))
	head = append(head, bodyPlain)
	head = binary.AppendUvarint(head, uint64(len(topic)))
	head = append(head, topic...)
	if packed := s2.Encode(nil, body); len(packed) < len(body) {
		head[0] = bodyS2
		return append(head, packed...)
	}
	return append(head, body...)
}

// OpenEnvelope returns the topic and body of an envelope. A plain body
// aliases p.
func OpenEnvelope(p []byte) (topic string, body []byte, err error) {
	if len(p) == 0 {
		return "", nil, errors.New("publish: envelope: empty")
	}
	kind, rest := p[0], p[1:]
	n, k := binary.Uvarint(rest)
	switch {
	case kind != bodyPlain && kind != bodyS2:
		return "", nil, fmt.Errorf("publish: envelope: unknown body encoding %d", kind)
	case k <= 0:
		return "", nil, errors.New("publish: envelope: bad topic length")
	case n == 0 || n > maxTopic:
		return "", nil, fmt.Errorf("publish: envelope: topic length %d", n)
	case uint64(len(rest)-k) < n:
		return "", nil, fmt.Errorf("publish: envelope: %d bytes, topic of %d announced", len(rest)-k, n)
	}
	topic, body = string(rest[k:k+int(n)]), rest[k+int(n):]
	if kind == bodyS2 {
		if body, err = s2.Decode(nil, body); err != nil {
			return "", nil, fmt.Errorf("publish: envelope: body: %w", err)
		}
	}
	return topic, body, nil
}
