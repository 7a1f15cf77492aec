package dockerd_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// TestDaemonDownStatusAndUnprovision: once the service is stopped (its
// daemon and filesystem down) the container is down and says the daemon
// is not running, the service is down (not warn); unprovision of the
// container fails saying so and keeps it in the data root; with the
// daemon started, unprovision removes it from the private daemon; the
// service's unprovision keeps the data root and its images.
func TestDaemonDownStatusAndUnprovision(t *testing.T) {
	host := testenv.Docker(t)
	image := testenv.SleeperImage(t, host)
	ctx := context.Background()
	e := newEnv(t, host, image)
	s := e.startAll(t, ctx)
	const name = "s.container.01"
	_, err := s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)

	rep := s.Status(ctx)
	require.Equal(t, resource.Down, rep.Overall, "a stopped service with a private daemon is down")
	var logged []string
	for _, rs := range rep.Resources {
		if rs.RID == "container#01" {
			require.Equal(t, resource.Down, rs.Status)
			logged = rs.Log
		}
	}
	require.Len(t, logged, 1)
	require.Contains(t, logged[0], "the private docker daemon is not running (socket "+filepath.Join(e.varDir, "docker.sock")+")")
	require.Contains(t, rep.Render(svc.StatusOptions{}), "|  |     # "+logged[0]+"\n")

	// Unprovision with the daemon down: refused, nothing removed.
	_, err = s.Unprovision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01"}}})
	require.ErrorIs(t, err, dockerd.ErrNotRunning)
	require.ErrorContains(t, err, "the container stays in the daemon's data root; start the daemon (start --rid container#dockerd")
	_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#00", ctr.DockerdRID}}})
	require.NoError(t, err)
	priv := e.private(t)
	_, err = priv.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	require.NoError(t, err, "the container left the data root")

	// The daemon up: unprovision removes the container from it.
	_, err = s.Unprovision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01"}}})
	require.NoError(t, err)
	_, err = priv.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	require.True(t, cerrdefs.IsNotFound(err), "%v", err)
	_, err = host.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	require.True(t, cerrdefs.IsNotFound(err), "%v", err)

	// The service's unprovision stops the daemon and unmounts; the data
	// root, on the service's filesystem, keeps its images.
	_, err = s.Unprovision(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.Equal(t, resource.Down, status(t, s, ctr.DockerdRID))
	require.Equal(t, resource.Down, status(t, s, "fs#00"))
	_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#00", ctr.DockerdRID}}})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(e.mnt, "docker", "image"))
	require.NoError(t, err)
	_, err = e.private(t).ImageInspect(ctx, image)
	require.NoError(t, err, "the data root lost its image")
	_, err = s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)
}
