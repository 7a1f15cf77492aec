package monitor

import (
	"sync"
	"time"
)

// Event kinds the daemon publishes on its event stream.
const (
	EventResourceDown  = "resource_down" // a resource went from up to down between two status reads
	EventResourceUp    = "resource_up"   // a resource went from down to up
	EventTask          = "task"          // a scheduled task ran (Message: its result)
	EventAction        = "action"        // an acting task of the daemon (compliance, sync) ended
	EventConfig        = "config"        // a service configuration was (re)loaded, or refused
	EventDaemon        = "daemon"        // the daemon started or is stopping
	EventSubscribed    = "subscribed"    // the first line of every stream (Seq 0): the subscription is on
	eventBufferPerSink = 256
)

// restartKind is the kind the monitor emits for a restart tried: the
// daemon counts them in svckit_resource_restarts_total.
const restartKind = "restart"

// Event is one line of the daemon's event stream (GET /events: one JSON
// object per line).
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Service string    `json:"service,omitempty"`
	RID     string    `json:"rid,omitempty"`
	Message string    `json:"message,omitempty"`
}

// bus fans events out to subscribers. A subscriber that does not keep up
// loses events (counted in its Dropped) rather than slowing the daemon.
type bus struct {
	mu     sync.Mutex
	seq    uint64
	sinks  map[*subscription]struct{}
	closed bool
}

type subscription struct {
	C       chan Event
	mu      sync.Mutex
	dropped uint64
}

// Dropped is how many events the subscription lost for being slow.
func (s *subscription) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

func newBus() *bus { return &bus{sinks: map[*subscription]struct{}{}} }

func (b *bus) publish(e Event) Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e.Seq = b.seq
	for s := range b.sinks {
		select {
		case s.C <- e:
		default:
			s.mu.Lock()
			s.dropped++
			s.mu.Unlock()
		}
	}
	return e
}

// subscribe returns a subscription, or nil once the bus is closed.
func (b *bus) subscribe() *subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	s := &subscription{C: make(chan Event, eventBufferPerSink)}
	b.sinks[s] = struct{}{}
	return s
}

func (b *bus) unsubscribe(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.sinks[s]; ok {
		delete(b.sinks, s)
		close(s.C)
	}
}

// close ends every subscription: the streams of the API return.
func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.sinks {
		delete(b.sinks, s)
		close(s.C)
	}
}
