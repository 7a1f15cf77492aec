package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Command is a node operation that is not one of svc's actions, such as
// the service compliance of examples/svcmgr: this package runs it on every
// node without knowing what it does, so that it need not import the
// packages the operation uses (compliance imports nothing of svc, and svc
// nothing of compliance).
type Command struct {
	// Name says what runs, for reports and errors ("compliance fix").
	Name string
	// Args are the svcmgr arguments that run it on a peer reached over
	// SSH (svcmgr --root R --node N -s SVC --format json ARGS...); the
	// JSON it prints is the node's output, also when it exits 1.
	Args []string
	// Local runs it in this process on an agent (this node, and the
	// peers of the local transport), returning the same JSON svcmgr
	// would print; a non-nil error with output is a node that ran and
	// failed (modules not ok), without output one that could not run.
	Local func(ctx context.Context, a *Agent, svcname string) (json.RawMessage, error)
}

// Executor is a Peer that runs Commands. *Agent and the SSH transport's
// peers are Executors.
type Executor interface {
	Exec(ctx context.Context, svcname string, cmd Command) (json.RawMessage, error)
}

var _ Executor = (*Agent)(nil)

// Exec runs cmd.Local on the agent.
func (a *Agent) Exec(ctx context.Context, svcname string, cmd Command) (json.RawMessage, error) {
	if cmd.Local == nil {
		return nil, fmt.Errorf("%s: %s: no in-process implementation", a.Node, cmd.Name)
	}
	return cmd.Local(ctx, a, svcname)
}

// Exec runs svcmgr with cmd.Args on the peer and returns its JSON output.
func (p *sshPeer) Exec(ctx context.Context, svcname string, cmd Command) (json.RawMessage, error) {
	if len(cmd.Args) == 0 {
		return nil, fmt.Errorf("%s: %s: no svcmgr arguments to run it over ssh", p.node.Name, cmd.Name)
	}
	stdout, stderr, runErr, err := p.t.run(ctx, p.node, svcname, cmd.Args, nil)
	if err != nil {
		return nil, err
	}
	out := bytes.TrimSpace(stdout)
	if !json.Valid(out) {
		out = nil
	}
	if runErr != nil {
		return out, fmt.Errorf("%s: svcmgr %s: %s", p.node.Name, strings.Join(cmd.Args, " "), tail(stderr, runErr))
	}
	if out == nil {
		return nil, fmt.Errorf("%s: svcmgr %s: output is not JSON (stderr: %s)", p.node.Name, strings.Join(cmd.Args, " "), tail(stderr, nil))
	}
	return out, nil
}

// Exec runs cmd on every node of the service, from the flex primary,
// and returns each node's output in Result.Nodes[n].Output; the nodes
// where it failed make a *NodeError.
func (c *Cluster) Exec(ctx context.Context, svcname string, cmd Command) (*Result, error) {
	s, err := c.service(ctx, svcname)
	if err != nil {
		return nil, err
	}
	return c.each(ctx, svcname, cmd.Name, s.Nodes(), func(ctx context.Context, p Peer, nr *NodeResult) error {
		ex, ok := p.(Executor)
		if !ok {
			return errors.New("the transport cannot run " + cmd.Name + " on this node")
		}
		out, err := ex.Exec(ctx, svcname, cmd)
		nr.Output = out
		return err
	})
}
