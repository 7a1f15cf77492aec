package ha_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/cluster/ha"
)

// A node dies (its daemon killed, its instance terminated): after its
// lease expired and the grace, its pods come up on the survivors, spread
// over them, each with its disk (detached from the dead instance) and its
// routes.
func TestNodeLost(t *testing.T) {
	h := newHarness(t, nil)
	h.startAll()
	before := podsOn(h.status())
	require.Len(t, before["spd02"], 2)

	killed := time.Now()
	h.kill("spd02")
	st := h.settle("spd02 lost")
	after := podsOn(st)
	require.Empty(t, after["spd02"])
	for _, n := range []string{"spd01", "spd03", "spd04"} {
		require.Subset(t, after[n], before[n], "pods of %s stay", n)
		require.LessOrEqual(t, len(after[n]), 3, "balanced")
	}
	for _, pod := range before["spd02"] {
		disk := "spdsvc01-pod" + pod[len(pod)-1:]
		at := h.gce.AttachedTo(disk)
		require.Len(t, at, 1, disk)
		require.NotEqual(t, "spd02", at[0])
		require.NotEmpty(t, eventsMatching(h.events(), "move", "moving "+pod+" from spd02"), pod)
		require.NotEmpty(t, eventsMatching(h.events(), "up", pod+" up on"), pod)
	}
	require.NotEmpty(t, eventsMatching(h.events(), "lost", "spd02"))
	for _, n := range st.Nodes {
		require.Equal(t, n.Node != "spd02", n.Alive, n.Node)
	}
	require.Equal(t, "spd01", st.Primary)
	t.Logf("failover of %v done %s after the kill", before["spd02"], time.Since(killed).Round(time.Millisecond))

	// The grace counted from the expiry spd02 published (its last good
	// renewal's send + TTL, in etcd), not from the lease's revocation,
	// which etcd does up to half a second later; and no pod moved
	// before that expiry plus the grace.
	g, err := h.admin.Get(context.Background(), ha.DefaultPrefix+"/"+svcname+"/expiry/spd02")
	require.NoError(t, err)
	require.Len(t, g.Kvs, 1)
	ns, _, ok := strings.Cut(string(g.Kvs[0].Value), " ")
	require.True(t, ok, string(g.Kvs[0].Value))
	n, err := strconv.ParseInt(ns, 10, 64)
	require.NoError(t, err)
	anchor := time.Unix(0, n).Add(ha.DefaultMaxClockSkew)
	require.True(t, anchor.After(killed), "spd02 published %s, before its kill %s", anchor, killed)
	for _, pod := range before["spd02"] {
		lost := eventsMatching(h.events(), "lost", pod+" lost: its owner spd02")
		require.Len(t, lost, 1, pod)
		// etcd revokes the lease within half a second of its expiry:
		// when the primary saw it within the skew bound, the grace
		// starts there, as before.
		if lost[0].Time.After(anchor) {
			require.Contains(t, lost[0].Msg, "counted from "+anchor.UTC().Format(time.RFC3339Nano)+" (its published expiry", pod)
		} else {
			require.NotContains(t, lost[0].Msg, "counted from", pod)
		}
		moved := eventsMatching(h.events(), "move", "moving "+pod+" from spd02")
		require.Len(t, moved, 1, pod)
		require.False(t, moved[0].Time.Before(anchor.Add(grace)), "%s moved at %s, before its expiry + grace %s", pod, moved[0].Time, anchor.Add(grace))
	}

	// spd02 boots again: it rejoins with no pod.
	h.revive("spd02")
	h.waitFor("spd02 rejoined", func(st *ha.ClusterStatus) bool { return st.Nodes[1].Alive && st.Nodes[1].Rejoined })
	st = h.settle("spd02 back")
	require.Equal(t, after, podsOn(st))
	require.Contains(t, st.Render(0), "spd02      alive")
	require.Contains(t, st.Render(0), "rejoined (no pod until relayout)")
	require.Empty(t, h.violations())
}

// waitFor polls cond (bounded) and fails with the status when it never
// holds.
func (h *harness) waitFor(what string, cond func(*ha.ClusterStatus) bool) *ha.ClusterStatus {
	h.t.Helper()
	var st *ha.ClusterStatus
	for range 400 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s, err := ha.ReadStatus(ctx, h.admin, "", svcname, nodeNames)
		cancel()
		if err == nil {
			st = s
			if cond(st) {
				return st
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	msg := "no status"
	if st != nil {
		msg = st.Render(40)
	}
	h.t.Fatalf("waiting for %s: never happened\n%s", what, msg)
	return nil
}

// The primary dies in the middle of a failover: one move at a time, the
// first one going to the primary itself. The next primary re-targets the
// move whose destination died and moves the rest, from what etcd
// recorded.
func TestPrimaryDiesMidFailover(t *testing.T) {
	h := newHarness(t, func(c *ha.Config) { c.Parallel = 1 })
	h.startAll()
	before := podsOn(h.status())
	h.gce.SetOperationTime(300 * time.Millisecond) // moves take a while
	h.kill("spd02")
	st := h.waitFor("a move recorded", func(st *ha.ClusterStatus) bool { return len(st.Moves) > 0 })
	require.Len(t, st.Moves, 1, "one at a time")
	require.Equal(t, "spd01", st.Moves[0].Primary)
	require.Equal(t, "spd01", st.Moves[0].To, "the emptiest node first by name")
	h.kill("spd01")
	st = h.settle("after the primary died")
	require.NotEqual(t, "spd01", st.Primary)
	after := podsOn(st)
	require.Empty(t, after["spd01"])
	require.Empty(t, after["spd02"])
	require.Len(t, append(after["spd03"], after["spd04"]...), 8)
	// The next primary finished spd02's failover.
	for _, pod := range before["spd02"] {
		var byNext bool
		for _, e := range eventsMatching(h.events(), "move", "moving "+pod) {
			byNext = byNext || e.Node == st.Primary
		}
		require.True(t, byNext, "%s moved by the next primary %s", pod, st.Primary)
	}
	require.NotEmpty(t, eventsMatching(h.events(), "move", "instead of spd01"), "the move to the dead primary re-targeted")
	require.Empty(t, h.violations())
}

// Two nodes lost at once: their pods spread over the two others, within
// flex_min_nodes and the maximum per node; below them nothing moves and
// the status says why.
func TestTwoNodesLost(t *testing.T) {
	for _, tc := range []struct {
		name       string
		minNodes   int
		maxPerNode int
		wantMoved  int
		blocked    string
	}{
		{name: "all moved", minNodes: 2, wantMoved: 4},
		{name: "below flex_min_nodes", minNodes: 3, wantMoved: 0, blocked: "fewer than flex_min_nodes 3: nothing moves"},
		{name: "max per node", minNodes: 2, maxPerNode: 3, wantMoved: 2, blocked: "no live node may take a pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *ha.Config) { c.MinNodes, c.MaxPerNode = tc.minNodes, tc.maxPerNode })
			h.startAll()
			before := podsOn(h.status())
			killed := time.Now()
			h.kill("spd02", "spd03")
			var st *ha.ClusterStatus
			if tc.blocked == "" {
				st = h.settle("two nodes lost")
			} else {
				said := func(st *ha.ClusterStatus) int {
					n := 0
					for _, e := range eventsMatching(h.events(), "blocked", tc.blocked) {
						if e.Time.After(killed) {
							n++
						}
					}
					return n
				}
				// The event reaches etcd on its own, after the note.
				st = h.waitFor("blocked", func(st *ha.ClusterStatus) bool {
					return strings.Contains(st.Blocked, tc.blocked) && len(st.Moves) == 0 && said(st) > 0 &&
						len(podsOn(st)["spd01"])+len(podsOn(st)["spd04"]) == 4+tc.wantMoved
				})
				require.Equal(t, 1, said(st), "said once")
			}
			after := podsOn(st)
			require.Len(t, after["spd01"], 2+tc.wantMoved/2)
			require.Len(t, after["spd04"], 2+tc.wantMoved/2)
			require.Subset(t, after["spd01"], before["spd01"])
			var lost int
			for _, p := range st.Pods {
				if p.State == "lost" {
					lost++
				}
			}
			require.Equal(t, 4-tc.wantMoved, lost)
			require.Empty(t, h.violations())
		})
	}
}

// A node cut off from etcd stops its pods before its lease can expire.
// A short cut (the lease survives) restarts them in place, nothing moves;
// a long one loses the lease: the others take the pods, the node rejoins
// with none, until a relayout spreads them again.
func TestFlappingLease(t *testing.T) {
	// A wide margin: the short cut is restored once spd03 fenced, and its
	// client must reconnect before the lease expires.
	h := newHarness(t, func(c *ha.Config) { c.FenceMargin = 1800 * time.Millisecond })
	h.startAll()
	before := podsOn(h.status())
	a3 := h.nodes["spd03"].agent

	// 1. Short cut: past the fence margin, not past the expiry.
	n0 := len(a3.Fences())
	h.cut("spd03")
	for range 200 {
		if len(a3.Fences()) > n0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Len(t, a3.Fences(), n0+1, "spd03 fenced")
	h.restore("spd03")
	st := h.settle("short cut")
	require.Equal(t, before, podsOn(st), "nothing moved")
	require.Empty(t, eventsMatching(h.events(), "move", ""))
	f := a3.Fences()[n0]
	require.Equal(t, 2, f.Pods)
	require.Positive(t, f.Margin, "stopped before the lease could expire")
	t.Logf("short cut: spd03 fenced %d pods with a margin of %s", f.Pods, f.Margin.Round(time.Millisecond))

	// 2. Long cuts, twice: the lease expires, the pods move, spd03
	// comes back with no pod each time.
	for i := range 2 {
		h.cut("spd03")
		h.waitFor("spd03 lost", func(st *ha.ClusterStatus) bool {
			return !st.Nodes[2].Alive && len(podsOn(st)["spd03"]) == 0 && len(st.Moves) == 0
		})
		h.restore("spd03")
		h.waitFor("spd03 rejoined", func(st *ha.ClusterStatus) bool { return st.Nodes[2].Alive && st.Nodes[2].Rejoined })
		st = h.settle(fmt.Sprintf("long cut %d", i+1))
		require.Empty(t, podsOn(st)["spd03"], "rejoined with no pod")
		require.True(t, st.Nodes[2].Rejoined)
		require.NotEmpty(t, eventsMatching(h.events(), "lease", "spd03 rejoined"))
	}
	for _, f := range a3.Fences() {
		if f.Pods > 0 {
			require.Positive(t, f.Margin, "fence at %s", f.Began.Format("15:04:05.000"))
		}
	}

	// 3. Relayout: two pods each again, spd03's from the fullest nodes.
	ctx := context.Background()
	require.NoError(t, ha.RequestRelayout(ctx, h.admin, "", svcname))
	require.ErrorContains(t, ha.RequestRelayout(ctx, h.admin, "", svcname), "already in progress")
	h.waitFor("relayout done", func(st *ha.ClusterStatus) bool {
		return len(eventsMatching(h.events(), "relayout", "relayout done")) == 1
	})
	st = h.settle("relayout")
	for _, n := range nodeNames {
		require.Len(t, podsOn(st)[n], 2, n)
	}
	require.False(t, st.Nodes[2].Rejoined)
	require.Len(t, eventsMatching(h.events(), "move", "relayout"), 2, "the fewest moves")
	require.Empty(t, h.violations())
}

// etcd loses one member of three (its leader): the others keep the
// quorum, the leases live on, nothing moves.
func TestEtcdMemberLost(t *testing.T) {
	h := newHarness(t, nil)
	h.startAll()
	before := podsOn(h.status())
	leader := h.etcd.Leader()
	require.GreaterOrEqual(t, leader, 0)
	h.etcd.Stop(leader)
	// Three TTLs: any lease not renewed would have expired.
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	st := h.settle("one member lost")
	require.Equal(t, before, podsOn(st))
	require.Empty(t, eventsMatching(h.events(), "move", ""))
	require.Empty(t, eventsMatching(h.events(), "lost", ""))
	for _, n := range st.Nodes {
		require.True(t, n.Alive, n.Node)
		require.False(t, n.Rejoined, n.Node)
	}
	require.NoError(t, h.etcd.Restart(context.Background(), leader))
	require.Empty(t, h.violations())
}

// etcd unreachable for every node (all members down, longer than the
// lease): every node fences (no node can prove that nobody takes its
// pods), nothing moves, and when etcd comes back the leases are still
// there (etcd's new leader extends them): each node restarts its own
// pods in place; no rejoin, no move.
func TestEtcdDown(t *testing.T) {
	h := newHarness(t, nil)
	h.startAll()
	before := podsOn(h.status())
	for i := range 3 {
		h.etcd.Stop(i)
	}
	for _, n := range nodeNames {
		a := h.nodes[n].agent
		for range 200 {
			if len(a.Local()) == 0 && a.Fenced() {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		require.True(t, a.Fenced(), n)
		require.Empty(t, a.Local(), n)
		for _, f := range a.Fences() {
			require.Positive(t, f.Margin, n)
		}
	}
	for _, pod := range h.pods {
		require.Empty(t, h.l.Where(pod), "%s stopped everywhere", pod)
	}
	deadline := time.Now().Add(2 * ttl)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { errs[i] = h.etcd.Restart(context.Background(), i) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	st := h.settle("etcd back")
	require.Equal(t, before, podsOn(st), "every pod back on its node")
	require.Empty(t, eventsMatching(h.events(), "move", ""))
	for _, n := range st.Nodes {
		require.False(t, n.Rejoined, n.Node)
	}
	require.Empty(t, h.violations())
}
