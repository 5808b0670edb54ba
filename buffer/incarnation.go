package buffer

import (
	"crypto/rand"
	"encoding/hex"
)

// incarnationLen is the length of an incarnation id in hex digits: 48
// random bits. The chance that two of a gateway's stores share one is about
// n²/2⁴⁹ for n stores: below 2·10⁻⁹ for a thousand resets.
const incarnationLen = 12

// newIncarnation returns a fresh incarnation id: 12 lower-case hex digits.
func newIncarnation() string {
	var b [incarnationLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// validIncarnation reports whether s has the form newIncarnation returns.
func validIncarnation(s []byte) bool {
	if len(s) != incarnationLen {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
