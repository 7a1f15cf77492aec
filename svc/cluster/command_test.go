package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/cluster"
)

// statusOnly is a Peer that is no Executor.
type statusOnly struct{ cluster.Peer }

type onlyStatus struct{ t cluster.Transport }

func (o onlyStatus) Peer(node string) (cluster.Peer, error) {
	p, err := o.t.Peer(node)
	return statusOnly{p}, err
}

// TestExec runs a Command on every node of the service from the flex
// primary: each agent's output comes back under its node, a node whose
// command fails is named with its output kept, a peer that cannot run
// commands is a failure of its own, and only the flex primary may run it.
func TestExec(t *testing.T) {
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	seed, err := os.ReadFile("../testdata/spdsvc01.conf")
	require.NoError(t, err)
	for _, a := range tc.agents {
		require.NoError(t, os.MkdirAll(filepath.Join(a.Root, "etc"), 0o755))
		require.NoError(t, os.WriteFile(a.ConfigPath(svcname), seed, 0o644))
	}
	ctx := context.Background()
	cmd := cluster.Command{Name: "whoami", Local: func(ctx context.Context, a *cluster.Agent, s string) (json.RawMessage, error) {
		out, _ := json.Marshal(map[string]string{"node": a.Node, "service": s})
		if a.Node == "spd03" {
			return out, errors.New("spd03: not ok")
		}
		return out, nil
	}}
	res, err := tc.from("spd01").Exec(ctx, svcname, cmd)
	var ne *cluster.NodeError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, []string{"spd03"}, ne.Nodes())
	require.ErrorContains(t, err, "spdsvc01 whoami failed on spd03: spd03: not ok")
	require.Len(t, res.Nodes, 4)
	for n, nr := range res.Nodes {
		require.JSONEq(t, `{"node": "`+n+`", "service": "spdsvc01"}`, string(nr.Output))
	}

	c := tc.from("spd01")
	c.Transport = onlyStatus{c.Transport}
	res, err = c.Exec(ctx, svcname, cmd)
	require.Error(t, err)
	require.Equal(t, []string{"spd02", "spd03", "spd04"}, res.Failed())
	require.Contains(t, res.Nodes["spd02"].Error, "the transport cannot run whoami on this node")

	_, err = tc.from("spd02").Exec(ctx, svcname, cmd)
	require.ErrorContains(t, err, "spd02 is not the flex primary")

	_, err = tc.agents["spd01"].Exec(ctx, svcname, cluster.Command{Name: "nothing"})
	require.ErrorContains(t, err, "spd01: nothing: no in-process implementation")
}
