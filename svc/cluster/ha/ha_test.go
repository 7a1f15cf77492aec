package ha_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
