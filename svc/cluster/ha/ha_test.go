package ha_test

import (
	"context"
	"strings"
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
		require.NotEmpty(t, eventsMatching(st, "move", "moving "+pod+" from spd02"), pod)
		require.NotEmpty(t, eventsMatching(st, "up", pod+" up on"), pod)
	}
	require.NotEmpty(t, eventsMatching(st, "lost", "spd02"))
	for _, n := range st.Nodes {
		require.Equal(t, n.Node != "spd02", n.Alive, n.Node)
	}
	require.Equal(t, "spd01", st.Primary)
	t.Logf("failover of %v done %s after the kill", before["spd02"], time.Since(killed).Round(time.Millisecond))
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
		for _, e := range eventsMatching(st, "move", "moving "+pod) {
			byNext = byNext || e.Node == st.Primary
		}
		require.True(t, byNext, "%s moved by the next primary %s", pod, st.Primary)
	}
	require.NotEmpty(t, eventsMatching(st, "move", "instead of spd01"), "the move to the dead primary re-targeted")
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
			h.kill("spd02")
			h.kill("spd03")
			var st *ha.ClusterStatus
			if tc.blocked == "" {
				st = h.settle("two nodes lost")
			} else {
				st = h.waitFor("blocked", func(st *ha.ClusterStatus) bool {
					return strings.Contains(st.Blocked, tc.blocked) && len(st.Moves) == 0 &&
						len(podsOn(st)["spd01"])+len(podsOn(st)["spd04"]) == 4+tc.wantMoved
				})
				require.Len(t, eventsMatching(st, "blocked", tc.blocked), 1, "said once")
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
