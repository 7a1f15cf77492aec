package dockerd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/internal/testenv"
)

// TestDefaultBridgeKept: dockerd with its bridge disabled deletes the
// link docker0 of its network namespace (moby's
// removeDefaultBridgeInterface), the host's Docker bridge. A private
// daemon started where a docker0 exists keeps it, its addresses and its
// routes; where none exists, it runs with --bridge=none and makes none.
// Each case runs the daemon in a network namespace of its own, with or
// without a docker0 there, never on the host's.
func TestDefaultBridgeKept(t *testing.T) {
	testenv.Docker(t) // dockerd and its containerd
	for _, withBridge := range []bool{true, false} {
		t.Run(fmt.Sprintf("docker0=%v", withBridge), func(t *testing.T) {
			_, ns := testenv.NetNS(t)
			h := testenv.Handle(t, ns)
			if withBridge {
				testenv.Bridge(t, ns, dockerd.DefaultBridge, "172.31.99.1/24")
			}
			before := nsNetwork(t, h)
			varDir := filepath.Join(t.TempDir(), "var")
			require.NoError(t, os.MkdirAll(varDir, 0o700))
			r, err := dockerd.New(context.Background(), driver.Config{RID: ctr.DockerdRID, Manifest: ctr.Dockerd, Svcname: "bridgetest", VarDir: varDir,
				Defaults: map[string]string{"docker_data_dir": t.TempDir()}})
			require.NoError(t, err)
			d := r.(*dockerd.Daemon)
			t.Cleanup(func() {
				_ = d.Stop(context.Background())
				os.RemoveAll(d.ExecRoot)
			})
			require.NoError(t, inNetns(ns, func() error { return d.Start(context.Background()) }), "%s", logTail(varDir))
			log := logTail(varDir)
			cmd := startLine(t, varDir)
			if withBridge {
				require.NotContains(t, cmd, "--bridge=none")
			} else {
				require.Contains(t, cmd, "--bridge=none")
			}
			require.Contains(t, cmd, "--iptables=false --ip-masq=false --ip-forward=false")
			require.Equal(t, before, nsNetwork(t, h), "the namespace's network changed at start\n%s", log)
			require.NoError(t, d.Stop(context.Background()))
			require.Equal(t, before, nsNetwork(t, h), "the namespace's network changed at stop")
		})
	}
}

// inNetns runs fn on a thread in ns; the thread ends with it (it is
// never handed back to other goroutines), and so do the processes fn
// starts stay in ns.
func inNetns(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread goes with the goroutine
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// nsNetwork lists the links of a namespace with their flags, its
// addresses and its routes.
func nsNetwork(t *testing.T, h *netlink.Handle) string {
	t.Helper()
	return network(t, h, func(l netlink.Link) string { return l.Attrs().Name + " " + l.Attrs().Flags.String() })
}

// startLine is the command line the driver wrote in the daemon's log.
func startLine(t *testing.T, varDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(varDir, "dockerd.log"))
	require.NoError(t, err)
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(l, "svckit: ") && strings.Contains(l, " starting ") {
			return l
		}
	}
	t.Fatalf("no start line in the daemon's log")
	return ""
}

func logTail(varDir string) string {
	b, _ := os.ReadFile(filepath.Join(varDir, "dockerd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// TestStartArgs: where a docker0 exists, svckit's --bridge=none goes (the
// daemon shares the bridge) and a bridge docker_daemon_args disables is
// refused, whatever way it is written; elsewhere the arguments stay.
func TestStartArgs(t *testing.T) {
	with := func(name string) bool { return name == dockerd.DefaultBridge }
	without := func(string) bool { return false }
	base := []string{"--data-root", "/d", "--bridge=none", "--iptables=false"}
	args, note, err := dockerd.StartArgs(base, true, with)
	require.NoError(t, err)
	require.Equal(t, []string{"--data-root", "/d", "--iptables=false"}, args)
	require.Contains(t, note, "shares it")
	args, note, err = dockerd.StartArgs(base, true, without)
	require.NoError(t, err)
	require.Equal(t, base, args)
	require.Empty(t, note)
	for _, user := range [][]string{{"-b", "none"}, {"--bridge", "none"}, {"-b=none"}, {"--bridge=none"}} {
		a := append([]string{"--data-root", "/d"}, user...)
		_, _, err := dockerd.StartArgs(a, false, with)
		require.ErrorContains(t, err, "deletes the host's docker0 bridge", "%v", user)
		args, _, err := dockerd.StartArgs(a, false, without)
		require.NoError(t, err)
		require.Equal(t, a, args)
	}
	// Another bridge is the user's: kept.
	a := []string{"--bridge", "br9", "--bip=10.9.0.1/24"}
	args, _, err = dockerd.StartArgs(a, false, with)
	require.NoError(t, err)
	require.Equal(t, a, args)
}
