package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	_ "github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// TestPassRestartsAKilledDockerContainer: a container of a service on the
// real docker driver, killed through the Docker API behind the service's
// back, is running again after one pass. Root and a Docker daemon; the
// image is built locally (FROM scratch).
func TestPassRestartsAKilledDockerContainer(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	ctx := context.Background()
	name := testenv.RandomName("svckit-mon-")
	conf := fmt.Sprintf(`[DEFAULT]
nodes = n1
monitor_action = crash

[container#1]
type = docker
run_image = %s
run_args = --net=none
stop_timeout = 5s
restart = 2
restart_delay = 1s
monitor = true
`, image)
	s, err := svc.Parse(ctx, name+".conf", []byte(conf), svc.Options{Node: "n1", Root: t.TempDir()})
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

	_, err = cli.ContainerKill(ctx, ctrName, client.ContainerKillOptions{Signal: "KILL"})
	require.NoError(t, err)
	// The kill is asynchronous: wait until the daemon reports the
	// container stopped (bounded; not a timing assertion).
	for i := 0; i < 100; i++ {
		if running, _ = inspect(); !running {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.False(t, running)

	var actions []string
	var events []string
	m := monitor.New(monitor.Options{
		Action: func(ctx context.Context, s *svc.Service, action, reason string) error {
			actions = append(actions, action)
			return nil
		},
		Emit: func(kind, svcname, rid, msg string) { events = append(events, kind+" "+rid) },
	})
	rep, err := m.Pass(ctx, s)
	require.NoError(t, err)
	require.Equal(t, []string{"container#1"}, rep.Down)
	require.Equal(t, []string{"container#1"}, rep.Restarted, "%v", rep.Failed)
	require.Equal(t, resource.Up, rep.Status.Avail)
	require.Empty(t, actions)
	require.Equal(t, []string{"down container#1", "restart container#1", "restarted container#1"}, events)
	running, again := inspect()
	require.True(t, running)
	require.NotEqual(t, started, again, "started again")
}
