package monitor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// runDaemon runs a daemon on root until the test ends and waits for its
// API to answer.
func runDaemon(t *testing.T, d *monitor.Daemon, root string) (*monitor.Client, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	c := monitor.NewClient(monitor.SocketPath(root))
	var err error
	for range 200 {
		if _, err = c.Status(ctx); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, err, "the daemon's API never answered")
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return c, stop
}

// waitEvent follows the event stream, runs trigger once subscribed, and
// returns the first event of kind for rid.
func waitEvent(t *testing.T, c *monitor.Client, kind, rid string, trigger func()) monitor.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got monitor.Event
	err := c.Events(ctx, func(e monitor.Event) error {
		if e.Kind == monitor.EventSubscribed {
			trigger()
		}
		if e.Kind == kind && e.RID == rid {
			got = e
			return errors.New("found")
		}
		return nil
	})
	require.EqualError(t, err, "found", "no %s event for %s", kind, rid)
	return got
}

// TestAPI runs a daemon over its unix socket: mode 0600 in a 0700
// directory, the status of the node and of the service, a 404 for an
// unknown service, the event stream (a crash shows as resource_down),
// metrics that parse, one daemon per root, and the socket removed at the
// end.
func TestAPI(t *testing.T) {
	root := newRoot(t, "")
	reg := fake.Registry(fake.Options{})
	startService(t, root, reg)
	d := newDaemon(t, root, nil, func(o *monitor.DaemonOptions) { o.Registry = reg })
	c, stop := runDaemon(t, d, root)

	fi, err := os.Stat(monitor.SocketPath(root))
	require.NoError(t, err)
	require.Equal(t, os.ModeSocket|0o600, fi.Mode()&(os.ModeSocket|os.ModePerm))
	fi, err = os.Stat(monitor.DaemonDir(root))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	st, err := c.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, node, st.Node)
	require.Equal(t, os.Getpid(), st.PID)
	require.Len(t, st.Services, 1)

	var ss *monitor.ServiceState
	for range 200 {
		if ss, err = c.Service(context.Background(), "spdsvc01"); err == nil && ss.Status != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, err)
	require.NotNil(t, ss.Status)
	require.Equal(t, "up", ss.Status.Overall.String())

	_, err = c.Service(context.Background(), "nosuch")
	require.ErrorContains(t, err, "404")
	_, err = c.Service(context.Background(), "..%2f..%2fetc")
	require.Error(t, err)

	e := waitEvent(t, c, monitor.EventResourceDown, "container#02db", func() { crash(t, root, "container#02db") })
	require.Equal(t, "spdsvc01", e.Service)
	require.Equal(t, "up -> down", e.Message)

	text, err := c.Metrics(context.Background())
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, 1.0, gauge(t, families, "svckit_resource_status", map[string]string{"service": "spdsvc01", "rid": "container#02db", "status": "down"}))
	require.Equal(t, 1.0, gauge(t, families, "svckit_resource_status", map[string]string{"service": "spdsvc01", "rid": "container#01db", "status": "up"}))
	require.Nil(t, find(families, "svckit_resource_status", map[string]string{"rid": "container#02db", "status": "up"}), "the old status series is gone")
	runs := find(families, "svckit_task_runs_total", map[string]string{"scope": "spdsvc01", "task": "monitor", "result": "ok"})
	require.NotNil(t, runs)
	require.GreaterOrEqual(t, runs.GetCounter().GetValue(), 1.0)
	require.NotNil(t, find(families, "svckit_task_duration_seconds", map[string]string{"scope": "spdsvc01", "task": "status"}))

	// One daemon per root.
	d2 := newDaemon(t, root, nil, nil)
	require.ErrorContains(t, d2.Run(context.Background()), "another daemon runs")

	stop()
	_, err = os.Stat(monitor.SocketPath(root))
	require.True(t, errors.Is(err, os.ErrNotExist))
	_, err = c.Status(context.Background())
	require.Error(t, err)
}

// TestStaleSocket checks that a daemon starts over whatever a dead one
// left at the socket's path (a socket, a file, a symbolic link), never
// following a link.
func TestStaleSocket(t *testing.T) {
	for _, kind := range []string{"file", "symlink"} {
		t.Run(kind, func(t *testing.T) {
			root := newRoot(t, "")
			require.NoError(t, os.MkdirAll(monitor.DaemonDir(root), 0o755))
			target := filepath.Join(root, "precious")
			require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
			if kind == "file" {
				require.NoError(t, os.WriteFile(monitor.SocketPath(root), nil, 0o644))
			} else {
				require.NoError(t, os.Symlink(target, monitor.SocketPath(root)))
			}
			d := newDaemon(t, root, nil, nil)
			c, stop := runDaemon(t, d, root)
			_, err := c.Status(context.Background())
			require.NoError(t, err)
			stop()
			b, err := os.ReadFile(target)
			require.NoError(t, err)
			require.Equal(t, "keep", string(b))
			fi, err := os.Stat(monitor.DaemonDir(root))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "a directory made too open is closed")
		})
	}
}

// TestCachedStatus checks when svcmgr print status may use the daemon's
// status: fresh, same config, no action since; otherwise not. The
// interval is an hour, so that no pass runs during the test.
func TestCachedStatus(t *testing.T) {
	root := newRoot(t, "")
	reg := fake.Registry(fake.Options{})
	startService(t, root, reg)
	d := newDaemon(t, root, nil, func(o *monitor.DaemonOptions) { o.Registry = reg; o.Interval = time.Hour })
	_, stop := runDaemon(t, d, root)
	var st *monitor.ServiceState
	var ok bool
	for range 200 {
		if st, ok = monitor.CachedStatus(context.Background(), root, "spdsvc01", time.Now()); ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.True(t, ok)
	require.Equal(t, "up", st.Status.Avail.String())

	tests := []struct {
		name string
		at   time.Time
		svc  string
		want bool
	}{
		{"fresh", st.Updated, "spdsvc01", true},
		{"stale", st.FreshUntil.Add(time.Hour), "spdsvc01", false},
		{"unknown service", st.Updated, "other", false},
		{"bad name", st.Updated, "../etc", false},
	}
	for _, tt := range tests {
		_, got := monitor.CachedStatus(context.Background(), root, tt.svc, tt.at)
		require.Equal(t, tt.want, got, tt.name)
	}
	// An action since the daemon's read: not fresh any more.
	time.Sleep(10 * time.Millisecond)
	_, err := loadService(t, root, reg).Stop(context.Background(), svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"ip#01db"}}})
	require.NoError(t, err)
	_, got := monitor.CachedStatus(context.Background(), root, "spdsvc01", st.Updated)
	require.False(t, got, "an action ran after the daemon's read")
	// No daemon: no cached status.
	stop()
	_, got = monitor.CachedStatus(context.Background(), root, "spdsvc01", time.Now())
	require.False(t, got)
}

func find(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f, ok := families[name]
	if !ok {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func gauge(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := find(families, name, labels)
	require.NotNil(t, m, "%s%v", name, labels)
	return m.GetGauge().GetValue()
}
