package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/ha/etcdtest"
	"github.com/svckit/svckit/svc/monitor"
)

// nodemgr daemon run --ha-etcd runs the HA agent of the flex service: the
// pods spd01 runs are claimed in place, those of spd02 (which never
// joins) move to spd01 once the wait for it ends, their config installed
// as the node's <svc>.conf, up in the daemon's status; SIGTERM stops the
// pods and gives the lease back.
func TestDaemonHA(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nodemgr and svcmgr")
	}
	ctx := context.Background()
	dir := t.TempDir()
	nodemgr := goBuild(t, dir, "nodemgr", ".")
	svcmgr := goBuild(t, dir, "svcmgr", "../svcmgr")
	e, err := etcdtest.Start(ctx, filepath.Join(dir, "etcd"), 1)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	cli, err := ha.NewClient(ha.ClientOptions{Endpoints: e.Endpoints(), LeaseTTL: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })

	root := filepath.Join(dir, "root")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	conf, err := spd.Generate(spd.Inputs{NPods: 4, Svcname: "spdsvc01", App: "RIVER_SPD", Nodes: []string{"spd01", "spd02"},
		SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "s3cret-pw"})
	require.NoError(t, err)
	confPath := filepath.Join(root, "etc", "spdsvc01.conf")
	require.NoError(t, os.WriteFile(confPath, conf, 0o600))
	out, err := exec.Command(svcmgr, "--root", root, "--node", "spd01", "--fake", "-s", "spdsvc01", "start").CombinedOutput()
	require.NoError(t, err, string(out))

	// ha_lease_ttl would make the config one the spd planner refuses
	// (not one the form generates): the daemon's override instead.
	p := startDaemon(t, nodemgr, root, "SVCKIT_HA_ETCD="+strings.Join(e.Endpoints(), ","), "SVCKIT_HA_LEASE_TTL=2s")
	var st *ha.ClusterStatus
	for range 600 {
		if st, err = ha.ReadStatus(ctx, cli, "", "spdsvc01", []string{"spd01", "spd02"}); err == nil &&
			len(st.Moves) == 0 && len(st.Nodes) == 2 && len(st.Nodes[0].Pods) == 4 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, err)
	require.Equal(t, "spd01", st.Primary, "%s", p.stderr)
	require.Len(t, st.Nodes[0].Pods, 4, "%s\n%s", st.Render(30), p.stderr)
	for _, ps := range st.Pods {
		require.Equal(t, "owned", ps.State, ps.Pod)
	}
	// pod01 and pod02 ran before the daemon: claimed, never stopped.
	for _, ev := range st.Events {
		require.NotContains(t, ev.Msg, "pod01 stopped")
		require.NotContains(t, ev.Msg, "pod02 stopped")
	}

	// The node's config places every pod here now.
	data, err := os.ReadFile(confPath)
	require.NoError(t, err)
	l, err := spd.ParseLayout(data)
	require.NoError(t, err)
	for _, pod := range l.Pods {
		require.Equal(t, "spd01", pod.Node, pod.Tag())
	}
	// And the daemon's status shows pod03's resources up here.
	c := monitor.NewClient(monitor.SocketPath(root))
	var up bool
	for range 200 {
		s, err := c.Service(ctx, "spdsvc01")
		if err == nil && s.Status != nil {
			up = true
			n := 0
			for _, r := range s.Status.Resources {
				if slices.Contains(r.Tags, "pod03") && !r.Disabled {
					n++
					up = up && r.Status.String() == "up"
				}
			}
			up = up && n > 0
			if up {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, up, "pod03 up in the daemon's status: %s", p.stderr)

	require.NoError(t, p.stop(t, syscall.SIGTERM))
	st, err = ha.ReadStatus(ctx, cli, "", "spdsvc01", []string{"spd01", "spd02"})
	require.NoError(t, err)
	require.False(t, st.Nodes[0].Alive, "the lease was given back")

	// A lease override that is no duration is refused before anything.
	cmd := exec.Command(nodemgr, "--root", root, "--node", "spd01", "daemon", "run", "--fake", "--ha-etcd", e.Endpoints()[0])
	cmd.Env = append(os.Environ(), "SVCKIT_HA_LEASE_TTL=soon")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), `SVCKIT_HA_LEASE_TTL="soon": expected a duration of 1s or more`)
}
