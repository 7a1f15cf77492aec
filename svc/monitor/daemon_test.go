package monitor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

func resourceStatus(t *testing.T, rep *svc.StatusReport, rid string) resource.Status {
	t.Helper()
	for _, rs := range rep.Resources {
		if rs.RID == rid {
			return rs.Status
		}
	}
	require.Failf(t, "no resource", "%s not in the report", rid)
	return resource.Undef
}

// TestDaemon32Pods runs the daemon on the seed's 32-pod service with the
// fakes: every pass reads the status, a crash shows at the next pass, the
// monitor hook gets the service, and a changed configuration is reloaded
// (a broken one refused, the previous one kept).
func TestDaemon32Pods(t *testing.T) {
	root := newRoot(t, "")
	reg := fake.Registry(fake.Options{})
	startService(t, root, reg)
	clock := newClock()
	var passes atomic.Int32
	d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
		o.Registry = reg
		o.Pass = func(ctx context.Context, s *svc.Service) (*svc.StatusReport, error) {
			require.Equal(t, "spdsvc01", s.Name())
			passes.Add(1)
			return nil, nil
		}
	})
	ctx := context.Background()
	d.Step(ctx)
	d.Wait()
	ss := service(t, d.State(), "spdsvc01")
	require.NotNil(t, ss.Status)
	require.Equal(t, resource.Up, ss.Status.Overall)
	// 8 pods on spd01: 67 resources plus the private dockerd.
	require.Equal(t, 68, len(ss.Status.Visible(svc.StatusOptions{ShowDisabled: ss.ShowDisabled}).Resources))
	require.Equal(t, clock.Now().Add(time.Second), ss.FreshUntil.Truncate(time.Second))
	require.Equal(t, int32(1), passes.Load())

	crash(t, root, "container#01db")
	clock.Add(time.Second)
	d.Step(ctx)
	d.Wait()
	ss = service(t, d.State(), "spdsvc01")
	require.Equal(t, resource.Down, resourceStatus(t, ss.Status, "container#01db"))
	require.Equal(t, int32(2), passes.Load())

	// A changed config: status_schedule moves to @1.
	p := filepath.Join(root, "etc", "spdsvc01.conf")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	changed := strings.Replace(string(data), "[DEFAULT]\n", "[DEFAULT]\nstatus_schedule = @1\n", 1)
	require.NoError(t, os.WriteFile(p, []byte(changed), 0o644))
	clock.Add(time.Second)
	d.Step(ctx)
	d.Wait()
	ss = service(t, d.State(), "spdsvc01")
	require.Empty(t, ss.LoadError)
	require.Equal(t, "@1", task(t, ss.Tasks, monitor.TaskStatus).Schedule)
	sum := ss.Checksum

	// A broken config is refused; the service keeps running on the
	// previous one.
	broken := strings.Replace(changed, "status_schedule = @1", "status_schedule = 26:00", 1)
	require.NoError(t, os.WriteFile(p, []byte(broken), 0o644))
	clock.Add(time.Second)
	d.Step(ctx)
	d.Wait()
	ss = service(t, d.State(), "spdsvc01")
	require.Contains(t, ss.LoadError, "status_schedule")
	require.Equal(t, "@1", task(t, ss.Tasks, monitor.TaskStatus).Schedule)
	require.NotEqual(t, sum, ss.Checksum)
	require.Equal(t, int32(4), passes.Load(), "the monitor goes on with the previous config")

	// Names that are no service, and a symbolic link, are not loaded.
	etc := filepath.Join(root, "etc")
	require.NoError(t, os.WriteFile(filepath.Join(etc, "bad name.conf"), []byte("[DEFAULT]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "svckit.conf"), []byte("[store]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "..conf"), []byte("[DEFAULT]\n"), 0o644))
	secret := filepath.Join(t.TempDir(), "shadow")
	require.NoError(t, os.WriteFile(secret, []byte("root:$6$secret\n"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(etc, "linked.conf")))
	d.Step(ctx)
	d.Wait()
	st := d.State()
	require.Len(t, st.Services, 1)
	require.NotContains(t, st.Services[0].LoadError, "secret")

	// A removed config: the service is no longer handled.
	require.NoError(t, os.Remove(p))
	d.Step(ctx)
	d.Wait()
	require.Empty(t, d.State().Services)
}

// TestLockNeverOverlaps runs two svcmgr-like actors (each loads the
// service and runs actions, as two svcmgr processes do) and the daemon
// (a monitor pass that restarts a resource, and a compliance task that
// holds the service lock) at once: no two of them ever act at the same
// time. Each action touches one resource with a latency, so the fakes'
// recorded calls are the actions' intervals.
func TestLockNeverOverlaps(t *testing.T) {
	root := newRoot(t, "")
	rec := fake.NewRecorder()
	reg := fake.Registry(fake.Options{Recorder: rec, Latency: 3 * time.Millisecond})
	startService(t, root, reg)
	rec.Reset()
	clock := newClock()
	var mu sync.Mutex
	var compIntervals [][2]time.Time
	d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
		o.Registry = reg
		o.LockWait = 30 * time.Second
		o.Pass = func(ctx context.Context, s *svc.Service) (*svc.StatusReport, error) {
			for _, a := range []svc.Action{svc.Stop, svc.Start} {
				if _, err := s.Do(ctx, a, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"ip#03db"}}}); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}
		o.ServiceRunners = map[string]monitor.ServiceRunner{monitor.TaskCompliance: func(ctx context.Context, s *svc.Service) (string, error) {
			begin := time.Now()
			time.Sleep(3 * time.Millisecond)
			mu.Lock()
			compIntervals = append(compIntervals, [2]time.Time{begin, time.Now()})
			mu.Unlock()
			return "ok", nil
		}}
	})
	p := filepath.Join(root, "etc", "spdsvc01.conf")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), "[DEFAULT]\n", "[DEFAULT]\ncomp_schedule = @1\n", 1)), 0o644))

	const rounds = 6
	var wg sync.WaitGroup
	errs := make(chan error, 3*rounds*2)
	for _, rid := range []string{"ip#01db", "ip#02db"} {
		wg.Go(func() {
			for range rounds {
				s := loadService(t, root, reg)
				for _, a := range []svc.Action{svc.Stop, svc.Start} {
					if _, err := s.Do(context.Background(), a, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{rid}}}); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	for range rounds {
		d.Step(context.Background())
		d.Wait()
		clock.Add(time.Minute)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	type span struct {
		who        string
		start, end time.Time
	}
	var spans []span
	for _, c := range rec.Calls() {
		if c.Action == "start" || c.Action == "stop" {
			spans = append(spans, span{c.RID + " " + c.Action, c.Start, c.End})
		}
	}
	require.Len(t, spans, 3*rounds*2, "every action ran")
	for _, ci := range compIntervals {
		spans = append(spans, span{"compliance", ci[0], ci[1]})
	}
	require.Len(t, compIntervals, rounds)
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	for i := 1; i < len(spans); i++ {
		require.False(t, spans[i].start.Before(spans[i-1].end), "%s overlaps %s", spans[i].who, spans[i-1].who)
	}
}

// TestShutdown checks the bound on the running tasks when the daemon
// stops: a task that ends within the grace is not cancelled; one that
// does not is cancelled at the end of the grace, and Run returns.
func TestShutdown(t *testing.T) {
	root := newRoot(t, "[compliance]\nschedule = @1\n[asset]\nschedule = @1\n[node]\ndbopensvc = https://c\nuuid = u\n")
	started := make(chan string, 2)
	var quickCancelled, slowCancelled atomic.Bool
	d := newDaemon(t, root, nil, func(o *monitor.DaemonOptions) {
		o.ShutdownGrace = 200 * time.Millisecond
		o.NodeRunners = map[string]monitor.NodeRunner{
			monitor.TaskCompliance: func(ctx context.Context) (string, error) {
				started <- "quick"
				time.Sleep(50 * time.Millisecond)
				quickCancelled.Store(ctx.Err() != nil)
				return "", nil
			},
			monitor.TaskAsset: func(ctx context.Context) (string, error) {
				started <- "slow"
				<-ctx.Done()
				slowCancelled.Store(true)
				return "", ctx.Err()
			},
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	<-started
	<-started
	cancel()
	require.NoError(t, <-done)
	require.False(t, quickCancelled.Load(), "a task that ends within the grace runs to its end")
	require.True(t, slowCancelled.Load(), "a task still running at the end of the grace is cancelled")
	require.Empty(t, d.Running())
	_, err := os.Stat(monitor.SocketPath(root))
	require.True(t, errors.Is(err, os.ErrNotExist), "the socket is removed")
	// The last runs were saved, with the cancelled run not a success.
	rec, err := os.ReadFile(filepath.Join(root, "var", "node", "scheduler", "asset.json"))
	require.NoError(t, err)
	require.NotContains(t, string(rec), "last_success")
}
