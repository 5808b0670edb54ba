package publish

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxTopic bounds a topic in an envelope (MQTT allows 65,535 bytes).
const maxTopic = 65535

// Envelope packs a message for the outbox: the topic it goes to and its
// body, ready to publish. The gateway encodes each record once, when it is
// stored (with its outbox sequence number in it), so that draining a backlog
// costs no more than publishing it. The layout is the topic's length as a
// uvarint, the topic, then the body.
func Envelope(topic string, body []byte) []byte {
	p := make([]byte, 0, binary.MaxVarintLen64+len(topic)+len(body))
	p = binary.AppendUvarint(p, uint64(len(topic)))
	p = append(p, topic...)
	return append(p, body...)
}

// OpenEnvelope returns the topic and body of an envelope. The body aliases
// p.
func OpenEnvelope(p []byte) (topic string, body []byte, err error) {
	n, k := binary.Uvarint(p)
	switch {
	case k <= 0:
		return "", nil, errors.New("publish: envelope: bad topic length")
	case n == 0 || n > maxTopic:
		return "", nil, fmt.Errorf("publish: envelope: topic length %d", n)
	case uint64(len(p)-k) < n:
		return "", nil, fmt.Errorf("publish: envelope: %d bytes, topic of %d announced", len(p)-k, n)
	}
	return string(p[k : k+int(n)]), p[k+int(n):], nil
}
