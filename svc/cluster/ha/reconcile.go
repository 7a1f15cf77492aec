package ha

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// reconcileLoop makes this node run what etcd says it owns: on every
// change of the state and every TTL/5.
func (a *Agent) reconcileLoop(ctx context.Context) {
	tick := time.NewTicker(a.cfg.LeaseTTL / 5)
	defer tick.Stop()
	for {
		a.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.kick:
		}
	}
}

func (a *Agent) reconcile(ctx context.Context) {
	// A pod whose local state changed after this read started is left
	// for the next round: the snapshot may predate the change (a move
	// this node just recorded would read as someone else's pod).
	readStart := time.Now()
	cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
	snap, err := read(cctx, a.cli, a.k)
	cancel()
	if err != nil {
		return
	}
	lease, valid := a.leaseState()
	self := a.cfg.Node
	for _, pod := range snap.pods() {
		p := snap.placement[pod]
		mv, moving := snap.moves[pod]
		mine := p.Node == self && (p.Lease == int64(lease) || p.Lease == 0)
		a.mu.Lock()
		lp := a.local[pod]
		busy := lp != nil && lp.busy
		stale := !a.touched[pod].Before(readStart)
		a.mu.Unlock()
		if busy || stale {
			continue
		}
		switch {
		case lp != nil && lp.up:
			switch {
			case moving && mv.To == self && lp.moveRev == snap.moveRev[pod]:
				// This node executes the move (finishing it).
			case moving && mv.From == self && mv.FromLease == int64(lease) && !mv.Stopped:
				a.stopForMove(ctx, pod, mv, snap.moveRev[pod])
			case mine && !moving && p.Lease != 0:
			case mine && !moving && valid && snap.nodes[self].Lease == int64(lease):
				// Up before the agent ran, placed here by the initial
				// layout: claimed (and provisioned again: nothing to
				// do), not stopped.
				a.startLocal(ctx, pod, 0, Move{}, lease)
			default:
				a.mu.Lock()
				lp.busy = true
				a.mu.Unlock()
				go func() {
					if a.stopLocal(context.WithoutCancel(ctx), pod, fmt.Sprintf("etcd places %s on %s (lease %x), not here", pod, p.Node, p.Lease)) != nil {
						a.idle(pod)
					}
				}()
			}
		case moving && mv.From == self && mv.FromLease == int64(lease) && !mv.Stopped:
			// Not up here: stop it all the same (whatever is left) and
			// let the destination start it.
			a.stopForMove(ctx, pod, mv, snap.moveRev[pod])
		case !valid:
			// No pod starts without a valid lease.
		case a.backingOff(pod):
		case moving && mv.To == self && !mv.GaveUp && mv.Failed == "" && (mv.Stopped || !snap.alive(mv.FromLease)):
			a.startLocal(ctx, pod, snap.moveRev[pod], mv, lease)
		case mine && !moving && snap.nodes[self].Lease == int64(lease):
			a.startLocal(ctx, pod, 0, Move{}, lease)
		}
	}
}

// stopForMove stops a pod of this live node that a relayout moves, and
// records it stopped so that the destination starts it.
func (a *Agent) stopForMove(ctx context.Context, pod string, mv Move, rev int64) {
	a.mu.Lock()
	if a.stoppedFor[pod] == rev {
		// Stopped already; the record of it is on its way.
		a.mu.Unlock()
		return
	}
	a.stoppedFor[pod] = rev
	if a.local[pod] == nil {
		a.local[pod] = &localPod{}
	}
	a.local[pod].busy = true
	a.mu.Unlock()
	go func() {
		ctx := context.WithoutCancel(ctx)
		err := a.stopLocal(ctx, pod, fmt.Sprintf("moving to %s: %s", mv.To, mv.Reason))
		if err != nil {
			a.mu.Lock()
			delete(a.stoppedFor, pod)
			if lp := a.local[pod]; lp != nil {
				lp.busy = false
			}
			a.mu.Unlock()
			return
		}
		mv.Stopped = true
		cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/2)
		defer cancel()
		_, _ = a.cli.Txn(cctx).If(clientv3.Compare(clientv3.ModRevision(a.k.move(pod)), "=", rev)).
			Then(clientv3.OpPut(a.k.move(pod), mustJSON(mv))).Commit()
	}()
}

// startLocal starts pod here: the node's own pod (moveRev 0; an initial
// placement is claimed first), or the destination of a move, which ends
// with the placement recorded under this node's live lease.
func (a *Agent) startLocal(ctx context.Context, pod string, moveRev int64, mv Move, lease clientv3.LeaseID) {
	sctx, cancel := context.WithCancel(ctx)
	a.mu.Lock()
	a.local[pod] = &localPod{cancel: cancel, busy: true, moveRev: moveRev}
	a.mu.Unlock()
	go func() {
		defer cancel()
		t0 := time.Now()
		nodeIsMine := clientv3.Compare(clientv3.LeaseValue(a.k.node(a.cfg.Node)), "=", lease)
		if moveRev == 0 {
			// Claim an initial placement (lease 0) under this lease
			// before anything starts.
			cctx, ccancel := context.WithTimeout(sctx, a.cfg.LeaseTTL/5)
			resp, err := a.cli.Txn(cctx).If(nodeIsMine, clientv3.Compare(clientv3.CreateRevision(a.k.move(pod)), "=", 0),
				clientv3.Compare(clientv3.Value(a.k.placement(pod)), "=", mustJSON(Placement{Node: a.cfg.Node})),
			).Then(clientv3.OpPut(a.k.placement(pod), mustJSON(Placement{Node: a.cfg.Node, Lease: int64(lease)}))).Commit()
			ccancel()
			if err != nil || !resp.Succeeded {
				// Already claimed under this lease, or changed: the
				// owned check below decides.
				cctx, ccancel := context.WithTimeout(sctx, a.cfg.LeaseTTL/5)
				g, gerr := a.cli.Get(cctx, a.k.placement(pod))
				ccancel()
				if gerr != nil || len(g.Kvs) != 1 || string(g.Kvs[0].Value) != mustJSON(Placement{Node: a.cfg.Node, Lease: int64(lease)}) {
					a.forget(pod)
					return
				}
			}
			a.event("start", pod, "starting %s on %s (its placement, lease %x)", pod, a.cfg.Node, int64(lease))
		} else {
			a.event("start", pod, "starting %s on %s: move from %s (%s)", pod, a.cfg.Node, mv.From, mv.Reason)
		}
		err := a.pods.Start(sctx, pod)
		if err == nil && sctx.Err() != nil {
			err = sctx.Err()
		}
		if err != nil {
			a.startFailed(ctx, pod, moveRev, mv, err)
			return
		}
		a.mu.Lock()
		if lp := a.local[pod]; lp != nil {
			lp.up = true
		}
		a.mu.Unlock()
		if moveRev == 0 {
			a.event("up", pod, "%s up on %s after %s", pod, a.cfg.Node, time.Since(t0).Round(time.Millisecond))
			a.idle(pod)
			return
		}
		// The move ends with one transaction: the placement under this
		// live lease, the move deleted, both only if the move is still
		// the one this node executes.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.LeaseTTL/2)
		resp, err := a.cli.Txn(cctx).If(nodeIsMine, clientv3.Compare(clientv3.ModRevision(a.k.move(pod)), "=", moveRev)).
			Then(clientv3.OpPut(a.k.placement(pod), mustJSON(Placement{Node: a.cfg.Node, Lease: int64(lease)})),
				clientv3.OpDelete(a.k.move(pod))).Commit()
		ccancel()
		if err != nil || !resp.Succeeded {
			why := "the move changed meanwhile"
			if err != nil {
				why = err.Error()
			}
			a.event("fail", pod, "%s up on %s but recording the move failed (%s): stopping it here", pod, a.cfg.Node, why)
			_ = a.stopLocal(context.WithoutCancel(ctx), pod, "its move was not recorded")
			return
		}
		a.event("up", pod, "%s up on %s after %s (moved from %s: %s; recorded %s)", pod, a.cfg.Node,
			time.Since(t0).Round(time.Millisecond), mv.From, mv.Reason, time.Since(mv.Created).Round(time.Millisecond))
		a.mu.Lock()
		if lp := a.local[pod]; lp != nil {
			lp.moveRev = 0
		}
		a.mu.Unlock()
		a.idle(pod)
	}()
}

func (a *Agent) idle(pod string) {
	a.mu.Lock()
	a.touched[pod] = time.Now()
	if lp := a.local[pod]; lp != nil {
		lp.busy, lp.cancel = false, nil
	}
	a.mu.Unlock()
}

func (a *Agent) forget(pod string) {
	a.mu.Lock()
	a.touched[pod] = time.Now()
	if lp := a.local[pod]; lp != nil && !lp.up {
		delete(a.local, pod)
	}
	a.mu.Unlock()
}

// startFailed stops what the start left and, for a move, records the
// failure so that the primary tries another node.
func (a *Agent) startFailed(ctx context.Context, pod string, moveRev int64, mv Move, err error) {
	bg := context.WithoutCancel(ctx)
	a.event("fail", pod, "starting %s on %s failed: %v", pod, a.cfg.Node, err)
	a.mu.Lock()
	a.failedAt[pod] = time.Now()
	a.mu.Unlock()
	_ = a.stopLocal(bg, pod, "its start failed")
	a.forget(pod)
	if moveRev == 0 {
		return
	}
	mv.Failed, mv.FailedOn = err.Error(), append(mv.FailedOn, a.cfg.Node)
	cctx, cancel := context.WithTimeout(bg, a.cfg.LeaseTTL/2)
	defer cancel()
	_, _ = a.cli.Txn(cctx).If(clientv3.Compare(clientv3.ModRevision(a.k.move(pod)), "=", moveRev)).
		Then(clientv3.OpPut(a.k.move(pod), mustJSON(mv))).Commit()
}

// backingOff: the last start of pod here failed less than a TTL ago.
func (a *Agent) backingOff(pod string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.failedAt[pod]
	return ok && time.Since(t) < a.cfg.LeaseTTL
}
