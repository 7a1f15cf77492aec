package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/internal/testenv"
)

const loadConf = `[DEFAULT]
nodes = n1
docker_data_dir = %[1]s/docker

[fs#00]
type = btrfs
dev = %[2]s
mnt = %[1]s

[container#01]
type = docker
run_image = %[3]s
run_args = --net=none
pull = never
`

// TestDockerLoadPrivate loads an image with `svcmgr -s S docker load -i
// FILE` into the service's private daemon (docker_data_dir on a btrfs
// loop filesystem): the image lands in the private data root, the host's
// daemon never has it, and the service's container runs it.
func TestDockerLoadPrivate(t *testing.T) {
	host := testenv.Docker(t)
	testenv.RequireCommands(t, "docker", "dockerd", "mkfs.btrfs")
	ctx := context.Background()

	// An image only the file holds: the sleeper, tagged with a name of
	// its own, saved, then untagged on the host.
	base := testenv.SleeperImage(t, host)
	tag := strings.ToLower(testenv.RandomName("svckit-load")) + ":1"
	_, err := host.ImageTag(ctx, client.ImageTagOptions{Source: base, Target: tag})
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "sl") // short: the socket is in the var directory
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "image.tar")
	save, err := host.ImageSave(ctx, []string{tag})
	require.NoError(t, err)
	f, err := os.Create(file)
	require.NoError(t, err)
	_, err = io.Copy(f, save)
	save.Close()
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = host.ImageRemove(ctx, tag, client.ImageRemoveOptions{})
	require.NoError(t, err)
	_, err = host.ImageInspect(ctx, tag)
	require.Error(t, err, "the host still has %s", tag)

	dev := testenv.LoopDevice(t, 1<<30)
	out, err := exec.Command("mkfs.btrfs", "-q", dev).CombinedOutput()
	require.NoError(t, err, "%s", out)
	root, mnt := filepath.Join(dir, "r"), filepath.Join(dir, "m")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "s.conf"), fmt.Appendf(nil, loadConf, mnt, dev, tag), 0o600))
	varDir := filepath.Join(root, "var", "s")
	svcmgr := func(args ...string) (string, string, int) {
		var o, e bytes.Buffer
		code := run(append([]string{"--root", root, "--node", "n1", "-s", "s"}, args...), &o, &e)
		return o.String(), e.String(), code
	}
	t.Cleanup(func() { cleanupPrivate(t, svcmgr, varDir, mnt) })

	// The daemon down: docker says where the command went.
	_, errOut, code := svcmgr("docker", "load", "-i", file)
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, filepath.Join(varDir, "docker.sock"))

	o, errOut, code := svcmgr("start", "--rid", "fs#00,"+ctr.DockerdRID)
	require.Equal(t, 0, code, o+errOut)
	o, errOut, code = svcmgr("docker", "load", "-i", file)
	require.Equal(t, 0, code, o+errOut)
	require.Contains(t, o, "Loaded image: "+tag)

	priv, err := dockerd.Client(ctr.Daemon{Private: true, Host: "unix://" + filepath.Join(varDir, "docker.sock")})
	require.NoError(t, err)
	defer priv.Close()
	_, err = priv.ImageInspect(ctx, tag)
	require.NoError(t, err, "the private daemon lacks %s", tag)
	_, err = host.ImageInspect(ctx, tag)
	require.Error(t, err, "the host's daemon has %s", tag)
	info, err := priv.Info(ctx, client.InfoOptions{})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(mnt, "docker"), info.Info.DockerRootDir)
	require.Equal(t, "btrfs", info.Info.Driver)
	// The tag is recorded under the data root, on the service's filesystem.
	repos, err := os.ReadFile(filepath.Join(mnt, "docker", "image", "btrfs", "repositories.json"))
	require.NoError(t, err)
	require.Contains(t, string(repos), tag)

	// The service's container runs it (pull = never: no registry).
	o, errOut, code = svcmgr("start")
	require.Equal(t, 0, code, o+errOut)
	in, err := priv.ContainerInspect(ctx, "s.container.01", client.ContainerInspectOptions{})
	require.NoError(t, err)
	require.True(t, in.Container.State.Running)
	require.Equal(t, tag, in.Container.Config.Image)

	// svcmgr docker ps lists it; the host's daemon does not. --format
	// is svcmgr's own flag too: after "--" it is docker's.
	o, errOut, code = svcmgr("docker", "--", "ps", "--format", "{{.Names}}")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "s.container.01\n", o)
	_, err = host.ContainerInspect(ctx, "s.container.01", client.ContainerInspectOptions{})
	require.Error(t, err)

	o, errOut, code = svcmgr("stop")
	require.Equal(t, 0, code, o+errOut)
}

// cleanupPrivate stops what the test left: the service, its daemon (by
// its pidfile), the mount, the daemon's exec root.
func cleanupPrivate(t *testing.T, svcmgr func(...string) (string, string, int), varDir, mnt string) {
	_, _, _ = svcmgr("stop")
	if b, err := os.ReadFile(filepath.Join(varDir, "docker.pid")); err == nil {
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
			if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmd), varDir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				time.Sleep(time.Second)
			}
		}
	}
	testenv.Unmount(t, mnt)
	spec, err := ctr.ParseDockerdSpec(driver.Config{RID: ctr.DockerdRID, Manifest: ctr.Dockerd, Svcname: "s", VarDir: varDir,
		Defaults: map[string]string{"docker_data_dir": filepath.Join(mnt, "docker")}})
	if err != nil || spec.ExecRoot == "" {
		return
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && !strings.Contains(string(mi), " "+spec.ExecRoot+"/") {
		os.RemoveAll(spec.ExecRoot)
	}
}
