package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/ha/etcdtest"
	"github.com/svckit/svckit/svc/cluster/ha/hatest"
)

// print status --cluster --ha-etcd adds the HA view: spd01's agent runs
// and is primary, the other nodes never joined (their pods unclaimed).
func TestPrintStatusClusterHA(t *testing.T) {
	ctx := context.Background()
	e, err := etcdtest.Start(ctx, t.TempDir(), 1)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	cli, err := ha.NewClient(ha.ClientOptions{Endpoints: e.Endpoints(), LeaseTTL: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	nodes := []string{"spd01", "spd02", "spd03", "spd04"}
	a, err := ha.NewAgent(ha.Config{Service: "spdsvc01", Node: "spd01", Nodes: nodes, Primary: "spd01",
		Layout: map[string]string{"pod01": "spd01", "pod02": "spd02"}, LeaseTTL: 2 * time.Second, MinNodes: 2}, cli, &hatest.Pods{})
	require.NoError(t, err)
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Run(actx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for range 200 {
		if a.IsPrimary() && len(a.Local()) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.True(t, a.IsPrimary())

	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	seed, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(storeDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(storeDir, "spdsvc01.conf"), seed, 0o600))
	var reg strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&reg, "[%s]\nroot = %s\n", n, filepath.Join(dir, n))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "spd01", "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spd01", "etc", "nodes.conf"), []byte(reg.String()), 0o644))
	svcmgr := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		base := []string{"--root", filepath.Join(dir, "spd01"), "--node", "spd01", "-s", "spdsvc01", "--fake", "--transport", "local", "--store", "dir:" + storeDir}
		code := run(append(base, args...), &out, &errb)
		require.Equal(t, 0, code, "svcmgr %s\n%s\n%s", strings.Join(args, " "), out.String(), errb.String())
		return out.String()
	}
	svcmgr("pull")
	svcmgr("sync", "nodes")

	for _, tc := range []struct {
		name   string
		format string
		check  func(t *testing.T, out string)
	}{
		{name: "text", format: "text", check: func(t *testing.T, out string) {
			require.Contains(t, out, "high availability (etcd)")
			require.Contains(t, out, "spdsvc01  primary: spd01")
			require.Contains(t, out, "pods not owned by a live node: pod02 unclaimed")
		}},
		{name: "json", format: "json", check: func(t *testing.T, out string) {
			var st statusWithHA
			require.NoError(t, json.Unmarshal([]byte(out), &st), out)
			require.NotNil(t, st.Status)
			require.Len(t, st.Status.Nodes, 4)
			require.NotNil(t, st.HA)
			require.Equal(t, "spd01", st.HA.Primary)
			require.Len(t, st.HA.Nodes, 4)
			require.True(t, st.HA.Nodes[0].Alive)
			require.Equal(t, []string{"pod01"}, st.HA.Nodes[0].Pods)
			require.False(t, st.HA.Nodes[1].Alive)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, svcmgr("--format", tc.format, "--cluster", "print", "status", "--ha-etcd", strings.Join(e.Endpoints(), ",")))
		})
	}
}
