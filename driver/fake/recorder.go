package fake

import (
	"sort"
	"sync"
	"time"
)

// Call is one action call on a fake resource.
type Call struct {
	Service  string    `json:"service"`
	Node     string    `json:"node"`
	RID      string    `json:"rid"`
	DriverID string    `json:"driver"`
	Action   string    `json:"action"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Err is the error text of a failed call, "" on success.
	Err    string `json:"error,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// Duration is how long the call took.
func (c Call) Duration() time.Duration { return c.End.Sub(c.Start) }

// Recorder records the calls of the fakes. It is safe for concurrent use;
// the zero value is ready.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

func (r *Recorder) add(c Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// Calls returns the recorded calls in the order they started.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	out := append([]Call(nil), r.calls...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Actions returns the calls of one action (start, stop, ...), dry runs
// excluded, in the order they started.
func (r *Recorder) Actions(action string) []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.Action == action && !c.DryRun {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the calls of action on rid, in the order they started.
func (r *Recorder) Find(rid, action string) []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.RID == rid && c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets every call.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}
