package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The -ha scenario with a short lease: every pod of the killed node and
// of the cut-off one comes up elsewhere, the cut-off node stops its pods
// before its lease expires, the relayout spreads the pods again, and the
// invariants hold throughout.
func TestHA(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"-ha", "-ha-ttl", "2s", "-format", "json"}, &out, &out)
	require.Equal(t, 0, code, out.String())
	var rep HAReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	require.Zero(t, rep.ViolationCount, rep.Violations)
	require.Len(t, rep.Failover.Pods, 2)
	for pod, d := range rep.Failover.Pods {
		require.Positive(t, d, pod)
	}
	// The grace counts from the lease expiry spd02 published, and no
	// pod came up before that expiry plus the grace.
	require.Positive(t, rep.Failover.ExpiryGoal)
	require.GreaterOrEqual(t, rep.Failover.FromExpiry, rep.Grace)
	require.Len(t, rep.Partition.Pods, 3, "spd03 had its 2 pods and one of spd02's")
	require.Positive(t, rep.Partition.Margin, "spd03 stopped its pods before its lease expired")
	require.Positive(t, rep.Partition.AgentMargin)
	require.Less(t, rep.Partition.LastStop, rep.Partition.LeaseExpiry)
	require.Len(t, rep.Relayout, 4, "two pods to each rejoined node")
	for _, n := range rep.Final.Nodes {
		require.True(t, n.Alive, n.Node)
		require.Len(t, n.Pods, 2, n.Node)
		require.False(t, n.Rejoined, n.Node)
	}
	require.Equal(t, 2*time.Second, rep.LeaseTTL)
}

func TestHAFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-ha", "-nodes", "5"}, "the scenario plays on 4 nodes"},
		{[]string{"-ha", "-pods", "3"}, "-ha -pods 3: expected 4 to"},
		{[]string{"-ha", "-ha-ttl", "1s"}, "expected 2s or more"},
	} {
		var out bytes.Buffer
		require.Equal(t, 2, run(context.Background(), tc.args, &out, &out), tc.args)
		require.Contains(t, out.String(), tc.want)
	}
}
