package ha

import (
	"context"
	"fmt"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// RequestRelayout asks the primary of svcname to spread the pods over the
// live nodes with the fewest moves, the rejoined nodes included (they
// take pods again from then on). The moves run like failovers, Parallel
// at a time, each pod stopped on its node before it starts on the other.
func RequestRelayout(ctx context.Context, cli *clientv3.Client, prefix, svcname string) error {
	k := newKeys(prefix, svcname)
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k.relayout()), "=", 0)).
		Then(clientv3.OpPut(k.relayout(), mustJSON(relayoutRequest{Asked: time.Now()}))).Commit()
	if err != nil {
		return fmt.Errorf("ha: relayout of %s: %w", svcname, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("ha: relayout of %s: one is already in progress", svcname)
	}
	return nil
}

// balance returns the fewest moves that leave the pods of counts spread
// over nodes with at most one pod of difference: from the fullest node
// to the emptiest, one pod at a time.
func balance(podsOn map[string][]string, nodes []string) []Move {
	cur := map[string][]string{}
	for _, n := range nodes {
		cur[n] = append([]string(nil), podsOn[n]...)
		sort.Strings(cur[n])
	}
	var out []Move
	for range 10000 {
		sort.Slice(nodes, func(i, j int) bool {
			if len(cur[nodes[i]]) != len(cur[nodes[j]]) {
				return len(cur[nodes[i]]) > len(cur[nodes[j]])
			}
			return nodes[i] < nodes[j]
		})
		hi, lo := nodes[0], nodes[len(nodes)-1]
		if len(cur[hi])-len(cur[lo]) <= 1 {
			break
		}
		pod := cur[hi][len(cur[hi])-1]
		cur[hi] = cur[hi][:len(cur[hi])-1]
		cur[lo] = append(cur[lo], pod)
		out = append(out, Move{Pod: pod, From: hi, To: lo})
	}
	return out
}

func (a *Agent) relayoutRound(ctx context.Context, snap *snapshot, live map[string]bool, inFlight *int, leader clientv3.Cmp) {
	rr := *snap.relayout
	if !rr.Planned {
		if len(snap.moves) > 0 {
			return // let the failovers end first
		}
		podsOn := map[string][]string{}
		var nodes []string
		for n := range live {
			nodes = append(nodes, n)
			podsOn[n] = nil
		}
		for pod, pl := range snap.placement {
			if live[pl.Node] && snap.alive(pl.Lease) {
				podsOn[pl.Node] = append(podsOn[pl.Node], pod)
			}
		}
		rr.Pending, rr.Planned = balance(podsOn, nodes), true
		ops := []clientv3.Op{clientv3.OpPut(a.k.relayout(), mustJSON(rr))}
		for n := range live {
			if snap.members[n].Rejoined {
				ops = append(ops, clientv3.OpPut(a.k.member(n), mustJSON(memberRecord{})))
			}
		}
		resp, err := a.cli.Txn(ctx).If(leader, clientv3.Compare(clientv3.ModRevision(a.k.relayout()), "=", snap.relayRev)).Then(ops...).Commit()
		if err == nil && resp.Succeeded {
			a.event("relayout", "", "relayout over %s: %d moves planned, rejoined nodes take pods again", names(live), len(rr.Pending))
		}
		return
	}
	if len(rr.Pending) == 0 {
		if len(snap.moves) == 0 {
			resp, err := a.cli.Txn(ctx).If(leader, clientv3.Compare(clientv3.ModRevision(a.k.relayout()), "=", snap.relayRev)).
				Then(clientv3.OpDelete(a.k.relayout())).Commit()
			if err == nil && resp.Succeeded {
				a.event("relayout", "", "relayout done")
			}
		}
		return
	}
	var ops []clientv3.Op
	cmps := []clientv3.Cmp{leader, clientv3.Compare(clientv3.ModRevision(a.k.relayout()), "=", snap.relayRev)}
	var started []Move
	for len(rr.Pending) > 0 && *inFlight+len(started) < a.cfg.Parallel {
		mv := rr.Pending[0]
		rr.Pending = rr.Pending[1:]
		pl, ok := snap.placement[mv.Pod]
		if _, moving := snap.moves[mv.Pod]; !ok || moving || pl.Node != mv.From || !live[mv.To] || !snap.alive(pl.Lease) {
			continue // the layout changed since the plan: skip that move
		}
		mv.FromLease, mv.Created, mv.Primary, mv.Attempts, mv.Reason = pl.Lease, time.Now(), a.cfg.Node, 1, "relayout"
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(a.k.placement(mv.Pod)), "=", snap.placeRev[mv.Pod]),
			clientv3.Compare(clientv3.CreateRevision(a.k.move(mv.Pod)), "=", 0))
		ops = append(ops, clientv3.OpPut(a.k.move(mv.Pod), mustJSON(mv)))
		started = append(started, mv)
	}
	ops = append(ops, clientv3.OpPut(a.k.relayout(), mustJSON(rr)))
	resp, err := a.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err == nil && resp.Succeeded {
		*inFlight += len(started)
		for _, mv := range started {
			a.event("move", mv.Pod, "moving %s from %s to %s: relayout", mv.Pod, mv.From, mv.To)
		}
	}
}
