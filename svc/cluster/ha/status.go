package ha

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// NodeStatus is one node as etcd sees it.
type NodeStatus struct {
	Node  string `json:"node"`
	Alive bool   `json:"alive"`
	Lease string `json:"lease,omitempty"`
	// LeaseAge is the time since the last renewal, LeaseLeft the time
	// before the lease expires unless renewed (seconds).
	LeaseAge  float64   `json:"lease_age_s,omitempty"`
	LeaseLeft float64   `json:"lease_left_s,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	Rejoined  bool      `json:"rejoined,omitempty"`
	Primary   bool      `json:"primary,omitempty"`
	Pods      []string  `json:"pods"`
}

// PodStatus is where a pod runs, or why it does not.
type PodStatus struct {
	Pod  string `json:"pod"`
	Node string `json:"node"`
	// State: owned (its node's lease lives), unclaimed (the initial
	// layout, its node has not joined yet), lost (its node's lease
	// expired), moving to NODE.
	State string `json:"state"`
}

// ClusterStatus is the HA view of a service: what an operator wants at
// 3 a.m. (svcmgr print status --cluster).
type ClusterStatus struct {
	Service string       `json:"service"`
	Time    time.Time    `json:"time"`
	Primary string       `json:"primary"`
	Blocked string       `json:"blocked,omitempty"`
	Nodes   []NodeStatus `json:"nodes"`
	Pods    []PodStatus  `json:"pods"`
	Moves   []Move       `json:"moves"`
	// Relayout lists the relayout moves not started yet.
	Relayout []Move  `json:"relayout_pending,omitempty"`
	Events   []Event `json:"events"`
}

// ReadStatus reads the HA status of svcname from etcd; nodes are the
// service's nodes (those never seen are listed as not alive).
func ReadStatus(ctx context.Context, cli *clientv3.Client, prefix, svcname string, nodes []string) (*ClusterStatus, error) {
	k := newKeys(prefix, svcname)
	snap, err := read(ctx, cli, k)
	if err != nil {
		return nil, fmt.Errorf("ha: status of %s: %w", svcname, err)
	}
	st := &ClusterStatus{Service: svcname, Time: time.Now(), Primary: snap.primaryKey, Blocked: snap.note.Blocked, Moves: []Move{}}
	all := map[string]bool{}
	for _, n := range nodes {
		all[n] = true
	}
	for n := range snap.nodes {
		all[n] = true
	}
	for n := range snap.members {
		all[n] = true
	}
	byNode := map[string]*NodeStatus{}
	for _, n := range sortedKeys(all) {
		ns := &NodeStatus{Node: n, Pods: []string{}, Rejoined: snap.members[n].Rejoined, Primary: n == snap.primaryKey}
		if rec, ok := snap.nodes[n]; ok {
			ns.Alive, ns.Lease, ns.Since = true, fmt.Sprintf("%x", rec.Lease), rec.Since
			if ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(rec.Lease)); err == nil && ttl.TTL >= 0 {
				ns.LeaseLeft = float64(ttl.TTL)
				ns.LeaseAge = float64(ttl.GrantedTTL - ttl.TTL)
			}
		}
		byNode[n] = ns
	}
	for _, pod := range snap.pods() {
		pl := snap.placement[pod]
		ps := PodStatus{Pod: pod, Node: pl.Node}
		switch mv, ok := snap.moves[pod]; {
		case ok:
			ps.State = fmt.Sprintf("moving to %s", mv.To)
		case snap.alive(pl.Lease):
			ps.State = "owned"
		case pl.Lease == 0:
			ps.State = "unclaimed"
		default:
			ps.State = "lost"
		}
		st.Pods = append(st.Pods, ps)
		if ns := byNode[pl.Node]; ns != nil {
			ns.Pods = append(ns.Pods, pod)
		}
	}
	for _, n := range sortedKeys(byNode) {
		st.Nodes = append(st.Nodes, *byNode[n])
	}
	for _, pod := range sortedKeys(snap.moves) {
		st.Moves = append(st.Moves, snap.moves[pod])
	}
	if snap.relayout != nil {
		st.Relayout = snap.relayout.Pending
	}
	g, err := cli.Get(ctx, k.events(), clientv3.WithPrefix())
	if err == nil {
		for _, kv := range g.Kvs {
			var ev Event
			if json.Unmarshal(kv.Value, &ev) == nil {
				st.Events = append(st.Events, ev)
			}
		}
	}
	sort.Slice(st.Events, func(i, j int) bool { return st.Events[i].Time.Before(st.Events[j].Time) })
	return st, nil
}

// Render draws the status as text; the last events are limited to
// maxEvents (0: 20).
func (st *ClusterStatus) Render(maxEvents int) string {
	if maxEvents <= 0 {
		maxEvents = 20
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  primary: %s\n", st.Service, orNone(st.Primary))
	if st.Blocked != "" {
		fmt.Fprintf(&b, "  nothing moves: %s\n", st.Blocked)
	}
	for _, n := range st.Nodes {
		state := "lost"
		if n.Alive {
			state = fmt.Sprintf("alive  lease %s age %.0fs left %.0fs", n.Lease, n.LeaseAge, n.LeaseLeft)
		}
		flags := ""
		if n.Primary {
			flags += " primary"
		}
		if n.Rejoined {
			flags += " rejoined (no pod until relayout)"
		}
		fmt.Fprintf(&b, "  %-10s %s%s\n", n.Node, state, flags)
		fmt.Fprintf(&b, "  %-10s pods: %s\n", "", orNone(strings.Join(n.Pods, " ")))
	}
	var odd []string
	for _, p := range st.Pods {
		if p.State != "owned" {
			odd = append(odd, p.Pod+" "+p.State)
		}
	}
	if len(odd) > 0 {
		fmt.Fprintf(&b, "  pods not owned by a live node: %s\n", strings.Join(odd, ", "))
	}
	for _, m := range st.Moves {
		fmt.Fprintf(&b, "  move %s %s -> %s (%s; attempt %d)", m.Pod, m.From, m.To, m.Reason, m.Attempts)
		if m.Failed != "" {
			fmt.Fprintf(&b, " failed: %s", m.Failed)
		}
		if m.GaveUp {
			b.WriteString(" GAVE UP")
		}
		b.WriteString("\n")
	}
	evs := st.Events
	if len(evs) > maxEvents {
		evs = evs[len(evs)-maxEvents:]
	}
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s %-6s %s\n", e.Time.Format("15:04:05.000"), e.Node, e.Msg)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
