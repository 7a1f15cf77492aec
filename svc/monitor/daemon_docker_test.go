package monitor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	_ "github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// TestDaemonRestartsAKilledDockerContainer runs the daemon (real clock,
// 1 s interval, its API) on a service of the real docker driver: a
// container killed through the Docker API behind its back is running
// again, counted in the metrics. Root and a Docker daemon; the image is
// built locally (FROM scratch).
func TestDaemonRestartsAKilledDockerContainer(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	ctx := context.Background()
	name := testenv.RandomName("svckit-dmn-")
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	conf := fmt.Sprintf(`[DEFAULT]
nodes = n1

[container#1]
type = docker
run_image = %s
run_args = --net=none
stop_timeout = 5s
restart = 2
restart_delay = 1s
`, image)
	path := filepath.Join(root, "etc", name+".conf")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
	s, err := svc.Load(ctx, path, svc.Options{Node: "n1", Root: root})
	require.NoError(t, err)
	ctrName := name + ".container.1"
	testenv.RemoveContainer(t, cli, ctrName)
	_, err = s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = s.Stop(cctx, svc.ActionOptions{})
	})
	inspect := func() (bool, string) {
		res, err := cli.ContainerInspect(ctx, ctrName, client.ContainerInspectOptions{})
		require.NoError(t, err)
		return res.Container.State.Running, res.Container.State.StartedAt
	}
	running, started := inspect()
	require.True(t, running)

	d, err := monitor.NewDaemon(monitor.DaemonOptions{Root: root, Node: "n1", Registry: driver.Default(), Interval: time.Second, NoHostActions: true})
	require.NoError(t, err)
	c, stop := runDaemon(t, d, root)

	_, err = cli.ContainerKill(ctx, ctrName, client.ContainerKillOptions{Signal: "KILL"})
	require.NoError(t, err)
	// Bounded wait for the daemon's restart (not a timing assertion).
	var again string
	for i := 0; i < 300; i++ {
		if running, again = inspect(); running && again != started {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.True(t, running, "the killed container was not restarted")
	require.NotEqual(t, started, again, "started again")
	m, err := c.Metrics(ctx)
	require.NoError(t, err)
	require.Contains(t, m, fmt.Sprintf(`svckit_resource_restarts_total{rid="container#1",service=%q} 1`, name))
	stop()
}
