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

	_ "github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// dockerService is a started service of one container on the real
// docker driver (the locally built sleeper image), stopped at the end of
// the test.
type dockerService struct {
	svc       *svc.Service
	container string
	// inspect tells whether the container runs and when it started.
	inspect func() (bool, string)
}

// startDockerService writes <root>/etc/<name>.conf (the container
// restarted twice, 1 s apart; defaults and res are more lines of DEFAULT
// and of the container), loads and starts it.
func startDockerService(t *testing.T, cli *client.Client, root, prefix, defaults, res string) dockerService {
	t.Helper()
	ctx := context.Background()
	image := testenv.SleeperImage(t, cli)
	name := testenv.RandomName(prefix)
	conf := fmt.Sprintf("[DEFAULT]\nnodes = n1\n%s\n[container#1]\ntype = docker\nrun_image = %s\nrun_args = --net=none\nstop_timeout = 5s\nrestart = 2\nrestart_delay = 1s\n%s", defaults, image, res)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
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
	return dockerService{svc: s, container: ctrName, inspect: func() (bool, string) {
		res, err := cli.ContainerInspect(ctx, ctrName, client.ContainerInspectOptions{})
		require.NoError(t, err)
		return res.Container.State.Running, res.Container.State.StartedAt
	}}
}

// TestPassRestartsAKilledDockerContainer: a container of a service on the
// real docker driver, killed through the Docker API behind the service's
// back, is running again after one pass. Root and a Docker daemon; the
// image is built locally (FROM scratch).
func TestPassRestartsAKilledDockerContainer(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	ds := startDockerService(t, cli, t.TempDir(), "svckit-mon-", "monitor_action = crash\n", "monitor = true\n")
	s, inspect := ds.svc, ds.inspect
	ctrName := ds.container
	running, started := inspect()
	require.True(t, running)

	_, err := cli.ContainerKill(ctx, ctrName, client.ContainerKillOptions{Signal: "KILL"})
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
