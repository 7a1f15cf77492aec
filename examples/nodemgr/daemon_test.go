package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// daemonProc is a nodemgr daemon run process.
type daemonProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startDaemon(t *testing.T, bin, root string, env ...string) *daemonProc {
	t.Helper()
	p := &daemonProc{stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "--root", root, "--node", "spd01", "daemon", "run", "--fake", "--sync=false", "--interval", "1s", "--shutdown-grace", "2s")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	// Wait for the API to list the service's first status (bounded).
	c := monitor.NewClient(monitor.SocketPath(root))
	var err error
	for range 500 {
		var st *monitor.ServiceState
		if st, err = c.Service(context.Background(), "spdsvc01"); err == nil && st.Status != nil {
			return p
		}
		if err == nil {
			err = errors.New("no status yet")
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err, "daemon API: %s", p.stderr)
	return p
}

// stop sends sig and waits (bounded) for the process's end.
func (p *daemonProc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		require.Fail(t, "the daemon did not end", "signal %s; stderr: %s", sig, p.stderr)
		return nil
	}
}

// TestDaemonProcess runs nodemgr daemon run --fake as a real process on
// the 32-pod service: its API answers on the 0600 socket, daemon status
// prints it, svcmgr print status reads it, SIGTERM stops it cleanly
// (exit 0, socket removed, no lock held), and after a kill -9 nothing
// stale blocks svcmgr or the next daemon.
func TestDaemonProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nodemgr and svcmgr")
	}
	dir := t.TempDir()
	nodemgr := goBuild(t, dir, "nodemgr", ".")
	svcmgr := goBuild(t, dir, "svcmgr", "../svcmgr")
	root := filepath.Join(dir, "root")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	conf, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	// container#01db is restarted by the monitor (restart = 1).
	conf = []byte(strings.Replace(string(conf), "[container#01db]\n", "[container#01db]\nrestart = 1\n", 1))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "spdsvc01.conf"), conf, 0o644))
	svcArgs := func(args ...string) []string {
		return append([]string{"--root", root, "--node", "spd01", "--fake", "-s", "spdsvc01"}, args...)
	}
	out, err := exec.Command(svcmgr, svcArgs("start")...).CombinedOutput()
	require.NoError(t, err, string(out))

	p := startDaemon(t, nodemgr, root)
	fi, err := os.Stat(monitor.SocketPath(root))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	out, err = exec.Command(nodemgr, "--root", root, "daemon", "status").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "spdsvc01: avail up, overall up")
	require.Contains(t, string(out), "spdsvc01  monitor     @1s")

	cached, err := exec.Command(svcmgr, svcArgs("print", "status")...).CombinedOutput()
	require.NoError(t, err, string(cached))
	fresh, err := exec.Command(svcmgr, svcArgs("print", "status", "--refresh")...).CombinedOutput()
	require.NoError(t, err, string(fresh))
	require.Equal(t, string(fresh), string(cached))
	require.Regexp(t, `overall +up`, string(cached))

	// A container crashed behind the daemon's back (its fake state
	// marked down by this process) is restarted by the daemon.
	c := monitor.NewClient(monitor.SocketPath(root))
	ectx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	err = c.Events(ectx, func(e monitor.Event) error {
		switch {
		case e.Kind == monitor.EventSubscribed:
			return fake.MarkDown(filepath.Join(root, "var", "spdsvc01"), "container#01db")
		case e.Kind == monitor.EventRestarted && e.RID == "container#01db":
			return errors.New("restarted")
		}
		return nil
	})
	cancel()
	require.EqualError(t, err, "restarted", "no restart of container#01db: %s", p.stderr)
	m, err := c.Metrics(context.Background())
	require.NoError(t, err)
	require.Contains(t, m, `svckit_resource_restarts_total{rid="container#01db",service="spdsvc01"} 1`)
	out, err = exec.Command(svcmgr, svcArgs("print", "status", "--refresh")...).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Regexp(t, `container#01db +\S+ +up`, string(out))

	// A second daemon on the root is refused.
	out, err = exec.Command(nodemgr, "--root", root, "--node", "spd01", "daemon", "run", "--fake").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "another daemon runs")

	// SIGTERM: clean exit, socket removed.
	require.NoError(t, p.stop(t, syscall.SIGTERM), p.stderr.String())
	_, err = os.Stat(monitor.SocketPath(root))
	require.True(t, errors.Is(err, os.ErrNotExist))

	// kill -9: the socket stays, nothing else holds.
	p = startDaemon(t, nodemgr, root)
	err = p.stop(t, syscall.SIGKILL)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	_, err = os.Stat(monitor.SocketPath(root))
	require.NoError(t, err, "a killed daemon leaves its socket")
	// svcmgr acts at once (no lock left held), and print status reads
	// the resources (the dead daemon's socket does not answer).
	out, err = exec.Command(svcmgr, svcArgs("--waitlock", "0", "--rid", "ip#01db", "stop")...).CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command(svcmgr, svcArgs("print", "status")...).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Regexp(t, `ip#01db +\.\.\.\. down`, string(out))
	out, err = exec.Command(svcmgr, svcArgs("--rid", "ip#01db", "start")...).CombinedOutput()
	require.NoError(t, err, string(out))

	// The next daemon starts over the stale socket, with the last runs
	// of the killed one.
	p = startDaemon(t, nodemgr, root)
	st, err := monitor.NewClient(monitor.SocketPath(root)).Status(context.Background())
	require.NoError(t, err)
	require.Len(t, st.Services, 1)
	require.Equal(t, p.cmd.Process.Pid, st.PID)
	for _, ts := range st.Services[0].Tasks {
		if ts.Name == monitor.TaskStatus {
			require.False(t, ts.LastRun.IsZero())
		}
	}
	require.NoError(t, p.stop(t, syscall.SIGTERM), p.stderr.String())
	require.False(t, strings.Contains(p.stderr.String(), "level=ERROR"), p.stderr.String())

	// kill -9 while the daemon restarts a container (a 10 s fake start:
	// it holds the service's action lock): the kernel releases the lock,
	// svcmgr acts at once.
	p = startDaemon(t, nodemgr, root, "SVCKIT_FAKE_LATENCY_OF=container#01db:start=10s")
	require.NoError(t, fake.MarkDown(filepath.Join(root, "var", "spdsvc01"), "container#01db"))
	holder := filepath.Join(root, "var", "spdsvc01", "lock.holder")
	var held bool
	for i := 0; i < 500 && !held; i++ {
		b, _ := os.ReadFile(holder)
		held = strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, p.cmd.Process.Pid))
		if !held {
			time.Sleep(20 * time.Millisecond)
		}
	}
	require.True(t, held, "the daemon never held the lock: %s", p.stderr)
	require.ErrorAs(t, p.stop(t, syscall.SIGKILL), &ee)
	out, err = exec.Command(svcmgr, svcArgs("--waitlock", "0", "--rid", "container#01db", "start")...).CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command(svcmgr, svcArgs("print", "status", "--refresh")...).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Regexp(t, `container#01db +\S+ +up`, string(out))
	p = startDaemon(t, nodemgr, root)
	require.NoError(t, p.stop(t, syscall.SIGTERM), p.stderr.String())
}

// TestSyncNodesRunner checks the sync#i0 runner's command line and that
// a failing svcmgr is the task's error, with its last line.
func TestSyncNodesRunner(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, script, want, err string
	}{
		{"ok", "#!/bin/sh\necho synced\necho \"$@\"\n", "--root /r --node spd01 -s spdsvc01 --fake sync nodes", ""},
		{"fails", "#!/bin/sh\necho 'spd02: ssh: connect refused' >&2\nexit 1\n", "", "spd02: ssh: connect refused"},
	}
	s := loadFakeService(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(dir, tt.name)
			require.NoError(t, os.WriteFile(bin, []byte(tt.script), 0o755))
			g := &globals{root: "/r", node: "spd01"}
			out, err := g.syncNodes(bin, true)(context.Background(), s)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, out)
		})
	}
}

func loadFakeService(t *testing.T) *svc.Service {
	t.Helper()
	s, err := svc.Load(context.Background(), "../../svc/testdata/spdsvc01.conf",
		svc.Options{Node: "spd01", Registry: fake.Registry(fake.Options{}), VarDir: t.TempDir(), NoTriggers: true})
	require.NoError(t, err)
	return s
}

// TestDaemonNodeRunners checks the node tasks' runners of nodemgr's
// daemon: they run nodemgr's own commands in the daemon's process; no
// rules is a skip, an unregistered node an error naming node.conf.
func TestDaemonNodeRunners(t *testing.T) {
	root := t.TempDir()
	g := &globals{root: root, node: "spd01"}
	_, err := g.nodeComplianceAuto(context.Background())
	require.ErrorContains(t, err, "no compliance rules")
	_, err = g.serviceComplianceAuto(context.Background(), loadFakeService(t))
	require.ErrorContains(t, err, "no compliance rules")
	_, err = g.selfRunner("pushasset")(context.Background())
	require.ErrorContains(t, err, "dbopensvc and uuid")
	_, err = g.selfRunner("get", "--param", "node.env")(context.Background())
	require.ErrorContains(t, err, "node.env is not set")
	_, err = g.selfRunner("set", "--param", "node.env", "--value", "PRD")(context.Background())
	require.NoError(t, err)
	out, err := g.selfRunner("get", "--param", "node.env")(context.Background())
	require.NoError(t, err)
	require.Equal(t, "PRD", out)
}
