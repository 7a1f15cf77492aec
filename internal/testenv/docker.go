package testenv

import (
	"context"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/svckit/svckit/internal/dockerimage"
)

// Docker returns a client of the local Docker daemon, or skips t when
// there is none (or the test is not root: the drivers' tests also need
// the container's namespaces).
func Docker(t testing.TB) *client.Client {
	t.Helper()
	RequireRoot(t)
	cli, err := client.New(client.FromEnv)
	if err != nil {
		Skip(t, "no docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		Skip(t, "no docker daemon: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// SleeperImage returns the reference of a local image made of nothing but
// a static Go binary (internal/dockerimage/sleeper) that runs until
// SIGTERM, building it when absent. No registry is involved: the image is
// FROM scratch. The tag carries a hash of the program's source, so an edit
// rebuilds it.
//
// The image's entrypoint is /sleeper; its command arguments are the
// program's flags (-write FILE, -listen ADDR).
func SleeperImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ref, err := dockerimage.Sleeper(ctx, cli, "svckit-test-sleeper", map[string]string{"com.svckit.test": "sleeper"})
	if err != nil {
		t.Fatalf("build the test image: %v", err)
	}
	return ref
}

// RemoveContainer force-removes the container name when t ends, whatever
// state the test left it in.
func RemoveContainer(t testing.TB, cli *client.Client, name string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove container %s: %v", name, err)
		}
	})
}
