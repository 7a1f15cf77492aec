package docker

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/resource/secret"
)

func cfg(rid string, values map[string]string) driver.Config {
	return driver.Config{RID: rid, Manifest: ctr.Docker, Svcname: "svckit-test", Values: values,
		Defaults: map[string]string{}}
}

func TestRegistered(t *testing.T) {
	_, ok := driver.Default().Lookup("container.docker")
	require.True(t, ok)
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"run_image": "x", "run_args": "--net=none --frobnicate"}, `run_args: unsupported option "--frobnicate"`},
		{map[string]string{"run_image": "x", "run_args": "--rm"}, `run_args: option --rm is refused`},
		{map[string]string{"run_image": "x", "run_args": `-e "A=1`}, `run_args: cannot split into words: EOF found when expecting closing quote`},
		{map[string]string{"run_image": "x", "run_args": "--name other"}, `run_args: --name other differs from the container name svckit-test.container.01db: set the name keyword instead`},
		{map[string]string{"run_image": "x", "run_command": `sh -c "x`}, `run_command: cannot split into words: EOF found when expecting closing quote`},
		{map[string]string{"run_image": " "}, `run_image: expected an image reference`},
		{map[string]string{"run_image": "x", "pull": "sometimes"}, `pull: "sometimes" is not one of missing, always, never`},
	} {
		_, err := New(context.Background(), cfg("container#01db", tc.values))
		require.ErrorContains(t, err, tc.want)
	}
}

func TestNameUsesLabel(t *testing.T) {
	c := cfg("container#01db", map[string]string{"run_image": "mariadb", "run_args": `--net=none
	    -v /etc/localtime:/etc/localtime:ro
	    -v /spdsvc01/pod01/db/data/:/var/lib/mysql:rw
	    -v named:/x --name svckit-test.container.01db
	    --mount type=bind,source=/spdsvc01/pod01/db/conf,target=/etc/mysql/conf.d`})
	c.Defaults["docker_data_dir"] = "/spdsvc01/docker"
	r, err := New(context.Background(), c)
	require.NoError(t, err)
	d := r.(*Container)
	require.Equal(t, "svckit-test.container.01db", d.Name)
	uses, order := d.Uses()
	require.Equal(t, []string{"/etc/localtime", "/spdsvc01/pod01/db/data", "/spdsvc01/pod01/db/conf", "/spdsvc01/docker", "rid:container#dockerd"}, uses)
	require.Equal(t, resource.OrderByUses, order)
	require.Equal(t, "svckit-test.container.01db@mariadb", d.Label())

	c = cfg("container#02", map[string]string{"run_image": "mariadb", "name": "db2"})
	r, err = New(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, "db2", r.(*Container).Name)
	uses, order = r.(*Container).Uses()
	require.Empty(t, uses)
	require.Equal(t, resource.OrderByUses, order, "no bind: depends on nothing")
}

// TestLifecycle runs a container of a locally built image against the
// local daemon: create, start, status, restart, stop, remove.
func TestLifecycle(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	ctx := context.Background()
	rid := "container#" + testenv.RandomName("")
	dir := t.TempDir()
	c := cfg(rid, map[string]string{
		"run_image":    image,
		"run_args":     "--net=none --hostname sleeper01 -e MYSQL_ROOT_PASSWORD=hunter2-s3cr3t -e SLEEPER_MESSAGE=hello -v " + dir + ":/out:rw --label team=db",
		"run_command":  "-write /out/started",
		"stop_timeout": "5s",
	})
	r, err := New(ctx, c)
	require.NoError(t, err)
	d := r.(*Container)
	testenv.RemoveContainer(t, cli, d.Name)

	var logs bytes.Buffer
	lctx := resource.WithLogger(ctx, slog.New(slog.NewTextHandler(&logs, nil)))

	st, err := d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)

	require.NoError(t, d.Start(resource.WithDryRun(lctx, true)))
	st, _ = d.Status(ctx)
	require.Equal(t, resource.Down, st, "dry run created the container")

	require.NoError(t, d.Start(lctx))
	st, err = d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)

	in, err := cli.ContainerInspect(ctx, d.Name, client.ContainerInspectOptions{})
	require.NoError(t, err)
	id := in.Container.ID
	require.Equal(t, id[:12]+"@"+image, d.Label())
	require.Equal(t, "none", string(in.Container.HostConfig.NetworkMode))
	require.Equal(t, "db", in.Container.Config.Labels["team"])
	require.Equal(t, rid, in.Container.Config.Labels[LabelRID])
	require.Equal(t, "svckit-test", in.Container.Config.Labels[LabelService])

	// The program saw the bind, the hostname and the environment.
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "started"))
		return err == nil && string(b) == "sleeper01\nhello\n"
	}, 10e9, 50e6)

	require.NotContains(t, logs.String(), "hunter2-s3cr3t", "a password reached the log")
	require.Contains(t, logs.String(), "MYSQL_ROOT_PASSWORD="+secret.Placeholder)
	require.Contains(t, logs.String(), "SLEEPER_MESSAGE=hello")

	require.NoError(t, d.Start(ctx), "start of a running container")
	require.ErrorContains(t, d.Unprovision(ctx), "is running: stop it first")

	require.NoError(t, d.Stop(ctx))
	st, err = d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)
	require.NoError(t, d.Stop(ctx), "stop of a stopped container")

	// Start again: the same container is restarted, not re-created.
	require.NoError(t, os.Remove(filepath.Join(dir, "started")))
	require.NoError(t, d.Start(ctx))
	in, err = cli.ContainerInspect(ctx, d.Name, client.ContainerInspectOptions{})
	require.NoError(t, err)
	require.Equal(t, id, in.Container.ID)
	require.True(t, in.Container.State.Running)
	require.NoError(t, d.Stop(ctx))

	require.NoError(t, d.Unprovision(ctx))
	_, err = cli.ContainerInspect(ctx, d.Name, client.ContainerInspectOptions{})
	require.Error(t, err)
	require.NoError(t, d.Unprovision(ctx), "unprovision of a removed container")
}

func TestStartFailures(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	ctx := context.Background()

	t.Run("image absent and pull never", func(t *testing.T) {
		r, err := New(ctx, cfg("container#"+testenv.RandomName(""), map[string]string{"run_image": "svckit-test-absent:never", "pull": "never"}))
		require.NoError(t, err)
		testenv.RemoveContainer(t, cli, r.(*Container).Name)
		require.ErrorContains(t, r.Start(ctx), "image svckit-test-absent:never is not present and pull = never")
	})

	t.Run("container exits at once", func(t *testing.T) {
		// -write to a directory that does not exist: the program exits 1.
		r, err := New(ctx, cfg("container#"+testenv.RandomName(""), map[string]string{
			"run_image": image, "run_args": "--net=none", "run_command": "-write /nonexistent/x", "start_timeout": "10s"}))
		require.NoError(t, err)
		testenv.RemoveContainer(t, cli, r.(*Container).Name)
		err = r.Start(ctx)
		require.Error(t, err)
		require.True(t, strings.Contains(err.Error(), "exited with code 1"), err.Error())
		st, _ := r.Status(ctx)
		require.Equal(t, resource.Down, st)
	})

	t.Run("image changed", func(t *testing.T) {
		rid := "container#" + testenv.RandomName("")
		r, err := New(ctx, cfg(rid, map[string]string{"run_image": image, "run_args": "--net=none"}))
		require.NoError(t, err)
		testenv.RemoveContainer(t, cli, r.(*Container).Name)
		require.NoError(t, r.Start(ctx))
		// The configuration now names another tag of the same image.
		other := strings.Replace(image, ":", ":other-", 1)
		_, err = cli.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: other})
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), other, client.ImageRemoveOptions{}) })
		r2, err := New(ctx, cfg(rid, map[string]string{"run_image": other, "run_args": "--net=none"}))
		require.NoError(t, err)
		st, err := r2.Status(ctx)
		require.Equal(t, resource.Warn, st)
		require.ErrorContains(t, err, "remove it to recreate")
		require.NoError(t, r2.Stop(ctx))
	})
}
