package publish

import (
	"bytes"
	"strings"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		topic string
		body  []byte
	}{
		{"bedgate/v1/s/w/bed1/obs", []byte(`{"resourceType":"Bundle"}`)},
		{"t", nil},
		{strings.Repeat("x", 300), []byte{0, 1, 2, 0xff}},
		{"compressible", []byte(strings.Repeat(`{"resourceType":"Observation"},`, 100))},
	} {
		topic, body, err := OpenEnvelope(Envelope(tt.topic, tt.body))
		if err != nil || topic != tt.topic || !bytes.Equal(body, tt.body) {
			t.Errorf("round trip of %q: %q %q %v", tt.topic, topic, body, err)
		}
	}
}

func TestOpenEnvelopeRejectsDamage(t *testing.T) {
	good := Envelope("a/b", []byte("body"))
	for name, p := range map[string][]byte{
		"empty":         nil,
		"no topic":      {0},
		"short":         good[:2],
		"bad varint":    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"topic too big": append([]byte{0xff, 0xff, 0x7f}, 'x'),
	} {
		if _, _, err := OpenEnvelope(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzOpenEnvelope(f *testing.F) {
	f.Add(Envelope("bedgate/v1/s/w/b/obs", []byte("{}")))
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, p []byte) {
		topic, body, err := OpenEnvelope(p)
		if err != nil {
			return
		}
		if again := Envelope(topic, body); !bytes.Equal(again, p) && len(again) > len(p) {
			t.Fatalf("re-enveloping %q grew it", p)
		}
	})
}

func TestEnvelopeCompressesMessages(t *testing.T) {
	body := []byte(strings.Repeat(`{"resourceType":"Observation","status":"final"},`, 50))
	e := Envelope("bedgate/v1/s/w/b/obs", body)
	if e[0] != bodyS2 || len(e) > len(body)/3 {
		t.Errorf("envelope of %d bytes for a %d-byte repetitive body (kind %d): want it compressed", len(e), len(body), e[0])
	}
}
