// Package spdplanner is the cluster.Planner of the configs formtemplate/spd
// generates (the seed's sharded spd service): Migrate and Relayout of
// svc/cluster read the pod layout of the config with it and render the
// new one. Give it to a cluster.Cluster:
//
//	c := &cluster.Cluster{Self: self, Transport: t, Planner: spdplanner.Planner{}}
//
// It is apart from svc/cluster so that the cluster code does not depend on
// the form generator, and a program that has its own layouts need not
// import it.
package spdplanner

import (
	"fmt"
	"slices"

	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc/cluster"
)

// Planner is the cluster.Planner of spd configs: MovePod and Relayout
// parse the layout of the config (refusing a config edited by hand) and
// render the new one with formtemplate/spd.
type Planner struct{}

var _ cluster.Planner = Planner{}

// MovePod moves one pod: its resources enabled on to, its containers'
// gateway set to to's bridge address.
func (Planner) MovePod(config []byte, pod int, to string) ([]byte, cluster.Move, error) {
	l, err := spd.ParseLayout(config)
	if err != nil {
		return nil, cluster.Move{}, err
	}
	p, ok := l.Pod(pod)
	if !ok {
		return nil, cluster.Move{}, fmt.Errorf("pod %d: expected a pod number from 1 to %d", pod, len(l.Pods))
	}
	n, ok := l.Node(to)
	if !ok {
		return nil, cluster.Move{}, fmt.Errorf("node %s: not a node of service %s (%v): use relayout to add a node", to, l.Svcname, l.NodeNames())
	}
	mv := cluster.Move{Pod: pod, Tag: p.Tag(), From: p.Node, To: to}
	l.Pods = slices.Clone(l.Pods)
	l.Pods[pod-1].Node, l.Pods[pod-1].Gateway = n.Name, n.Gateway
	cfg, err := l.Config()
	return cfg, mv, err
}

// Relayout turns spd.Relayout's plan into a sequence of configs: the new
// nodes declared first, then one pod moved per step, then the final node
// list.
func (Planner) Relayout(config []byte, nodes []string) (cluster.Plan, error) {
	old, err := spd.ParseLayout(config)
	if err != nil {
		return cluster.Plan{}, err
	}
	plan, err := spd.Relayout(old, nodes)
	if err != nil {
		return cluster.Plan{}, err
	}
	// Intermediate layouts declare the new nodes (with the gateways the
	// plan gave them) and keep the removed ones until their pods left.
	cur := old
	cur.Pods = slices.Clone(old.Pods)
	cur.Nodes = slices.Clone(plan.New.Nodes)
	for _, n := range old.Nodes {
		if _, ok := plan.New.Node(n.Name); !ok {
			cur.Nodes = append(cur.Nodes, n)
		}
	}
	out := cluster.Plan{Final: plan.Config}
	if !slices.Equal(cur.NodeNames(), old.NodeNames()) {
		if out.Prepare, err = cur.Config(); err != nil {
			return cluster.Plan{}, err
		}
	}
	for _, mv := range plan.Moves {
		cur.Pods[mv.Pod-1].Node, cur.Pods[mv.Pod-1].Gateway = mv.To, mv.Gateway
		cfg, err := cur.Config()
		if err != nil {
			return cluster.Plan{}, err
		}
		out.Steps = append(out.Steps, cluster.PlanStep{Move: cluster.Move{Pod: mv.Pod, Tag: mv.Tag, From: mv.From, To: mv.To}, Config: cfg})
	}
	return out, nil
}
