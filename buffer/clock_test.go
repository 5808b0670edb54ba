package buffer

import (
	"testing"
	"time"
)

// TestAgeIgnoresWallClockSteps: a step of the wall clock in either direction
// neither expires the backlog nor makes it immortal; ages follow the uptime.
func TestAgeIgnoresWallClockSteps(t *testing.T) {
	const maxAge = time.Hour
	tests := []struct {
		name  string
		start time.Time     // wall clock when the entries are appended
		step  time.Duration // wall-clock step after the appends
	}{
		{"forward NTP jump of a year", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 365 * 24 * time.Hour},
		{"stored while the clock read 1970, then NTP", time.Unix(0, 0).UTC(), time.Since(time.Unix(0, 0))},
		{"backward step of a year", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), -365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			clk.t = tt.start
			b := open(t, t.TempDir(), Options{MaxAge: maxAge, Now: clk.Now, Uptime: clk.Uptime})
			appendN(t, b, 1, 3)
			clk.Advance(10 * time.Minute)
			clk.Step(tt.step)

			got := drain(t, b)
			wantSeqs(t, "entries after the step", seqsOf(got), seqRange(1, 3))
			if s := b.Stats(); s.Dropped[DropAge] != 0 || s.OldestAge != 10*time.Minute {
				t.Fatalf("after the step: dropped %v, oldest age %v; want none dropped, 10m", s.Dropped, s.OldestAge)
			}
			b.ReleaseAll()

			// Not immortal either: an hour of uptime later they expire.
			clk.Advance(maxAge)
			if got := drain(t, b); len(got) != 0 {
				t.Fatalf("entries past MaxAge of uptime still handed out: %v", seqsOf(got))
			}
			if s := b.Stats(); s.Dropped[DropAge] != 3 || s.Entries != 0 {
				t.Fatalf("after MaxAge of uptime: %+v, want 3 dropped for age", s)
			}
		})
	}
}

// TestAgeAcrossRestarts: the age clock resumes from its checkpoint: exactly
// within a boot, from a plausible wall clock after a reboot, and not at all
// (entries taken as no older than at the stop) when the wall clock is not
// plausible or went back.
func TestAgeAcrossRestarts(t *testing.T) {
	const maxAge = time.Hour
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		restart func(c *clock)
		expired bool
		age     time.Duration // OldestAge after the restart, when kept
	}{
		{"same boot, 2h later", func(c *clock) { c.Advance(2 * time.Hour) }, true, 0},
		{"same boot, 20m later, wall clock stepped a year ahead", func(c *clock) { c.Advance(20 * time.Minute); c.Step(8760 * time.Hour) }, false, 30 * time.Minute},
		{"reboot, wall clock 2h later", func(c *clock) { c.Reboot(base.Add(2 * time.Hour)) }, true, 0},
		{"reboot, wall clock 20m later", func(c *clock) { c.Reboot(base.Add(20 * time.Minute)) }, false, 30 * time.Minute},
		{"reboot, no RTC: wall clock at 1970", func(c *clock) { c.Reboot(time.Unix(0, 0)) }, false, 10 * time.Minute},
		{"reboot, wall clock went back", func(c *clock) { c.Reboot(base.Add(-48 * time.Hour)) }, false, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := newClock()
			clk.t = base.Add(-10 * time.Minute)
			o := Options{MaxAge: maxAge, Now: clk.Now, Uptime: clk.Uptime}
			b := open(t, dir, o)
			appendN(t, b, 1, 3)
			clk.Advance(10 * time.Minute)
			if _, err := b.Append(t.Context(), []byte("checkpoint")); err != nil { // persists the age clock at 10m
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}

			tt.restart(clk)
			b = open(t, dir, o)
			got := drain(t, b)
			s := b.Stats()
			if tt.expired {
				if len(got) != 0 || s.Dropped[DropAge] != 4 {
					t.Fatalf("got %v, dropped %v; want all 4 expired", seqsOf(got), s.Dropped)
				}
				return
			}
			if len(got) != 4 || s.Dropped[DropAge] != 0 || s.OldestAge != tt.age {
				t.Fatalf("got %v, dropped %v, oldest age %v; want all 4 kept, oldest %v", seqsOf(got), s.Dropped, s.OldestAge, tt.age)
			}
		})
	}
}
