package svc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// The lock tests re-execute the test binary as a second process that
// holds the service's action lock: TestMain runs lockHelper instead of
// the tests when lockHelperEnv names a root.
const (
	lockHelperEnv     = "SVCKIT_TEST_LOCK_HELPER_ROOT"
	lockHelperLatency = "SVCKIT_TEST_LOCK_HELPER_LATENCY"
)

func TestMain(m *testing.M) {
	if root := os.Getenv(lockHelperEnv); root != "" {
		os.Exit(lockHelper(root))
	}
	os.Exit(m.Run())
}

// lockHelper starts disk#00 of root's svc1 with a slow fake, holding the
// lock while it runs.
func lockHelper(root string) int {
	lat, err := time.ParseDuration(os.Getenv(lockHelperLatency))
	if err != nil {
		fmt.Fprintln(os.Stderr, "lock helper:", err)
		return 2
	}
	ctx := context.Background()
	s, err := svc.Load(ctx, filepath.Join(root, "etc", "svc1.conf"), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{Latency: lat}), NoTriggers: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lock helper:", err)
		return 2
	}
	if _, err := s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"disk#00"}}}); err != nil {
		fmt.Fprintln(os.Stderr, "lock helper:", err)
		return 1
	}
	return 0
}

// startLockHolder writes orderConf under a new root and starts a helper
// process holding svc1's lock for about latency; it returns once the
// helper holds the lock.
func startLockHolder(t *testing.T, latency time.Duration) (root string, cmd *exec.Cmd, wait func() error) {
	t.Helper()
	root = t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "svc1.conf"), []byte(orderConf), 0o644))
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+root, lockHelperLatency+"="+latency.String())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	// done is closed once the helper exited; waitErr then holds its
	// exit error.
	ch := make(chan error)
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(ch) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-ch
	})
	holder := filepath.Join(root, "var", "svc1", "lock.holder")
	require.Eventually(t, func() bool {
		_, err := os.Stat(holder)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the helper never took the lock")
	return root, cmd, func() error { <-ch; return waitErr }
}

func loadRoot(t *testing.T, root string, fo fake.Options) *svc.Service {
	t.Helper()
	s, err := svc.Load(t.Context(), filepath.Join(root, "etc", "svc1.conf"), svc.Options{Node: "n1", Registry: fake.Registry(fo), NoTriggers: true})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "var", "svc1"), s.VarDir())
	return s
}

// TestLockTimeoutNamesHolder checks that an action of a second process
// waits for the lock up to its timeout, then fails naming the holder's
// pid and action, and runs nothing.
func TestLockTimeoutNamesHolder(t *testing.T) {
	root, cmd, wait := startLockHolder(t, 5*time.Second)
	rec := fake.NewRecorder()
	s := loadRoot(t, root, fake.Options{Recorder: rec})
	t0 := time.Now()
	res, err := s.Stop(t.Context(), svc.ActionOptions{LockTimeout: 300 * time.Millisecond})
	waited := time.Since(t0)
	require.Error(t, err)
	require.GreaterOrEqual(t, waited, 300*time.Millisecond)
	require.Contains(t, err.Error(), "service svc1: stop: another action holds the lock "+filepath.Join(root, "var", "svc1", "lock"))
	require.Contains(t, err.Error(), fmt.Sprintf("pid %d (start on n1 since ", cmd.Process.Pid))
	require.Contains(t, err.Error(), "waited 300ms")
	require.Equal(t, err.Error(), res.Error)
	require.Empty(t, rec.Actions(fake.ActionStop), "nothing runs without the lock")

	// The lock goes with its holder's process: once it is killed, the
	// next action gets it at once.
	require.NoError(t, cmd.Process.Kill())
	require.Error(t, wait(), "killed")
	_, err = s.Start(t.Context(), svc.ActionOptions{LockTimeout: 2 * time.Second, Selection: svc.Selection{RIDs: []string{"ip#01g"}}})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "var", "svc1", "lock.holder"))
	require.ErrorIs(t, err, os.ErrNotExist, "the holder note goes with the lock")
}

// TestLockNoWait checks that NoLockWait (svcmgr --waitlock 0) fails at
// once when the lock is held, and that a negative timeout is refused.
func TestLockNoWait(t *testing.T) {
	root, _, _ := startLockHolder(t, 5*time.Second)
	rec := fake.NewRecorder()
	s := loadRoot(t, root, fake.Options{Recorder: rec})
	for _, tc := range []struct {
		name string
		opts svc.ActionOptions
		want string
	}{
		{"no wait", svc.ActionOptions{NoLockWait: true}, "did not wait"},
		{"no wait beats a timeout", svc.ActionOptions{NoLockWait: true, LockTimeout: time.Minute}, "did not wait"},
		{"negative", svc.ActionOptions{LockTimeout: -5 * time.Second}, "lock timeout -5s: expected a duration of 0 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Stop(t.Context(), tc.opts)
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, rec.Actions(fake.ActionStop))
		})
	}
}

// TestLockWaits checks that an action of a second process waits for the
// holder to finish, then runs.
func TestLockWaits(t *testing.T) {
	root, _, wait := startLockHolder(t, 700*time.Millisecond)
	rec := fake.NewRecorder()
	s := loadRoot(t, root, fake.Options{Recorder: rec})
	_, err := s.Start(t.Context(), svc.ActionOptions{LockTimeout: 20 * time.Second, Selection: svc.Selection{RIDs: []string{"disk#03"}}})
	require.NoError(t, err)
	require.NoError(t, wait(), "the helper's start succeeded")

	// The helper saved disk#00 up before it released the lock; this
	// process started nothing before that.
	b, err := os.ReadFile(filepath.Join(root, "var", "svc1", "fake", "disk#00.json"))
	require.NoError(t, err)
	var st fake.State
	require.NoError(t, json.Unmarshal(b, &st))
	require.True(t, st.Up)
	calls := rec.Actions(fake.ActionStart)
	require.NotEmpty(t, calls)
	for _, c := range calls {
		require.False(t, c.Start.Before(st.Updated), "%s started at %s, before the holder finished at %s", c.RID, c.Start, st.Updated)
	}
	// Both processes' work is there: state is shared through files.
	require.Equal(t, []string{"disk#00", "disk#03", "sync#i0"}, upRIDs(t, s))
}
