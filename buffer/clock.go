package buffer

import (
	"encoding/binary"
	"time"
)

// Entry ages (for Options.MaxAge and Stats.OldestAge) are measured on the
// age clock, never on the wall clock, so that a clock step cannot expire a
// backlog or make it immortal:
//
//   - Within a run the age clock is the store's age at Open plus the
//     Options.Uptime elapsed since (CLOCK_BOOTTIME on Linux: monotonic,
//     counting suspend, untouched by NTP or an operator setting the date).
//   - Each entry records the age clock's reading when it was appended;
//     its age is the age clock now minus that reading.
//   - The store persists a checkpoint (age clock, wall clock, uptime, boot
//     id) with every write and at least every checkpointEvery while open.
//     At Open the age clock resumes from it: after a restart within the
//     same boot, plus the uptime elapsed since the checkpoint (exact);
//     after a reboot, plus the wall-clock time elapsed since the checkpoint
//     when both wall readings are plausible (not before wallFloor) and it
//     is positive; otherwise plus nothing. It never resumes below the
//     reading of an entry already stored.
//
// So a forward or backward step of the wall clock changes no age within a
// run; entries stamped while the wall clock read 1970 age from their append
// like any other; after a reboot on a box without a real-time clock (wall
// clock at 1970 or at the last saved time until NTP) the time the box was
// off does not count, which can only keep an entry longer, never expire it
// early. What remains: after a reboot, a wall clock that is wrong but
// plausible by a forward error at Open ages the stored entries by that error.
type ageClock struct {
	uptime Uptime
	boot   string
	base   time.Duration // age clock at Open
	opened time.Duration // uptime at Open
}

// Uptime reads a clock that wall-clock steps do not move: the time since
// boot and an identifier of the boot ("" when unknown, so that no two
// processes are taken to share a boot).
type Uptime func() (boot string, since time.Duration)

// checkpointEvery is how often an idle store persists the age clock. After
// a reboot with no plausible wall clock, at most this much of the age of
// each entry is forgotten.
const checkpointEvery = time.Minute

// wallFloor is the earliest wall-clock reading taken as plausible; a box
// without a real-time clock boots reading 1970.
var wallFloor = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func plausibleWall(t time.Time) bool { return !t.Before(wallFloor) }

// now returns the age clock's reading.
func (c *ageClock) now() time.Duration {
	_, up := c.uptime()
	return c.base + max(0, up-c.opened)
}

// checkpoint is a persisted age-clock reading.
type checkpoint struct {
	age    time.Duration
	wall   time.Time
	uptime time.Duration
	boot   string
}

// encode: age (8) | wall Unix ns (8) | uptime ns (8) | boot id; big-endian.
func (cp checkpoint) encode() []byte {
	v := make([]byte, 24, 24+len(cp.boot))
	binary.BigEndian.PutUint64(v[0:8], uint64(cp.age))
	binary.BigEndian.PutUint64(v[8:16], uint64(cp.wall.UnixNano()))
	binary.BigEndian.PutUint64(v[16:24], uint64(cp.uptime))
	return append(v, cp.boot...)
}

func decodeCheckpoint(v []byte) (checkpoint, bool) {
	if len(v) < 24 {
		return checkpoint{}, false
	}
	return checkpoint{
		age:    time.Duration(binary.BigEndian.Uint64(v[0:8])),
		wall:   time.Unix(0, int64(binary.BigEndian.Uint64(v[8:16]))),
		uptime: time.Duration(binary.BigEndian.Uint64(v[16:24])),
		boot:   string(v[24:]),
	}, true
}

// take reads the age clock into a checkpoint.
func (c *ageClock) take(wall time.Time) checkpoint {
	boot, up := c.uptime()
	return checkpoint{age: c.base + max(0, up-c.opened), wall: wall, uptime: up, boot: boot}
}

// resume starts the age clock at Open from the last checkpoint (if any),
// never below floor (the highest reading an entry was stamped with).
func resume(up Uptime, wall time.Time, cp checkpoint, found bool, floor time.Duration) *ageClock {
	boot, now := up()
	base := time.Duration(0)
	if found {
		base = cp.age
		switch {
		case boot != "" && boot == cp.boot && now >= cp.uptime:
			base += now - cp.uptime
		case plausibleWall(cp.wall) && plausibleWall(wall) && wall.After(cp.wall):
			base += wall.Sub(cp.wall)
		}
	}
	return &ageClock{uptime: up, boot: boot, base: max(base, floor), opened: now}
}

// wallAge is the age of an entry of a version-1 store, which has no
// age-clock stamp: the wall clock's difference when both readings are
// plausible and it is positive, else zero (the entry is taken as new).
func wallAge(now, appended time.Time) time.Duration {
	if plausibleWall(now) && plausibleWall(appended) && now.After(appended) {
		return now.Sub(appended)
	}
	return 0
}
