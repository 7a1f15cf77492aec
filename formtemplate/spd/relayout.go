package spd

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Move is one pod changing node. Its addresses (and so its GCE routes)
// stay; its containers get the gateway of the new node.
type Move struct {
	Pod  int    `json:"pod"`
	Tag  string `json:"tag"`
	From string `json:"from"`
	To   string `json:"to"`
	// SMIP and DBIP are the pod's addresses, unchanged by the move.
	SMIP netip.Addr `json:"sm_ip"`
	DBIP netip.Addr `json:"db_ip"`
	// Gateway is the gateway of the pod's containers on To.
	Gateway netip.Addr `json:"gateway"`
}

// Plan is a relayout: the layouts before and after, the pods that move,
// and the new config.
type Plan struct {
	Old   Layout `json:"old"`
	New   Layout `json:"new"`
	Moves []Move `json:"moves"`
	// Config is the new service config. It holds the root password: it is
	// not marshalled.
	Config []byte `json:"-"`
}

// Relayout spreads the pods of old over nodes, balanced (node pod counts
// differ by at most one) and moving the fewest pods: a node that stays
// keeps its pods up to its new share, the nodes holding the most pods get
// the larger shares, and only the excess and the pods of removed nodes
// move, lowest pod numbers first to the first nodes lacking pods. A node
// that keeps pods keeps its gateway, so that their containers need no
// change; a node that gets its first pods takes 10.0.0.<its position+1>
// when free, else the lowest free node address (ParseLayout follows the
// same rule, so that the new config reads back as the new layout).
//
// Growing 32 pods from 4 nodes to 5 moves 6 pods; removing a node moves
// only its pods (when the others have room within the balance).
func Relayout(old Layout, nodes []string) (Plan, error) {
	if err := old.Validate(); err != nil {
		return Plan{}, fmt.Errorf("current layout: %w", err)
	}
	in := old.Inputs()
	in.Nodes = slices.Clone(nodes)
	if err := in.Validate(); err != nil {
		return Plan{}, err
	}
	n, m := len(old.Pods), len(nodes)
	counts := old.Counts()
	current := make([]int, m)
	for i, name := range nodes {
		current[i] = counts[name] // 0 for a new node
	}
	// The larger shares go to the nodes that hold the most pods (ties: in
	// node order): each share above a node's count is a pod that must
	// move in, so this keeps the moves to the unavoidable ones.
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return current[b] - current[a] })
	target := make([]int, m)
	for rank, i := range order {
		target[i] = n / m
		if rank < n%m {
			target[i]++
		}
	}

	next := old.clone()
	index := map[string]int{}
	for i, name := range nodes {
		index[name] = i
	}
	// Pods that leave: all those of removed nodes, and the highest
	// numbered beyond each staying node's share.
	kept := make([]int, m)
	var leaving []int // pod indexes
	for pi, p := range old.Pods {
		i, stays := index[p.Node]
		if stays && kept[i] < target[i] {
			kept[i]++
			continue
		}
		leaving = append(leaving, pi)
	}
	// Pod placement first, then gateways: a staying node that keeps pods
	// keeps its gateway (its pods' containers need no change); the others
	// get one by the rule ParseLayout follows, so that the new config
	// reads back as this very layout.
	dstOf := map[int]int{} // pod index -> node index
	dst := 0
	for _, pi := range leaving {
		for kept[dst] >= target[dst] {
			dst++
		}
		kept[dst]++
		dstOf[pi] = dst
	}
	known := map[string]netip.Addr{}
	hosting := map[string]bool{}
	for i, name := range nodes {
		if target[i] == 0 {
			continue
		}
		hosting[name] = true
		if node, ok := old.Node(name); ok && counts[name] > 0 {
			known[name] = node.Gateway
		}
	}
	next.Nodes = assignGateways(nodes, known, hosting)
	moves := []Move{}
	for pi := range next.Pods {
		p := &next.Pods[pi]
		if d, moving := dstOf[pi]; moving {
			to := next.Nodes[d]
			moves = append(moves, Move{Pod: p.Num, Tag: p.Tag(), From: p.Node, To: to.Name,
				SMIP: p.SMIP, DBIP: p.DBIP, Gateway: to.Gateway})
			p.Node = to.Name
		}
		node, _ := next.Node(p.Node)
		p.Gateway = node.Gateway
	}
	cfg, err := next.Config()
	if err != nil {
		return Plan{}, err
	}
	return Plan{Old: old.clone(), New: next, Moves: moves, Config: cfg}, nil
}

// String renders the plan for a terminal: the nodes with their pod
// counts before and after, each move, and the procedure that applies it.
// It holds no secret.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "relayout of %s: %d pods, %d nodes -> %d nodes, %d pods move\n",
		p.New.Svcname, len(p.New.Pods), len(p.Old.Nodes), len(p.New.Nodes), len(p.Moves))
	before, after := p.Old.Counts(), p.New.Counts()
	fmt.Fprintf(&b, "\n%-20s %-12s %6s %6s\n", "NODE", "GATEWAY", "BEFORE", "AFTER")
	for _, n := range p.New.Nodes {
		fmt.Fprintf(&b, "%-20s %-12s %6d %6d\n", n.Name, n.Gateway, before[n.Name], after[n.Name])
	}
	for _, n := range p.Old.Nodes {
		if _, ok := p.New.Node(n.Name); !ok {
			fmt.Fprintf(&b, "%-20s %-12s %6d %6s\n", n.Name, "(removed)", before[n.Name], "-")
		}
	}
	if len(p.Moves) == 0 {
		b.WriteString("\nno pod moves\n")
		return b.String()
	}
	fmt.Fprintf(&b, "\n%-6s %-20s %-20s %-12s %s\n", "POD", "FROM", "TO", "GATEWAY", "ADDRESSES (kept)")
	for _, mv := range p.Moves {
		fmt.Fprintf(&b, "%-6s %-20s %-20s %-12s %s %s\n", mv.Tag, mv.From, mv.To, mv.Gateway, mv.SMIP, mv.DBIP)
	}
	svc := p.New.Svcname
	fmt.Fprintf(&b, "\nprocedure:\n")
	fmt.Fprintf(&b, "  1. on each FROM node, stop the pods that leave it: svcmgr -s %s stop --tags <pod>\n", svc)
	fmt.Fprintf(&b, "  2. install the new config on every node: svcmgr -s %s --cluster pull\n", svc)
	var added []string
	for _, n := range p.New.Nodes {
		if _, ok := p.Old.Node(n.Name); !ok {
			added = append(added, n.Name)
		}
	}
	if len(added) > 0 {
		fmt.Fprintf(&b, "  3. on the new nodes (%s), provision and start the service's own resources: svcmgr -s %s provision --rid disk#00,fs#00,container#dockerd; svcmgr -s %s start --rid disk#00,fs#00,container#dockerd\n",
			strings.Join(added, ", "), svc, svc)
	}
	fmt.Fprintf(&b, "  %d. on each TO node, start the pods that arrive: svcmgr -s %s start --tags <pod>\n", 3+min(len(added), 1), svc)
	return b.String()
}
