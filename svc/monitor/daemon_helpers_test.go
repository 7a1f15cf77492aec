package monitor_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// fakeClock is the daemon's clock in tests: Now is set, Sleep returns at
// once (the test calls Step itself, or advances the clock in Sleep).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const node = "spd01"

// newRoot makes a root holding the seed's 32-pod service (spdsvc01) and
// the given node.conf.
func newRoot(t testing.TB, nodeConf string) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	data, err := os.ReadFile("../testdata/spdsvc01.conf")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "spdsvc01.conf"), data, 0o644))
	if nodeConf != "" {
		require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "node.conf"), []byte(nodeConf), 0o644))
	}
	return root
}

// loadService loads the root's service the way svcmgr --fake does.
func loadService(t testing.TB, root string, reg *driver.Registry) *svc.Service {
	t.Helper()
	s, err := svc.Load(context.Background(), filepath.Join(root, "etc", "spdsvc01.conf"),
		svc.Options{Node: node, Registry: reg, Root: root, NoTriggers: true})
	require.NoError(t, err)
	return s
}

// startService starts the service as an operator's svcmgr start would.
func startService(t testing.TB, root string, reg *driver.Registry) {
	t.Helper()
	_, err := loadService(t, root, reg).Start(context.Background(), svc.ActionOptions{})
	require.NoError(t, err)
}

// crash marks a fake resource down behind the daemon's back, as a crash
// leaves it: its state file says down.
func crash(t testing.TB, root, rid string) {
	t.Helper()
	p := filepath.Join(root, "var", "spdsvc01", "fake", rid+".json")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var st fake.State
	require.NoError(t, json.Unmarshal(b, &st))
	st.Up = false
	b, err = json.Marshal(st)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p+".tmp", b, 0o600))
	require.NoError(t, os.Rename(p+".tmp", p))
}

func newDaemon(t testing.TB, root string, clock *fakeClock, mod func(*monitor.DaemonOptions)) *monitor.Daemon {
	t.Helper()
	opts := monitor.DaemonOptions{Root: root, Node: node, Registry: fake.Registry(fake.Options{}), NoTriggers: true, Interval: time.Second}
	if clock != nil {
		opts.Now = clock.Now
		opts.Sleep = func(ctx context.Context, d time.Duration) error {
			clock.Add(d)
			return ctx.Err()
		}
	}
	if mod != nil {
		mod(&opts)
	}
	d, err := monitor.NewDaemon(opts)
	require.NoError(t, err)
	return d
}

func task(t testing.TB, tasks []monitor.TaskState, name string) monitor.TaskState {
	t.Helper()
	for _, ts := range tasks {
		if ts.Name == name {
			return ts
		}
	}
	require.Failf(t, "no task", "task %s not in %+v", name, tasks)
	return monitor.TaskState{}
}

func service(t testing.TB, st *monitor.NodeState, name string) monitor.ServiceState {
	t.Helper()
	for _, s := range st.Services {
		if s.Name == name {
			return s
		}
	}
	require.Failf(t, "no service", "service %s not in the state", name)
	return monitor.ServiceState{}
}
