package gcetest

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Model is a latency model of the compute API, off unless SetModel is
// called (tests keep their speed). It gives each kind of operation the
// time it runs before it is DONE, makes attachDisk and detachDisk of one
// instance one at a time (as GCE does: an instance runs one disk
// operation at a time, and another answers RESOURCE_NOT_READY), and
// bounds the project's mutating requests per second (429 beyond, as the
// API's rate quota does).
//
// The values of DefaultModel are estimates of what GCE does in a zone at
// rest; GCE documents no latency figures, and its rate quotas are per
// project and adjustable. Each field says where its default comes from.
// Scale shrinks a model so that a benchmark of it runs in seconds: ratios
// of measured to modelled time do not depend on the scale.
type Model struct {
	// DiskInsert is how long disks.insert of a blank disk runs: default
	// 2s, an estimate (blank pd-standard disks are READY in one to a few
	// seconds; disks from images or snapshots take longer).
	DiskInsert time.Duration
	// DiskDelete is how long disks.delete runs: default 2s, an estimate
	// (same order as an insert).
	DiskDelete time.Duration
	// AttachDisk is how long instances.attachDisk runs: default 3s, an
	// estimate (the operation is DONE when the guest sees the device,
	// commonly 2 to 5 seconds).
	AttachDisk time.Duration
	// DetachDisk is how long instances.detachDisk runs: default 3s, an
	// estimate (same order as an attach; longer when the guest holds the
	// device open).
	DetachDisk time.Duration
	// RouteInsert and RouteDelete are how long routes.insert and
	// routes.delete (global operations) run: default 5s each, an estimate
	// (routes are programmed over the whole VPC network and commonly take
	// several seconds, more than zonal disk operations).
	RouteInsert, RouteDelete time.Duration
	// InstanceGet is how long instances.get takes to answer: default
	// 150ms, an estimate (a read of the API answers in about 100 to 200
	// ms from inside the region). Other reads (disk and route gets, lists,
	// operation polls) answer at once: their cost is not what is modelled.
	InstanceGet time.Duration
	// MutationsPerSecond bounds the project's mutating requests (POST and
	// DELETE): beyond it, with MutationBurst requests of slack, a request
	// answers 429 rateLimitExceeded before it acts. Default 20 per second
	// (1,200 a minute), an estimate of the default per-project write
	// quota of the compute API (the "queries per minute" quotas of the
	// Cloud console, in the low thousands per minute and adjustable). 0:
	// no limit.
	MutationsPerSecond float64
	// MutationBurst is the bucket size of the rate limit: default 20 (one
	// second's worth).
	MutationBurst int
}

// DefaultModel returns the model with the values documented on Model.
func DefaultModel() Model {
	return Model{
		DiskInsert:         2 * time.Second,
		DiskDelete:         2 * time.Second,
		AttachDisk:         3 * time.Second,
		DetachDisk:         3 * time.Second,
		RouteInsert:        5 * time.Second,
		RouteDelete:        5 * time.Second,
		InstanceGet:        150 * time.Millisecond,
		MutationsPerSecond: 20,
		MutationBurst:      20,
	}
}

// Scale returns m with every latency multiplied by f and the rate limit
// divided by it, so that a workload keeps the same shape in f of the
// time (Scale(0.01): 3s attaches take 30ms, 20 mutations a second become
// 2,000). f must be positive.
func (m Model) Scale(f float64) Model {
	d := func(x time.Duration) time.Duration { return time.Duration(float64(x) * f) }
	out := m
	out.DiskInsert, out.DiskDelete = d(m.DiskInsert), d(m.DiskDelete)
	out.AttachDisk, out.DetachDisk = d(m.AttachDisk), d(m.DetachDisk)
	out.RouteInsert, out.RouteDelete = d(m.RouteInsert), d(m.RouteDelete)
	out.InstanceGet = d(m.InstanceGet)
	if f > 0 {
		out.MutationsPerSecond = m.MutationsPerSecond / f
	}
	return out
}

// OperationTime is how long an operation of opType on a target of kind
// ("disks", "instances", "routes") runs under the model.
func (m Model) OperationTime(opType, kind string) time.Duration {
	switch {
	case opType == "attachDisk":
		return m.AttachDisk
	case opType == "detachDisk":
		return m.DetachDisk
	case kind == "disks" && opType == "insert":
		return m.DiskInsert
	case kind == "disks" && opType == "delete":
		return m.DiskDelete
	case kind == "routes" && opType == "insert":
		return m.RouteInsert
	case kind == "routes" && opType == "delete":
		return m.RouteDelete
	}
	return 0
}

// SetModel turns the latency model on (nil turns it off). Operations
// already running keep their time.
func (s *Server) SetModel(m *Model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == nil {
		s.model = nil
		return
	}
	c := *m
	s.model = &c
	s.tokens = float64(c.MutationBurst)
	s.refill = time.Now()
}

// Model returns the model in force, nil when off.
func (s *Server) Model() *Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.model == nil {
		return nil
	}
	c := *s.model
	return &c
}

// rateLimited takes a token of the project's mutation bucket for a
// mutating request and tells whether there was none; s.mu is held.
func (s *Server) rateLimited(r *http.Request) bool {
	m := s.model
	if m == nil || m.MutationsPerSecond <= 0 || (r.Method != http.MethodPost && r.Method != http.MethodDelete) ||
		strings.HasSuffix(r.URL.Path, "/wait") { // operations.wait reads
		return false
	}
	now := time.Now()
	burst := float64(max(m.MutationBurst, 1))
	s.tokens = min(burst, s.tokens+now.Sub(s.refill).Seconds()*m.MutationsPerSecond)
	s.refill = now
	if s.tokens < 1 {
		s.nRateLimited++
		return true
	}
	s.tokens--
	return false
}

// sleep waits d or until ctx ends, and tells whether d passed: a
// client that gives up does not keep a handler waiting.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// targetKind is the collection of an operation's target path
// ("projects/p/zones/z/disks/d" is "disks").
func targetKind(target string) string {
	parts := strings.Split(target, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2]
	}
	return ""
}

// ModelStats counts what the model did.
type ModelStats struct {
	// NotReady is how many attachDisk or detachDisk requests met another
	// one running on their instance (their operation failed with
	// RESOURCE_NOT_READY).
	NotReady int
	// RateLimited is how many mutating requests were answered 429.
	RateLimited int
}

// Stats returns what the model did so far.
func (s *Server) Stats() ModelStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ModelStats{NotReady: s.nNotReady, RateLimited: s.nRateLimited}
}
