package ha

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	nodes := []string{"spd01", "spd02"}
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "defaults", cfg: Config{Service: "s", Node: "spd01", Nodes: nodes}},
		{name: "no service", cfg: Config{Node: "spd01", Nodes: nodes}, wantErr: "expected a service and a node name"},
		{name: "foreign node", cfg: Config{Service: "s", Node: "spd09", Nodes: nodes}, wantErr: "not one of the service's nodes"},
		{name: "ttl under a second", cfg: Config{Service: "s", Node: "spd01", Nodes: nodes, LeaseTTL: 500 * time.Millisecond}, wantErr: "expected at least 1s"},
		{name: "margin beyond the ttl", cfg: Config{Service: "s", Node: "spd01", Nodes: nodes, LeaseTTL: 2 * time.Second, FenceMargin: 3 * time.Second}, wantErr: "expected less than the lease ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAgent(tc.cfg, nil, nil)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			c := tc.cfg
			require.NoError(t, c.defaults())
			require.Equal(t, DefaultLeaseTTL, c.LeaseTTL)
			require.Equal(t, 5*time.Second, c.Grace)
			require.Equal(t, 4*time.Second, c.FenceMargin)
			require.Equal(t, 4, c.Parallel)
			require.Equal(t, DefaultMaxClockSkew, c.MaxClockSkew)
		})
	}
}

func TestBalance(t *testing.T) {
	for _, tc := range []struct {
		name      string
		podsOn    map[string][]string
		wantMoves int
	}{
		{name: "balanced", podsOn: map[string][]string{"a": {"p1", "p2"}, "b": {"p3", "p4"}}, wantMoves: 0},
		{name: "rejoined empty node", podsOn: map[string][]string{"a": {"p1", "p2", "p3"}, "b": {"p4", "p5", "p6"}, "c": {"p7", "p8"}, "d": {}}, wantMoves: 2},
		{name: "all on one", podsOn: map[string][]string{"a": {"p1", "p2", "p3", "p4"}, "b": {}, "c": {}, "d": {}}, wantMoves: 3},
		{name: "uneven stays", podsOn: map[string][]string{"a": {"p1", "p2"}, "b": {"p3"}}, wantMoves: 0},
		{name: "no pods", podsOn: map[string][]string{"a": {}, "b": {}}, wantMoves: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nodes []string
			count := map[string]int{}
			for n, pods := range tc.podsOn {
				nodes = append(nodes, n)
				count[n] = len(pods)
			}
			moves := balance(tc.podsOn, nodes)
			require.Len(t, moves, tc.wantMoves)
			for _, m := range moves {
				require.Contains(t, tc.podsOn[m.From], m.Pod)
				count[m.From]--
				count[m.To]++
			}
			lo, hi := 1<<30, 0
			for _, c := range count {
				lo, hi = min(lo, c), max(hi, c)
			}
			require.LessOrEqual(t, hi-lo, 1)
		})
	}
}

func TestServicePodsRefusesBadTags(t *testing.T) {
	p := NewServicePods("spd01", nil, nil, nil)
	for _, pod := range []string{"", "pod", "podx", "../pod1", "pod1/..", "sm"} {
		require.ErrorContains(t, p.Start(context.Background(), pod), "expected a pod tag like pod01", pod)
		require.ErrorContains(t, p.Stop(context.Background(), pod), "expected a pod tag like pod01", pod)
	}
}
