package ha

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// electionLoop campaigns for primary under the node's lease. A node that
// is not flex_primary campaigns only while flex_primary is not alive, and
// a primary that is not flex_primary resigns when it is back and no move
// is in progress.
//
// The election is etcd's recipe (a key per candidate under the election
// prefix, attached to its lease; the oldest key leads), written here with
// bounded calls: concurrency.Election's Campaign, cancelled while etcd is
// out of reach, resigns with the client's own context and never returns,
// which held the agent (and the daemon's shutdown) as long as etcd was
// unreachable.
func (a *Agent) electionLoop(ctx context.Context) {
	for ctx.Err() == nil {
		lease, valid := a.leaseState()
		if !valid || !a.mayCampaign(ctx) {
			sleep(ctx, a.cfg.LeaseTTL/5)
			continue
		}
		key := fmt.Sprintf("%s%x", a.k.election(), int64(lease))
		rev, err := a.candidate(ctx, key, lease)
		if err != nil {
			sleep(ctx, a.cfg.LeaseTTL/5)
			continue
		}
		if !a.waitLeader(ctx, key, lease) {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		a.setPrimary(true)
		a.event("elect", "", "%s elected primary of %s (lease %x)", a.cfg.Node, a.cfg.Service, int64(lease))
		a.lead(cctx, clientv3.Compare(clientv3.CreateRevision(key), "=", rev), lease)
		a.setPrimary(false)
		cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.LeaseTTL/5)
		_, _ = a.cli.Delete(rctx, key)
		rcancel()
		a.event("elect", "", "%s is no longer primary", a.cfg.Node)
	}
}

// candidate puts this node's election key under its lease (or finds it)
// and returns its create revision.
func (a *Agent) candidate(ctx context.Context, key string, lease clientv3.LeaseID) (int64, error) {
	cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
	defer cancel()
	resp, err := a.cli.Txn(cctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, a.cfg.Node, clientv3.WithLease(lease))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return 0, err
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) != 1 {
		return 0, fmt.Errorf("election key %s vanished", key)
	}
	return kvs[0].CreateRevision, nil
}

// waitLeader waits until key is the oldest of the election, every
// TTL/10, each read bounded; false when the lease changed or ctx ended.
func (a *Agent) waitLeader(ctx context.Context, key string, lease clientv3.LeaseID) bool {
	for ctx.Err() == nil {
		if l, ok := a.leaseState(); !ok || l != lease {
			return false
		}
		if !a.mayCampaign(ctx) {
			// flex_primary is back: withdraw, it takes the lead.
			cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
			_, _ = a.cli.Delete(cctx, key)
			cancel()
			return false
		}
		cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
		g, err := a.cli.Get(cctx, a.k.election(), clientv3.WithFirstCreate()...)
		cancel()
		if err == nil && len(g.Kvs) == 1 && string(g.Kvs[0].Key) == key {
			return true
		}
		if err == nil && len(g.Kvs) == 0 {
			return false // our key is gone (lease expired): campaign again
		}
		select {
		case <-ctx.Done():
		case <-time.After(a.cfg.LeaseTTL / 10):
		case <-a.pkick:
		}
	}
	return false
}

func (a *Agent) setPrimary(v bool) {
	a.mu.Lock()
	a.primary = v
	a.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (a *Agent) mayCampaign(ctx context.Context) bool {
	if a.cfg.Primary == "" || a.cfg.Primary == a.cfg.Node {
		return true
	}
	cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
	defer cancel()
	g, err := a.cli.Get(cctx, a.k.node(a.cfg.Primary), clientv3.WithCountOnly())
	return err == nil && g.Count == 0
}

// lead runs the primary's work until it loses the lease or resigns.
func (a *Agent) lead(ctx context.Context, leader clientv3.Cmp, lease clientv3.LeaseID) {
	p := &primaryState{lostSince: map[string]time.Time{}}
	// The primary wakes on every change of the state, every TTL/10, and
	// when the grace of a lost pod ends.
	wake := time.NewTimer(a.cfg.LeaseTTL / 10)
	defer wake.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake.C:
		case <-a.pkick:
		}
		p.next = time.Now().Add(a.cfg.LeaseTTL / 10)
		wake.Reset(a.cfg.LeaseTTL / 10)
		if l, ok := a.leaseState(); !ok || l != lease {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
		snap, err := read(cctx, a.cli, a.k)
		if err == nil {
			if snap.primaryKey != a.cfg.Node {
				cancel()
				return
			}
			if a.cfg.Primary != "" && a.cfg.Primary != a.cfg.Node && len(snap.moves) == 0 && snap.relayout == nil {
				if _, ok := snap.nodes[a.cfg.Primary]; ok {
					a.event("elect", "", "%s hands the primary role back to flex_primary %s", a.cfg.Node, a.cfg.Primary)
					cancel()
					return
				}
			}
			a.plan(cctx, snap, p, leader)
			wake.Reset(max(time.Until(p.next), time.Millisecond))
		}
		cancel()
	}
}

type primaryState struct {
	// lostSince: when the grace of a placement whose lease is dead
	// (pod@lease) started: when this primary first saw it dead, or the
	// lease's published expiry (graceStart).
	lostSince map[string]time.Time
	blocked   string
	// next is when the primary must look again: the end of the soonest
	// grace, or its next tick.
	next time.Time
}

// plan is one round of the primary: re-target the moves whose
// destination died or failed, move the pods of lost leases after the
// grace, feed the relayout, never more than Parallel moves at once.
func (a *Agent) plan(ctx context.Context, snap *snapshot, p *primaryState, leader clientv3.Cmp) {
	now := time.Now()
	live := map[string]bool{}
	rejoined := map[string]bool{}
	for n := range snap.nodes {
		live[n] = true
		if snap.members[n].Rejoined {
			rejoined[n] = true
		}
	}
	// Pods per node: placed there under a live lease, plus incoming.
	count := map[string]int{}
	for pod, pl := range snap.placement {
		if mv, ok := snap.moves[pod]; ok {
			count[mv.To]++
			continue
		}
		if snap.alive(pl.Lease) || (pl.Lease == 0 && live[pl.Node]) {
			count[pl.Node]++
		}
	}
	inFlight := 0
	for _, mv := range snap.moves {
		if !mv.GaveUp {
			inFlight++
		}
	}
	var blocked []string
	enough := len(live) >= a.cfg.MinNodes
	if !enough {
		blocked = append(blocked, fmt.Sprintf("%d live nodes, fewer than flex_min_nodes %d: nothing moves", len(live), a.cfg.MinNodes))
	}
	pick := func(exclude []string) (string, string) {
		var cands []string
		for n := range live {
			if rejoined[n] || contains(exclude, n) {
				continue
			}
			if a.cfg.MaxPerNode > 0 && count[n] >= a.cfg.MaxPerNode {
				continue
			}
			cands = append(cands, n)
		}
		if len(cands) == 0 {
			return "", fmt.Sprintf("no live node may take a pod (live %s, rejoined %s, max %d per node)", names(live), names(rejoined), a.cfg.MaxPerNode)
		}
		sort.Slice(cands, func(i, j int) bool {
			if count[cands[i]] != count[cands[j]] {
				return count[cands[i]] < count[cands[j]]
			}
			return cands[i] < cands[j]
		})
		return cands[0], ""
	}
	put := func(pod string, mv Move, cmps ...clientv3.Cmp) bool {
		cmps = append(cmps, leader)
		resp, err := a.cli.Txn(ctx).If(cmps...).Then(clientv3.OpPut(a.k.move(pod), mustJSON(mv))).Commit()
		return err == nil && resp.Succeeded
	}

	// 1. Moves whose destination died or failed.
	seenTo := map[string]bool{}
	for _, pod := range sortedKeys(snap.moves) {
		mv := snap.moves[pod]
		if mv.GaveUp || !enough {
			continue
		}
		toDead := !live[mv.To]
		if !toDead && mv.Failed == "" {
			continue
		}
		why := mv.Failed
		if toDead {
			// As for a lost owner: the destination fenced itself before
			// its lease could expire, and the grace comes on top.
			key := fmt.Sprintf("to:%s@%s", pod, mv.To)
			seenTo[key] = true
			since, ok := p.lostSince[key]
			if !ok {
				since = now
				p.lostSince[key] = now
				a.event("lost", pod, "%s: its destination %s is lost; moving it elsewhere after the grace %s", pod, mv.To, a.cfg.Grace)
			}
			if end := since.Add(a.cfg.Grace); now.Before(end) {
				if end.Before(p.next) {
					p.next = end
				}
				continue
			}
			why = fmt.Sprintf("destination %s lost", mv.To)
			mv.FailedOn = append(mv.FailedOn, mv.To)
		}
		old := mv.To
		if mv.Attempts >= MaxAttempts {
			mv.GaveUp = true
			if put(pod, mv, clientv3.Compare(clientv3.ModRevision(a.k.move(pod)), "=", snap.moveRev[pod])) {
				a.event("fail", pod, "%s: %d destinations failed (%s): the move waits for an operator", pod, mv.Attempts, why)
			}
			continue
		}
		to, reason := pick(mv.FailedOn)
		if to == "" {
			blocked = append(blocked, pod+": "+reason)
			continue
		}
		mv.To, mv.Failed, mv.Attempts, mv.Created, mv.Primary = to, "", mv.Attempts+1, now, a.cfg.Node
		if put(pod, mv, clientv3.Compare(clientv3.ModRevision(a.k.move(pod)), "=", snap.moveRev[pod])) {
			count[old]--
			count[to]++
			a.event("move", pod, "moving %s to %s instead of %s: %s", pod, to, old, why)
		}
	}

	// 2. Pods whose owner's lease is dead.
	seen := map[string]bool{}
	for _, pod := range snap.pods() {
		pl := snap.placement[pod]
		if _, ok := snap.moves[pod]; ok {
			continue
		}
		if snap.alive(pl.Lease) || (pl.Lease == 0 && live[pl.Node]) {
			continue
		}
		key := fmt.Sprintf("%s@%x", pod, pl.Lease)
		seen[key] = true
		since, ok := p.lostSince[key]
		// A pod of the initial layout waits for its node to join
		// longer than a lost one waits: nodes boot at their own pace.
		wait, why := a.cfg.Grace, fmt.Sprintf("lease %x of %s expired", pl.Lease, pl.Node)
		if pl.Lease == 0 {
			wait, why = 2*a.cfg.LeaseTTL+a.cfg.Grace, fmt.Sprintf("%s did not join to claim it", pl.Node)
		}
		if !ok {
			// The grace counts from the lease's published expiry when
			// that is earlier than now (etcd revokes an expired lease
			// up to half a second late); graceStart says why it is safe.
			var early bool
			since, early = graceStart(now, pl.Node, pl.Lease, snap.expiry, a.cfg.MaxClockSkew)
			p.lostSince[key] = since
			switch {
			case pl.Lease == 0:
				a.event("unclaimed", pod, "%s unclaimed: %s has not joined; moving it after %s", pod, pl.Node, wait)
			case early:
				a.event("lost", pod, "%s lost: its owner %s holds no live lease %x; moving it after the grace %s counted from %s (its published expiry + max clock skew %s)",
					pod, pl.Node, pl.Lease, wait, since.UTC().Format(time.RFC3339Nano), a.cfg.MaxClockSkew)
			default:
				a.event("lost", pod, "%s lost: its owner %s holds no live lease %x; moving it after the grace %s", pod, pl.Node, pl.Lease, wait)
			}
		}
		if end := since.Add(wait); now.Before(end) || !enough {
			if end.After(now) && end.Before(p.next) {
				p.next = end
			}
			continue
		}
		if inFlight >= a.cfg.Parallel {
			continue
		}
		to, reason := pick(nil)
		if to == "" {
			blocked = append(blocked, pod+": "+reason)
			continue
		}
		mv := Move{Pod: pod, From: pl.Node, FromLease: pl.Lease, To: to, Created: now, Primary: a.cfg.Node, Attempts: 1, Reason: why}
		if put(pod, mv, clientv3.Compare(clientv3.ModRevision(a.k.placement(pod)), "=", snap.placeRev[pod]),
			clientv3.Compare(clientv3.CreateRevision(a.k.move(pod)), "=", 0)) {
			count[to]++
			inFlight++
			a.event("move", pod, "moving %s from %s to %s: %s", pod, pl.Node, to, mv.Reason)
		}
	}
	for key := range p.lostSince {
		if !seen[key] && !seenTo[key] {
			delete(p.lostSince, key)
		}
	}

	// 3. A relayout asked.
	if snap.relayout != nil && enough {
		a.relayoutRound(ctx, snap, live, &inFlight, leader)
	}

	note := strings.Join(blocked, "; ")
	if note != p.blocked {
		p.blocked = note
		if note != "" {
			a.event("blocked", "", "%s", note)
		}
		_, _ = a.cli.Txn(ctx).If(leader).Then(clientv3.OpPut(a.k.primaryNote(), mustJSON(primaryNote{Primary: a.cfg.Node, Time: now, Blocked: note}))).Commit()
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func names(m map[string]bool) string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	if len(out) == 0 {
		return "none"
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
