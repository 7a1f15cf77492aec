// Package hatest holds the invariant checker of the flex HA tests and of
// examples/spd -ha: which node each pod runs on, as the nodes report it,
// and the violations of "a pod never runs on two nodes"; and Pods, an
// in-memory ha.Pods whose stops can be made to hang.
package hatest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// ErrHostDown is what Starting answers for a node that Kill marked dead:
// its host is gone, nothing of it runs.
var ErrHostDown = errors.New("host down")

// Ledger is the invariant checker's view of what runs: a pod counts as up
// on a node from the moment its start begins until its stop ends, and a
// start while the pod counts as up elsewhere is a violation. It is safe
// for concurrent use.
type Ledger struct {
	mu         sync.Mutex
	up         map[string]map[string]bool // pod -> nodes
	dead       map[string]bool
	lastStop   map[string]time.Time // node -> end of its last stop
	violations []string
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{up: map[string]map[string]bool{}, dead: map[string]bool{}, lastStop: map[string]time.Time{}}
}

// Violate records a violation of an invariant.
func (l *Ledger) Violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.violate(format, args...)
}

func (l *Ledger) violate(format string, args ...any) {
	l.violations = append(l.violations, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

// Starting records that node begins to start pod: a violation when pod
// counts as up on another node; ErrHostDown for a dead node.
func (l *Ledger) Starting(node, pod string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dead[node] {
		return ErrHostDown
	}
	for n := range l.up[pod] {
		if n != node {
			l.violate("%s starts on %s while up on %s", pod, node, n)
		}
	}
	if l.up[pod] == nil {
		l.up[pod] = map[string]bool{}
	}
	l.up[pod][node] = true
	return nil
}

// Stopped records that node finished stopping pod at t.
func (l *Ledger) Stopped(node, pod string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.up[pod], node)
	l.lastStop[node] = t
}

// Kill marks node dead: its host and pods are gone.
func (l *Ledger) Kill(node string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dead[node] = true
	for _, nodes := range l.up {
		delete(nodes, node)
	}
}

// Revive marks node alive again (a host that came back, with no pods).
func (l *Ledger) Revive(node string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.dead, node)
}

// Dead tells whether Kill marked node dead.
func (l *Ledger) Dead(node string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dead[node]
}

// Where returns the nodes pod counts as up on, sorted.
func (l *Ledger) Where(pod string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for n := range l.up[pod] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LastStop is when node's last stop ended (zero if none).
func (l *Ledger) LastStop(node string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastStop[node]
}

// Violations returns the violations recorded so far.
func (l *Ledger) Violations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.violations)
}
