package gateway

import "testing"

func TestSessionKept(t *testing.T) {
	tests := []struct {
		present    bool
		prev, node string
		want       bool
	}{
		{false, "", "tcp://a:1883", false},             // first connection, no session
		{true, "", "tcp://a:1883", true},               // first connection of this run, the session from before it
		{true, "tcp://a:1883", "tcp://a:1883", true},   // back on the same node, which kept the session
		{false, "tcp://a:1883", "tcp://a:1883", false}, // the node lost the session
		{true, "tcp://a:1883", "tcp://b:1883", false},  // another node's session: maybe an old one
		{false, "tcp://a:1883", "tcp://b:1883", false}, // another node, no session
		{true, "tcp://b:1883", "tcp://a:1883", false},  // and back again
	}
	for _, tt := range tests {
		if got := sessionKept(tt.present, tt.prev, tt.node); got != tt.want {
			t.Errorf("sessionKept(%v, %q, %q) = %v, want %v", tt.present, tt.prev, tt.node, got, tt.want)
		}
	}
}
