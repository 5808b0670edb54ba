package stats

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReady(t *testing.T) {
	open := Outbox{Open: true, MaxBytes: 1000}
	tests := []struct {
		name string
		snap Snapshot
		want string // "" for ready, else a part of the reason
	}{
		{"connected", Snapshot{Outbox: open, Link: Link{Connected: true}}, ""},
		{"connected with a backlog", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, Bytes: 900, OldestAge: Duration(time.Hour)}, Link: Link{Connected: true}}, ""},
		{"outbox closed", Snapshot{Link: Link{Connected: true}}, "outbox is closed"},
		{"short outage", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, Bytes: 10, OldestAge: Duration(time.Minute)}}, ""},
		{"long outage", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, OldestAge: Duration(6 * time.Minute)}, Link: Link{LastError: "connection refused"}}, "connection refused"},
		{"outbox half full", Snapshot{Outbox: Outbox{Open: true, MaxBytes: 1000, Bytes: 500}}, "50% full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.snap.Ready()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Ready() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Ready() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Duration }{Duration(1500 * time.Millisecond)})
	if err != nil || string(b) != `{"D":"1.5s"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct{ D Duration }
	if err := json.Unmarshal(b, &back); err != nil || back.D.Std() != 1500*time.Millisecond {
		t.Fatalf("Unmarshal = %v, %v", back.D, err)
	}
}
