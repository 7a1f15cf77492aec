package spdplanner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/formtemplate/spd"
)

func seedConfig(t *testing.T, npods int, nodes ...string) []byte {
	t.Helper()
	cfg, err := spd.Generate(spd.Inputs{NPods: npods, Svcname: "spdsvc01", App: "RIVER_SPD",
		Nodes: nodes, SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "s3cret-pw"})
	require.NoError(t, err)
	return cfg
}

func TestMovePod(t *testing.T) {
	cfg := seedConfig(t, 32, "spd01", "spd02", "spd03", "spd04")
	tests := []struct {
		name    string
		pod     int
		to      string
		wantErr string
	}{
		{name: "pod16 to spd03", pod: 16, to: "spd03"},
		{name: "pod01 to spd04", pod: 1, to: "spd04"},
		{name: "pod out of range", pod: 33, to: "spd03", wantErr: "expected a pod number from 1 to 32"},
		{name: "pod zero", pod: 0, to: "spd03", wantErr: "expected a pod number from 1 to 32"},
		{name: "unknown node", pod: 16, to: "spd05", wantErr: "use relayout to add a node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, mv, err := Planner{}.MovePod(cfg, tc.pod, tc.to)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			old, err := spd.ParseLayout(cfg)
			require.NoError(t, err)
			from, _ := old.Pod(tc.pod)
			require.Equal(t, from.Node, mv.From)
			require.Equal(t, tc.to, mv.To)
			require.Equal(t, from.Tag(), mv.Tag)
			l, err := spd.ParseLayout(out)
			require.NoError(t, err)
			p, ok := l.Pod(tc.pod)
			require.True(t, ok)
			require.Equal(t, tc.to, p.Node)
			n, _ := l.Node(tc.to)
			require.Equal(t, n.Gateway, p.Gateway)
			// Its addresses stay; no other pod moves.
			require.Equal(t, from.SMIP, p.SMIP)
			for i, q := range l.Pods {
				if q.Num != tc.pod {
					require.Equal(t, old.Pods[i], q)
				}
			}
		})
	}
}

func TestRelayout(t *testing.T) {
	tests := []struct {
		name      string
		npods     int
		from, to  []string
		wantMoves int
		prepare   bool
	}{
		{name: "32 pods 4 to 5 nodes", npods: 32, from: []string{"spd01", "spd02", "spd03", "spd04"}, to: []string{"spd01", "spd02", "spd03", "spd04", "spd05"}, wantMoves: 6, prepare: true},
		{name: "8 pods 4 to 5 nodes", npods: 8, from: []string{"spd01", "spd02", "spd03", "spd04"}, to: []string{"spd01", "spd02", "spd03", "spd04", "spd05"}, wantMoves: 1, prepare: true},
		{name: "remove a node", npods: 8, from: []string{"spd01", "spd02", "spd03", "spd04"}, to: []string{"spd01", "spd02", "spd03"}, wantMoves: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := seedConfig(t, tc.npods, tc.from...)
			plan, err := Planner{}.Relayout(cfg, tc.to)
			require.NoError(t, err)
			require.Len(t, plan.Steps, tc.wantMoves)
			require.Equal(t, tc.prepare, plan.Prepare != nil)
			if plan.Prepare != nil {
				l, err := spd.ParseLayout(plan.Prepare)
				require.NoError(t, err)
				old, _ := spd.ParseLayout(cfg)
				require.Equal(t, old.Counts()[tc.from[0]], l.Counts()[tc.from[0]], "prepare moves no pod")
			}
			// Each step's config moves one more pod, the last one's
			// placement is the final config's.
			for i, st := range plan.Steps {
				l, err := spd.ParseLayout(st.Config)
				require.NoError(t, err, "step %d", i)
				p, _ := l.Pod(st.Move.Pod)
				require.Equal(t, st.Move.To, p.Node)
			}
			final, err := spd.ParseLayout(plan.Final)
			require.NoError(t, err)
			require.Equal(t, tc.to, final.NodeNames())
			last, _ := spd.ParseLayout(plan.Steps[len(plan.Steps)-1].Config)
			for i := range final.Pods {
				require.Equal(t, final.Pods[i].Node, last.Pods[i].Node)
			}
			lo, hi := tc.npods, 0
			for _, n := range tc.to {
				c := final.Counts()[n]
				lo, hi = min(lo, c), max(hi, c)
			}
			require.LessOrEqual(t, hi-lo, 1)
		})
	}
}

func TestHandEditedConfigRefused(t *testing.T) {
	cfg := append(seedConfig(t, 8, "spd01", "spd02"), []byte("\n[fs#extra]\ntype = ext4\ndev = /dev/sdz\nmnt = /x\n")...)
	_, _, err := Planner{}.MovePod(cfg, 1, "spd02")
	require.Error(t, err)
	_, err = Planner{}.Relayout(cfg, []string{"spd01", "spd02", "spd03"})
	require.Error(t, err)
}
