package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	_ "github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/svc/monitor"
)

// TestDaemonRestartsAKilledDockerContainer runs the daemon (real clock,
// 1 s interval, its API) on a service of the real docker driver: a
// container killed through the Docker API behind its back is running
// again, counted in the metrics. Root and a Docker daemon; the image is
// built locally (FROM scratch).
func TestDaemonRestartsAKilledDockerContainer(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	root := t.TempDir()
	ds := startDockerService(t, cli, root, "svckit-dmn-", "", "")
	inspect, ctrName := ds.inspect, ds.container
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
	require.Contains(t, m, fmt.Sprintf(`svckit_resource_restarts_total{rid="container#1",service=%q} 1`, ds.svc.Name()))
	stop()
}
