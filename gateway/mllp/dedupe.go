package mllp

import (
	"container/list"
	"sync"
)

// DefaultRemember is how many acknowledged messages the listener
// remembers for duplicate detection by default: 16384, about 3 hours of a
// 24-bed ward's central station sending every 10 s per bed (about 2 MB).
const DefaultRemember = 16384

// seen remembers the keys of the last messages acknowledged AA, in a
// bounded LRU, and serialises concurrent deliveries of one key: a resent
// message that arrives while its first copy is being stored waits for it.
type seen struct {
	mu       sync.Mutex
	max      int
	order    *list.List // of string, most recent at the front
	done     map[string]*list.Element
	inflight map[string]chan struct{}
}

func newSeen(max int) *seen {
	return &seen{max: max, order: list.New(), done: map[string]*list.Element{}, inflight: map[string]chan struct{}{}}
}

// begin claims key. It returns dup when the key was acknowledged before
// (nothing to do); otherwise the caller owns the key until it calls end.
// It waits while another connection owns the key.
func (s *seen) begin(key string) (dup bool) {
	for {
		s.mu.Lock()
		if e, ok := s.done[key]; ok {
			s.order.MoveToFront(e)
			s.mu.Unlock()
			return true
		}
		wait, busy := s.inflight[key]
		if !busy {
			s.inflight[key] = make(chan struct{})
			s.mu.Unlock()
			return false
		}
		s.mu.Unlock()
		<-wait
	}
}

// end releases key; accepted records it as acknowledged.
func (s *seen) end(key string, accepted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.inflight[key])
	delete(s.inflight, key)
	if !accepted {
		return
	}
	s.done[key] = s.order.PushFront(key)
	for s.order.Len() > s.max {
		old := s.order.Back()
		s.order.Remove(old)
		delete(s.done, old.Value.(string))
	}
}
