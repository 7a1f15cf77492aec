package hatest

import (
	"context"
	"sync"
)

// Pods is an in-memory ha.Pods for tests: a start brings a pod up at once;
// the stop of a pod named in Hang blocks until Release is closed (a stuck
// umount, a container that ignores SIGKILL). It is safe for concurrent
// use; Hang and Release are set before the agent runs.
type Pods struct {
	Hang    map[string]bool
	Release chan struct{}

	mu sync.Mutex
	up map[string]bool
}

// Start brings pod up.
func (p *Pods) Start(ctx context.Context, pod string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.up == nil {
		p.up = map[string]bool{}
	}
	p.up[pod] = true
	return nil
}

// Stop takes pod down, after Release is closed when Hang names it.
func (p *Pods) Stop(ctx context.Context, pod string) error {
	if p.Hang[pod] {
		<-p.Release
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.up, pod)
	return nil
}

// Running lists no pod: an agent starting on it stops nothing.
func (p *Pods) Running(ctx context.Context) ([]string, error) { return nil, nil }

// Up tells whether pod is up.
func (p *Pods) Up(pod string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.up[pod]
}
