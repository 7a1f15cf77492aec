package cluster_test

import (
	"fmt"
	"slices"

	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc/cluster"
)

// spdPlanner adapts formtemplate/spd to cluster.Planner for the tests;
// examples/svcmgr has the one programs use (svc must not import
// formtemplate, tests may).
type spdPlanner struct{}

func (spdPlanner) MovePod(config []byte, pod int, to string) ([]byte, cluster.Move, error) {
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
		return nil, cluster.Move{}, fmt.Errorf("node %s: not a node of the service (%v)", to, l.NodeNames())
	}
	mv := cluster.Move{Pod: pod, Tag: p.Tag(), From: p.Node, To: to}
	l.Pods = slices.Clone(l.Pods)
	l.Pods[pod-1].Node, l.Pods[pod-1].Gateway = n.Name, n.Gateway
	cfg, err := l.Config()
	return cfg, mv, err
}

func (spdPlanner) Relayout(config []byte, nodes []string) (cluster.Plan, error) {
	old, err := spd.ParseLayout(config)
	if err != nil {
		return cluster.Plan{}, err
	}
	plan, err := spd.Relayout(old, nodes)
	if err != nil {
		return cluster.Plan{}, err
	}
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
