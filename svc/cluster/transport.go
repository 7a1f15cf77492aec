package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/svckit/svckit/svc"
)

// Peer runs the operations of one node and returns their structured
// results. *Agent is the Peer of the node itself.
type Peer interface {
	// Do runs action on the node (the svc.Result comes back even when the
	// action failed, with the error).
	Do(ctx context.Context, svcname string, action svc.Action, opts svc.ActionOptions) (*svc.Result, error)
	// Status returns the node's status tree and config checksum.
	Status(ctx context.Context, svcname string) (*NodeStatus, error)
	// ConfigChecksum returns the sha256 of the node's config file of
	// svcname, and nothing else: the status of a sync asks for it, and
	// asking for the peer's Status instead would run the peer's sync
	// status, which would ask back.
	ConfigChecksum(ctx context.Context, svcname string) (string, error)
	// Pull makes the node fetch the config from its store, validate it
	// and install it.
	Pull(ctx context.Context, svcname string, opts InstallOptions) (*ConfigChange, error)
	// Install gives the node a config to validate and install
	// atomically; source names where it comes from.
	Install(ctx context.Context, svcname string, data []byte, source string, opts InstallOptions) (*ConfigChange, error)
}

var _ Peer = (*Agent)(nil)

// Transport reaches the peers of a cluster.
type Transport interface {
	// Peer returns the peer of node.
	Peer(node string) (Peer, error)
}

// Local is a transport to agents in the same process, each with its own
// root: for tests and embedded demos, the peers run through the same svc
// API as over SSH.
type Local struct {
	Agents map[string]*Agent
}

// NewLocal returns a local transport to agents, keyed by their node name.
func NewLocal(agents ...*Agent) *Local {
	l := &Local{Agents: map[string]*Agent{}}
	for _, a := range agents {
		l.Agents[a.Node] = a
	}
	return l
}

// Peer returns the agent of node.
func (l *Local) Peer(node string) (Peer, error) {
	a, ok := l.Agents[node]
	if !ok {
		names := make([]string, 0, len(l.Agents))
		for n := range l.Agents {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("node %s: not reachable through the local transport (it has %s)", node, strings.Join(names, " "))
	}
	return a, nil
}
