package buffer

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexAgainstModel drives the index with random operations, enough to
// cross its compaction thresholds many times, and compares every result
// with a plain map of sequence number to state.
func TestIndexAgainstModel(t *testing.T) {
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 42))
		var x index
		model := map[Seq]slotState{}
		var next Seq = 1
		inState := func(st slotState) []Seq {
			var s []Seq
			for q, v := range model {
				if v == st {
					s = append(s, q)
				}
			}
			slices.Sort(s)
			return s
		}
		// pick probes random sequence numbers for one in state st.
		pick := func(st slotState) (Seq, bool) {
			for range 64 {
				q := Seq(1 + rng.Uint64N(uint64(next)))
				if v, ok := model[q]; ok && v == st {
					return q, true
				}
			}
			return 0, false
		}
		count := func(st slotState) int {
			n := 0
			for _, v := range model {
				if v == st {
					n++
				}
			}
			return n
		}
		for op := range 8000 {
			switch r := rng.IntN(100); {
			case r < 35: // append
				x.push(slot{seq: next, size: uint32(rng.IntN(100))})
				model[next] = slotReady
				next++
			case r < 55: // Next
				// Half the time all of it; else a lane: below or from a boundary.
				limit := 1 + rng.IntN(50)
				from, to := Seq(0), Seq(math.MaxUint64)
				switch b := Seq(1 + rng.Uint64N(uint64(next))); rng.IntN(4) {
				case 0:
					from = b
				case 1:
					to = b
				}
				var want []Seq
				for _, q := range inState(slotReady) {
					if q >= from && q < to && len(want) < limit {
						want = append(want, q)
					}
				}
				got := x.takeReady(limit, from, to)
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d op %d: takeReady(%d, %d, %d) = %v, want %v", seed, op, limit, from, to, got, want)
				}
				for _, q := range got {
					model[q] = slotInFlight
				}
			case r < 85: // ack an in-flight entry (sometimes a ready one)
				st := slotInFlight
				if r < 60 {
					st = slotReady
				}
				if q, ok := pick(st); ok {
					i := x.find(q)
					if i < 0 {
						t.Fatalf("seed %d op %d: find(%d) missed a live entry", seed, op, q)
					}
					x.remove(i)
					x.compact()
					delete(model, q)
				}
			case r < 97: // release one
				if q, ok := pick(slotInFlight); ok {
					if !x.release(x.find(q)) {
						t.Fatalf("seed %d op %d: release(%d) of an in-flight entry failed", seed, op, q)
					}
					model[q] = slotReady
				}
			default:
				want := count(slotInFlight)
				if got := x.releaseAll(); got != want {
					t.Fatalf("seed %d op %d: releaseAll = %d, want %d", seed, op, got, want)
				}
				for q, st := range model {
					if st == slotInFlight {
						model[q] = slotReady
					}
				}
			}
			if op%64 == 0 && (x.live != len(model) || x.ready != count(slotReady) || x.inFlight != count(slotInFlight)) {
				t.Fatalf("seed %d op %d: counts live %d ready %d in flight %d; model %d/%d/%d",
					seed, op, x.live, x.ready, x.inFlight, len(model), count(slotReady), count(slotInFlight))
			}
		}
		// Every live entry is still found; acked ones are not.
		for q := Seq(1); q < next; q++ {
			_, live := model[q]
			if found := x.find(q) >= 0; found != live {
				t.Fatalf("seed %d: find(%d) = %v, want %v", seed, q, found, live)
			}
		}
		if x.n-x.head > 2*len(model)+2048 {
			t.Errorf("seed %d: %d slots kept for %d live entries; compaction is not reclaiming", seed, x.n-x.head, len(model))
		}
	}
}

// TestIndexEmptiedReusesItsChunk: an outbox that empties after every
// acknowledgement (a connected gateway's) allocates nothing per entry.
func TestIndexEmptiedReusesItsChunk(t *testing.T) {
	var x index
	seq := Seq(0)
	cycle := func() {
		seq++
		x.push(slot{seq: seq, size: 100})
		x.remove(x.find(seq))
		x.compact()
	}
	cycle() // the first chunk
	if allocs := testing.AllocsPerRun(1000, cycle); allocs != 0 {
		t.Errorf("%.1f allocations per entry appended and acknowledged, want 0", allocs)
	}
	if x.live != 0 || x.n != 0 {
		t.Errorf("index not empty after the cycles: live %d, stored %d", x.live, x.n)
	}
}
