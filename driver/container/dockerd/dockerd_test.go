package dockerd_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/svckit/svckit/driver"
	_ "github.com/svckit/svckit/driver/all"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

func spec(t *testing.T, varDir string, defaults map[string]string) (*ctr.DockerdSpec, error) {
	t.Helper()
	return ctr.ParseDockerdSpec(driver.Config{RID: ctr.DockerdRID, Manifest: ctr.Dockerd, Svcname: "s", VarDir: varDir, Defaults: defaults})
}

func TestSpec(t *testing.T) {
	s, err := spec(t, "/var/svckit/s", map[string]string{"docker_data_dir": "/s/docker/"})
	require.NoError(t, err)
	require.Equal(t, "dockerd", s.Exe)
	require.Equal(t, "/s/docker", s.DataRoot)
	require.Equal(t, "/var/svckit/s/docker.sock", s.Socket)
	require.Regexp(t, `^/run/svckit-dockerd/[0-9a-f]{12}$`, s.ExecRoot)
	require.Equal(t, []string{"--data-root", "/s/docker", "-H", "unix:///var/svckit/s/docker.sock", "--pidfile", "/var/svckit/s/docker.pid",
		"--exec-root", s.ExecRoot, "--config-file", "/var/svckit/s/dockerd.json", "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip-forward=false"}, s.Args)
	require.True(t, s.BridgeNone)
	uses, order := s.Uses()
	require.Equal(t, []string{"/s/docker"}, uses)
	require.Equal(t, resource.OrderByUses, order)

	// Two services: two exec roots.
	s2, err := spec(t, "/var/svckit/t", map[string]string{"docker_data_dir": "/t/docker"})
	require.NoError(t, err)
	require.NotEqual(t, s.ExecRoot, s2.ExecRoot)

	// docker_daemon_args overrides the network defaults, and comes last.
	s, err = spec(t, "/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_args": `--bridge docker9 --iptables=true --exec-root /x --log-level "debug"`, "dockerd_exe": "/opt/dockerd"})
	require.NoError(t, err)
	require.Equal(t, "/opt/dockerd", s.Exe)
	require.Equal(t, []string{"--data-root", "/d", "-H", "unix:///v/docker.sock", "--pidfile", "/v/docker.pid", "--config-file", "/v/dockerd.json",
		"--ip-masq=false", "--ip-forward=false", "--bridge", "docker9", "--iptables=true", "--exec-root", "/x", "--log-level", "debug"}, s.Args)
	require.False(t, s.BridgeNone)

	for _, tc := range []struct {
		varDir   string
		defaults map[string]string
		want     string
	}{
		{"/v", map[string]string{}, "docker_data_dir: required"},
		{"/v", map[string]string{"docker_data_dir": "rel/dir"}, `docker_data_dir: "rel/dir": expected an absolute path`},
		{"/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_private": "false"}, "docker_daemon_private: is false"},
		{"/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_private": "maybe"}, "docker_daemon_private:"},
		{"/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_args": `"unterminated`}, "docker_daemon_args: cannot split"},
		{"/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_args": "-H tcp://0.0.0.0:2375"}, "docker_daemon_args: sets one of -H"},
		{"/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_args": "--data-root=/elsewhere"}, "docker_daemon_args: sets one of"},
		{"/v", map[string]string{"docker_data_dir": "/d", "docker_daemon_args": "--pidfile /tmp/x"}, "docker_daemon_args: sets one of"},
		{"relative", map[string]string{"docker_data_dir": "/d"}, "absolute var directory"},
	} {
		_, err := spec(t, tc.varDir, tc.defaults)
		require.ErrorContains(t, err, tc.want, "%v", tc.defaults)
	}

	// A var directory too long for a socket path: the socket goes beside
	// the exec roots.
	long := "/" + strings.Repeat("v", 100)
	s, err = spec(t, long, map[string]string{"docker_data_dir": "/d"})
	require.NoError(t, err)
	require.Equal(t, s.ExecRoot+".sock", s.Socket)
	require.LessOrEqual(t, len(s.Socket), ctr.MaxSocketPath)
	require.Equal(t, long+"/docker.pid", s.Pidfile)

	// The containers of the service use the daemon and talk to its socket.
	c, err := ctr.ParseDockerSpec(driver.Config{RID: "container#1", Manifest: ctr.Docker, Svcname: "s", VarDir: "/v",
		Values: map[string]string{"run_image": "x"}, Defaults: map[string]string{"docker_data_dir": "/d"}})
	require.NoError(t, err)
	require.Equal(t, ctr.Daemon{Private: true, Host: "unix:///v/docker.sock"}, c.Daemon)
	uses, _ = c.Uses()
	require.Equal(t, []string{"/d", "rid:" + ctr.DockerdRID}, uses)
	c, err = ctr.ParseDockerSpec(driver.Config{RID: "container#1", Manifest: ctr.Docker, Svcname: "s", VarDir: "/v",
		Values: map[string]string{"run_image": "x"}, Defaults: map[string]string{"docker_data_dir": "/d", "docker_daemon_private": "false"}})
	require.NoError(t, err)
	require.False(t, c.Daemon.Private)
	uses, _ = c.Uses()
	require.Equal(t, []string{"/d"}, uses)
}

// env is a service with a private daemon on a btrfs loop filesystem.
type env struct {
	dir, mnt, conf, varDir, image string
	host                          *client.Client
}

const confTemplate = `[DEFAULT]
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
stop_timeout = 5s
`

func newEnv(t *testing.T, host *client.Client, image string) *env {
	t.Helper()
	testenv.RequireCommands(t, "mkfs.btrfs", "dockerd")
	dev := testenv.LoopDevice(t, 1<<30)
	out, err := exec.Command("mkfs.btrfs", "-q", dev).CombinedOutput()
	require.NoError(t, err, "%s", out)
	// Short paths: the socket lives in the var directory.
	dir, err := os.MkdirTemp("", "dkd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &env{dir: dir, mnt: filepath.Join(dir, "mnt"), conf: filepath.Join(dir, "s.conf"), varDir: filepath.Join(dir, "var"), image: image, host: host}
	require.NoError(t, os.WriteFile(e.conf, fmt.Appendf(nil, confTemplate, e.mnt, dev, image), 0o600))
	t.Cleanup(func() {
		// Whatever the test left: the daemon, then the mount.
		if s, err := e.load(); err == nil {
			_, _ = s.Stop(context.Background(), svc.ActionOptions{})
		}
		if b, err := os.ReadFile(filepath.Join(e.varDir, "docker.pid")); err == nil {
			var pid int
			if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				time.Sleep(time.Second)
			}
		}
		testenv.Unmount(t, e.mnt)
		// dockerd keeps its exec root's state (as /var/run/docker): a
		// test's random var directory would leave one per run. Removed
		// only when nothing is mounted below it.
		sp, err := spec(t, e.varDir, map[string]string{"docker_data_dir": e.mnt + "/docker"})
		if err != nil || sp.ExecRoot == "" {
			return
		}
		if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && !strings.Contains(string(mi), " "+sp.ExecRoot+"/") {
			os.RemoveAll(sp.ExecRoot)
		}
	})
	return e
}

func (e *env) load() (*svc.Service, error) {
	return svc.Load(context.Background(), e.conf, svc.Options{Node: "n1", VarDir: e.varDir, NoTriggers: true})
}

func (e *env) private(t *testing.T) *client.Client {
	t.Helper()
	cli, err := dockerd.Client(ctr.Daemon{Private: true, Host: "unix://" + filepath.Join(e.varDir, "docker.sock")})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func (e *env) pid(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.varDir, "docker.pid"))
	require.NoError(t, err)
	var pid int
	_, err = fmt.Sscan(string(b), &pid)
	require.NoError(t, err)
	return pid
}

// startAll starts the fs and the daemon, loads the image into the
// private daemon, then starts the service.
func (e *env) startAll(t *testing.T, ctx context.Context) *svc.Service {
	t.Helper()
	s, err := e.load()
	require.NoError(t, err)
	_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#00", ctr.DockerdRID}}})
	require.NoError(t, err)
	require.NoError(t, dockerd.CopyImage(ctx, e.host, e.private(t), e.image))
	_, err = s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	return s
}

func status(t *testing.T, s *svc.Service, rid string) resource.Status {
	t.Helper()
	r, ok := s.Resource(rid)
	require.True(t, ok, rid)
	st, _ := r.Status(context.Background())
	return st
}

func hostNetwork(t *testing.T) string {
	t.Helper()
	h, err := netlink.NewHandle()
	require.NoError(t, err)
	defer h.Close()
	var b strings.Builder
	// The host daemon's own containers' veths come and go.
	b.WriteString(network(t, h, func(l netlink.Link) string {
		if strings.HasPrefix(l.Attrs().Name, "veth") {
			return ""
		}
		return l.Attrs().Name
	}))
	if out, err := exec.Command("iptables-save").Output(); err == nil {
		counters := regexp.MustCompile(`\[\d+:\d+\]`)
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "#") {
				fmt.Fprintln(&b, counters.ReplaceAllString(l, ""))
			}
		}
	}
	return b.String()
}

// network lists the links (as link names them; "" leaves one out), the
// addresses and the routes a netlink handle sees.
func network(t *testing.T, h *netlink.Handle, link func(netlink.Link) string) string {
	t.Helper()
	var b strings.Builder
	links, err := h.LinkList()
	require.NoError(t, err)
	for _, l := range links {
		if name := link(l); name != "" {
			fmt.Fprintf(&b, "link %s\n", name)
		}
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	require.NoError(t, err)
	for _, a := range addrs {
		fmt.Fprintf(&b, "addr %s\n", a.IPNet)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	require.NoError(t, err)
	for _, r := range routes {
		fmt.Fprintf(&b, "route %v via %v dev %d\n", r.Dst, r.Gw, r.LinkIndex)
	}
	return b.String()
}

// TestPrivateDaemon runs a service's container on its private daemon on
// a btrfs loop filesystem: start, reuse, the host daemon blind to it,
// kill -9 of the daemon, the stop order, stale pidfile and socket, and the
// host's network untouched.
func TestPrivateDaemon(t *testing.T) {
	host := testenv.Docker(t)
	image := testenv.SleeperImage(t, host)
	ctx := context.Background()
	netBefore := hostNetwork(t)
	e := newEnv(t, host, image)
	s := e.startAll(t, ctx)
	priv := e.private(t)

	require.Equal(t, resource.Up, status(t, s, ctr.DockerdRID))
	require.Equal(t, resource.Up, status(t, s, "container#01"))
	info, err := priv.Info(ctx, client.InfoOptions{})
	require.NoError(t, err)
	require.Equal(t, "btrfs", info.Info.Driver, "the layers are on the service's btrfs")
	require.Equal(t, filepath.Join(e.mnt, "docker"), info.Info.DockerRootDir)
	// The host daemon does not know the container.
	name := "s.container.01"
	_, err = host.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	require.Error(t, err, "the host daemon sees the private container")
	in, err := priv.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	require.NoError(t, err)
	require.True(t, in.Container.State.Running)

	// A second start reuses the daemon.
	pid := e.pid(t)
	s2, err := e.load()
	require.NoError(t, err)
	_, err = s2.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.Equal(t, pid, e.pid(t), "a second daemon was started")

	// kill -9 of the daemon: the container is down and says why; start
	// brings both back (its dying containerd is not taken for a live one).
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	require.Eventually(t, func() bool { return status(t, s, ctr.DockerdRID) == resource.Down }, 10*time.Second, 100*time.Millisecond)
	r, _ := s.Resource("container#01")
	st, err := r.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.ErrorIs(t, err, dockerd.ErrNotRunning)
	_, err = s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.NotEqual(t, pid, e.pid(t))
	require.Equal(t, resource.Up, status(t, s, ctr.DockerdRID))
	require.Equal(t, resource.Up, status(t, s, "container#01"))

	// Stop: the container, then the daemon, then the fs.
	res, err := s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	end := map[string]time.Time{}
	begin := map[string]time.Time{}
	for _, st := range res.Steps {
		require.Equal(t, "done", st.Result, "%+v", st)
		begin[st.RID], end[st.RID] = st.Start, st.Start.Add(st.Duration)
	}
	require.False(t, begin[ctr.DockerdRID].Before(end["container#01"]), "the daemon stopped before its container")
	require.False(t, begin["fs#00"].Before(end[ctr.DockerdRID]), "the fs unmounted under the daemon")
	require.Equal(t, resource.Down, status(t, s, ctr.DockerdRID))
	require.Equal(t, resource.Down, status(t, s, "fs#00"))
	require.NoFileExists(t, filepath.Join(e.varDir, "docker.pid"))

	// A stale pidfile (a dead pid, then a live process that is no
	// dockerd) and a stale socket are cleaned; the daemon starts.
	require.NoError(t, os.WriteFile(filepath.Join(e.varDir, "docker.pid"), []byte("999999999\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(e.varDir, "docker.sock"), nil, 0o600))
	_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#00", ctr.DockerdRID}}})
	require.NoError(t, err)
	require.Equal(t, resource.Up, status(t, s, ctr.DockerdRID))
	pid = e.pid(t)
	_, err = s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(e.varDir, "docker.pid"), fmt.Appendf(nil, "%d\n", os.Getpid()), 0o600))
	_, err = s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.NotEqual(t, os.Getpid(), e.pid(t))
	require.NotEqual(t, pid, e.pid(t))
	_, err = s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)

	require.Equal(t, netBefore, hostNetwork(t), "the host's network changed")
}

// TestTwoServices runs two services side by side, each on its own daemon.
func TestTwoServices(t *testing.T) {
	host := testenv.Docker(t)
	image := testenv.SleeperImage(t, host)
	ctx := context.Background()
	a, b := newEnv(t, host, image), newEnv(t, host, image)
	sa, sb := a.startAll(t, ctx), b.startAll(t, ctx)
	require.NotEqual(t, a.pid(t), b.pid(t))
	for _, e := range []*env{a, b} {
		res, err := e.private(t).ContainerList(ctx, client.ContainerListOptions{})
		require.NoError(t, err)
		require.Len(t, res.Items, 1)
	}
	// Stopping one leaves the other running.
	_, err := sa.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.Equal(t, resource.Down, status(t, sa, ctr.DockerdRID))
	require.Equal(t, resource.Up, status(t, sb, ctr.DockerdRID))
	require.Equal(t, resource.Up, status(t, sb, "container#01"))
	_, err = sb.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	require.False(t, slices.Contains([]resource.Status{resource.Up}, status(t, sb, ctr.DockerdRID)))
}

// TestStartFailure shows the end of the daemon's log when it cannot start.
func TestStartFailure(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "dockerd")
	dir, err := os.MkdirTemp("", "dkd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	r, err := dockerd.New(context.Background(), driver.Config{RID: ctr.DockerdRID, Manifest: ctr.Dockerd, Svcname: "s", VarDir: filepath.Join(dir, "var"),
		Defaults: map[string]string{"docker_data_dir": filepath.Join(dir, "docker"), "docker_daemon_args": "--no-such-flag"}})
	require.NoError(t, err)
	err = r.Start(context.Background())
	require.ErrorContains(t, err, "exited before answering")
	require.ErrorContains(t, err, "no-such-flag")
	st, _ := r.Status(context.Background())
	require.Equal(t, resource.Down, st)
	require.NoError(t, os.RemoveAll(r.(*dockerd.Daemon).ExecRoot)) // nothing mounted: it never started
}
