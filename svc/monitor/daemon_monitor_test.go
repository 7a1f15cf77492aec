package monitor_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// restartsMetric scrapes svckit_resource_restarts_total of a rid (0 when
// absent).
func restartsMetric(t *testing.T, d *monitor.Daemon, rid string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	require.NoError(t, err)
	m := find(families, "svckit_resource_restarts_total", map[string]string{"service": "spdsvc01", "rid": rid})
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// TestDaemonMonitor runs the daemon with the resource monitor on the
// 32-pod service (fakes, virtual clock): a container crashed behind its
// back is restarted at the next pass, within interval + restart_delay;
// after its restarts fail the monitor_action runs (injected); an
// operator's stop is respected; a frozen service is left alone.
func TestDaemonMonitor(t *testing.T) {
	const rid = "container#01db"
	tests := []struct {
		name        string
		keys        map[string][]string
		before      func(t *testing.T, root string, reg *driver.Registry)
		crash       bool
		failStarts  int
		wantStatus  resource.Status
		wantRestart float64
		wantAction  []string
	}{
		{name: "crash restarted", keys: map[string][]string{rid: {"restart = 2", "restart_delay = 2s"}}, crash: true,
			wantStatus: resource.Up, wantRestart: 1},
		{name: "restarts spent, monitor_action", keys: map[string][]string{rid: {"restart = 2", "restart_delay = 2s", "monitor = true"}, "DEFAULT": {"monitor_action = freezestop"}},
			crash: true, failStarts: 10, wantStatus: resource.Down, wantRestart: 2, wantAction: []string{"freezestop"}},
		{name: "operator stop respected", keys: map[string][]string{rid: {"restart = 2"}},
			before: func(t *testing.T, root string, reg *driver.Registry) {
				_, err := loadService(t, root, reg).Stop(context.Background(), svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"ip#01db", rid}}})
				require.NoError(t, err)
			}, wantStatus: resource.Down},
		{name: "frozen left alone", keys: map[string][]string{rid: {"restart = 2"}}, crash: true,
			before: func(t *testing.T, root string, reg *driver.Registry) {
				require.NoError(t, loadService(t, root, reg).Freeze(context.Background(), svc.ActionOptions{}))
			}, wantStatus: resource.Down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, "")
			p := filepath.Join(root, "etc", "spdsvc01.conf")
			conf, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, []byte(withKeys(t, string(conf), tt.keys)), 0o644))
			reg := fake.Registry(fake.Options{})
			startService(t, root, reg)
			clock := newClock()
			var mu sync.Mutex
			var actions []string
			d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
				o.Registry = reg
				o.MonitorAction = func(ctx context.Context, s *svc.Service, action, reason string) error {
					mu.Lock()
					actions = append(actions, action)
					mu.Unlock()
					return nil
				}
			})
			ctx := context.Background()
			d.Step(ctx)
			d.Wait()
			if tt.before != nil {
				tt.before(t, root, reg)
			}
			if tt.failStarts > 0 {
				r, ok := loadService(t, root, reg).Resource(rid)
				require.True(t, ok)
				require.NoError(t, r.(*fake.Resource).FailNext("start", tt.failStarts))
			}
			crashedAt := clock.Now()
			if tt.crash {
				require.NoError(t, fake.MarkDown(filepath.Join(root, "var", "spdsvc01"), rid))
			}
			clock.Add(time.Second) // the next pass
			d.Step(ctx)
			d.Wait()
			ss := service(t, d.State(), "spdsvc01")
			require.Equal(t, tt.wantStatus, resourceStatus(t, ss.Status, rid))
			require.Equal(t, tt.wantRestart, restartsMetric(t, d, rid))
			require.Equal(t, tt.wantAction, actions)
			if tt.wantStatus == resource.Up && tt.crash {
				// Restarted within the interval plus restart_delay.
				require.LessOrEqual(t, ss.Updated.Sub(crashedAt), time.Second+2*time.Second)
			}
		})
	}
}

// TestDaemonRefusesHostActions checks that a monitor_action of reboot is
// refused (logged, never run) when node.conf does not allow host actions,
// and with NoHostActions whatever node.conf says. The allowed path is not
// tested: it would reboot the machine.
func TestDaemonRefusesHostActions(t *testing.T) {
	const rid = "container#01db"
	for _, tt := range []struct {
		name, nodeConf string
		noHost         bool
	}{
		{"not in node.conf", "", false},
		{"set false", "[monitor]\nallow_host_actions = false\n", false},
		{"fake drivers", "[monitor]\nallow_host_actions = true\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodeConf)
			p := filepath.Join(root, "etc", "spdsvc01.conf")
			conf, err := os.ReadFile(p)
			require.NoError(t, err)
			keys := map[string][]string{rid: {"monitor = true", "restart = 1"}, "DEFAULT": {"monitor_action = reboot"}}
			require.NoError(t, os.WriteFile(p, []byte(withKeys(t, string(conf), keys)), 0o644))
			reg := fake.Registry(fake.Options{})
			startService(t, root, reg)
			var log strings.Builder
			var mu sync.Mutex
			clock := newClock()
			d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
				o.Registry = reg
				o.NoHostActions = tt.noHost
				o.Logger = slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &log}, nil))
			})
			ctx := context.Background()
			d.Step(ctx)
			d.Wait()
			r, ok := loadService(t, root, reg).Resource(rid)
			require.True(t, ok)
			require.NoError(t, r.(*fake.Resource).FailNext("start", 10))
			require.NoError(t, fake.MarkDown(filepath.Join(root, "var", "spdsvc01"), rid))
			clock.Add(time.Second)
			d.Step(ctx)
			d.Wait()
			mu.Lock()
			text := log.String()
			mu.Unlock()
			require.Contains(t, text, "kind=monitor_action_failed")
			require.Contains(t, text, "not allowed on this node")
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
