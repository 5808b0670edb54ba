package fhir

import "testing"

// TestEscape: every byte but the unreserved ones and ":", "/" and "@" is
// percent-encoded, and a string with nothing to encode is returned as it
// is, without allocating (the encoder escapes every identifier of every
// reading).
func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"urn:ietf:rfc:3986", "urn:ietf:rfc:3986"},
		{"urn:uuid:8ae62b82-1522-542e-8fe8-7484da1f242a", "urn:uuid:8ae62b82-1522-542e-8fe8-7484da1f242a"},
		{"St Elsewhere/Ward 7/Bed 3", "St%20Elsewhere/Ward%207/Bed%203"},
		{"a|b&c=d+e#f%g", "a%7Cb%26c%3Dd%2Be%23f%25g"},
		{"user@host:path/~x_y.z-", "user@host:path/~x_y.z-"},
		{" lead", "%20lead"},
		{"trail ", "trail%20"},
		{"é", "%C3%A9"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	plain := "urn:bedgate:device:masimo:serial"
	if n := testing.AllocsPerRun(100, func() { _ = escape(plain) }); n != 0 {
		t.Errorf("escape of a string with nothing to encode allocates %v times, want 0", n)
	}
}
