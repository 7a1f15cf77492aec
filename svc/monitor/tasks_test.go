package monitor_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// TestNodeTaskTiming drives the node's compliance task (@60 in node.conf)
// and the service's status task (status_schedule's default @10) with a
// fake clock: each runs when due, not before, and the last runs survive
// a restart of the daemon.
func TestNodeTaskTiming(t *testing.T) {
	root := newRoot(t, "[compliance]\nschedule = @60\n")
	clock := newClock()
	var nodeRuns atomic.Int32
	mod := func(o *monitor.DaemonOptions) {
		o.NodeRunners = map[string]monitor.NodeRunner{monitor.TaskCompliance: func(ctx context.Context) (string, error) {
			nodeRuns.Add(1)
			return "every module ok", nil
		}}
	}
	d := newDaemon(t, root, clock, mod)
	steps := []struct {
		advance  time.Duration
		wantNode int32 // cumulated compliance runs
	}{
		{0, 1}, // never run: due at once
		{30 * time.Minute, 1},
		{29 * time.Minute, 1}, // 59 minutes: not yet
		{1*time.Minute + time.Second, 2},
		{59 * time.Minute, 2},
		{61 * time.Minute, 3},
	}
	for i, st := range steps {
		// Steps at most ten minutes apart up to the advance.
		remaining := st.advance
		for remaining > 0 {
			step := min(remaining, 10*time.Minute)
			clock.Add(step)
			remaining -= step
			d.Step(context.Background())
			d.Wait()
		}
		if st.advance == 0 {
			d.Step(context.Background())
			d.Wait()
		}
		state := d.State()
		require.Equal(t, st.wantNode, nodeRuns.Load(), "step %d: node compliance runs", i)
		nt := task(t, state.Tasks, monitor.TaskCompliance)
		require.Equal(t, "@60", nt.Schedule)
		require.Equal(t, monitor.ResultOK, nt.Result)
		require.False(t, nt.Running)
		st2 := task(t, service(t, state, "spdsvc01").Tasks, monitor.TaskStatus)
		require.Equal(t, "@10", st2.Schedule)
		require.False(t, st2.LastRun.After(clock.Now()), "step %d", i)
		require.True(t, st2.Next.After(clock.Now()), "step %d: the status task ran when due", i)
	}
	last := task(t, d.State().Tasks, monitor.TaskCompliance).LastRun

	// A new daemon on the same root (a restart) reads the last runs back:
	// nothing is due at once.
	clock.Add(time.Minute)
	d2 := newDaemon(t, root, clock, mod)
	d2.Step(context.Background())
	d2.Wait()
	require.Equal(t, int32(3), nodeRuns.Load(), "restarted daemon ran a task that was not due")
	require.Equal(t, last, task(t, d2.State().Tasks, monitor.TaskCompliance).LastRun)
	_, err := os.Stat(filepath.Join(root, "var", "node", "scheduler", "compliance.json"))
	require.NoError(t, err)
}

// TestTaskNeverTwiceAtOnce keeps a node task running across steps where
// it is due again: it is not started a second time.
func TestTaskNeverTwiceAtOnce(t *testing.T) {
	root := newRoot(t, "[compliance]\nschedule = @1\n")
	clock := newClock()
	release := make(chan struct{})
	var runs, concurrent, most atomic.Int32
	d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
		o.NodeRunners = map[string]monitor.NodeRunner{monitor.TaskCompliance: func(ctx context.Context) (string, error) {
			runs.Add(1)
			n := concurrent.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			<-release
			concurrent.Add(-1)
			return "", nil
		}}
	})
	for range 5 {
		d.Step(context.Background())
		clock.Add(2 * time.Minute)
	}
	require.Contains(t, d.Running(), "node/compliance")
	require.True(t, task(t, d.State().Tasks, monitor.TaskCompliance).Running)
	close(release)
	d.Wait()
	require.Equal(t, int32(1), runs.Load())
	require.Equal(t, int32(1), most.Load())
	d.Step(context.Background())
	d.Wait()
	require.Equal(t, int32(2), runs.Load(), "due again once the run ended")
}

// TestNodeTasksCatalog checks which node tasks are scheduled: only those
// with a runner, the collector ones only with a registered collector, and
// a bad schedule in node.conf is refused naming its key.
func TestNodeTasksCatalog(t *testing.T) {
	noop := func(ctx context.Context) (string, error) { return "", nil }
	all := map[string]monitor.NodeRunner{monitor.TaskCompliance: noop, monitor.TaskAsset: noop, monitor.TaskPackages: noop, monitor.TaskDequeue: noop}
	tests := []struct {
		name     string
		nodeConf string
		runners  map[string]monitor.NodeRunner
		want     map[string]string
		err      string
	}{
		{"defaults, no collector", "", all, map[string]string{"compliance": "~02:00-06:00"}, ""},
		{"no runner, no task", "", nil, map[string]string{}, ""},
		{"collector registered", "[node]\ndbopensvc = https://collector/init/rest/api\nuuid = 1234\n", all,
			map[string]string{"compliance": "~02:00-06:00", "asset": "~00:00-06:00", "packages": "~00:00-06:00", "dequeue_actions": ""}, ""},
		{"dequeue scheduled", "[node]\ndbopensvc = https://c\nuuid = x\n[dequeue_actions]\nschedule = @5\n[compliance]\nschedule = @1440\n", all,
			map[string]string{"compliance": "@1440", "asset": "~00:00-06:00", "packages": "~00:00-06:00", "dequeue_actions": "@5"}, ""},
		{"bad schedule", "[compliance]\nschedule = 25:00-26:00\n", all, map[string]string{}, "[compliance] schedule"},
		{"bad json", "[asset]\nschedule = [\"@10\"\n", all, map[string]string{}, "[asset] schedule"},
		{"bad host actions", "[monitor]\nallow_host_actions = maybe\n", all, map[string]string{}, "[monitor] allow_host_actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodeConf)
			d := newDaemon(t, root, newClock(), func(o *monitor.DaemonOptions) { o.NodeRunners = tt.runners })
			d.Step(context.Background())
			d.Wait()
			st := d.State()
			got := map[string]string{}
			for _, ts := range st.Tasks {
				got[ts.Name] = ts.Schedule
			}
			require.Equal(t, tt.want, got)
			if tt.err != "" {
				require.Contains(t, st.NodeConf, tt.err)
				require.Contains(t, st.NodeConf, "node.conf")
			} else {
				require.Empty(t, st.NodeConf)
			}
		})
	}
}

// TestServiceTasks checks the tasks of the 32-pod service: their
// schedules from DEFAULT (and the reference's defaults), sync#i0 only with
// a sync runner and on the flex primary, and the acting ones skipped when
// the service is frozen.
func TestServiceTasks(t *testing.T) {
	tests := []struct {
		name    string
		node    string
		frozen  bool
		extra   string
		wantRes map[string]string
		wantDef map[string]string
	}{
		// At noon, compliance (~00:00-06:00) is not due.
		{"flex primary", "spd01", false, "", map[string]string{"compliance": "", "sync#i0": "ok", "status": "ok", "monitor": "ok"},
			map[string]string{"compliance": "~00:00-06:00", "sync#i0": "@60", "status": "@10", "monitor": "@1s"}},
		{"other node", "spd02", false, "comp_schedule = @30\n", map[string]string{"compliance": "ok", "sync#i0": "skipped", "status": "ok", "monitor": "ok"}, nil},
		{"frozen", "spd01", true, "comp_schedule = @30\n", map[string]string{"compliance": "skipped", "sync#i0": "skipped", "status": "ok", "monitor": "ok"}, nil},
		{"schedules set", "spd01", false, "status_schedule = @1\ncomp_schedule = @30\nmonitor_schedule = @5s\n", nil,
			map[string]string{"compliance": "@30", "sync#i0": "@60", "status": "@1", "monitor": "@5s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, "")
			if tt.extra != "" {
				p := filepath.Join(root, "etc", "spdsvc01.conf")
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				b = []byte(strings.Replace(string(b), "[DEFAULT]\n", "[DEFAULT]\n"+tt.extra, 1))
				require.NoError(t, os.WriteFile(p, b, 0o644))
			}
			var mu sync.Mutex
			ran := map[string]int{}
			runner := func(name string) monitor.ServiceRunner {
				return func(ctx context.Context, s *svc.Service) (string, error) {
					mu.Lock()
					ran[name]++
					mu.Unlock()
					return "done", nil
				}
			}
			d := newDaemon(t, root, newClock(), func(o *monitor.DaemonOptions) {
				o.Node = tt.node
				o.ServiceRunners = map[string]monitor.ServiceRunner{monitor.TaskCompliance: runner("compliance"), "sync": runner("sync")}
				o.Frozen = func(*svc.Service) bool { return tt.frozen }
			})
			d.Step(context.Background())
			d.Wait()
			ss := service(t, d.State(), "spdsvc01")
			require.Empty(t, ss.LoadError)
			got, defs := map[string]string{}, map[string]string{}
			for _, ts := range ss.Tasks {
				got[ts.Name], defs[ts.Name] = ts.Result, ts.Schedule
			}
			if tt.wantRes != nil {
				require.Equal(t, tt.wantRes, got)
			}
			if tt.wantDef != nil {
				require.Equal(t, tt.wantDef, defs)
			}
			if tt.frozen {
				require.Empty(t, ran)
			}
		})
	}
}

// TestStepWait checks how long the loop sleeps: until the next due task,
// at most the interval, never zero.
func TestStepWait(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		extra    string
		advance  time.Duration
		want     time.Duration
	}{
		{"monitor every interval", 2 * time.Second, "", 0, 2 * time.Second},
		{"half-way through", 2 * time.Second, "", 1500 * time.Millisecond, 500 * time.Millisecond},
		{"monitor slower than the interval", 2 * time.Second, "monitor_schedule = @1m\n", 0, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, "")
			if tt.extra != "" {
				p := filepath.Join(root, "etc", "spdsvc01.conf")
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), "[DEFAULT]\n", "[DEFAULT]\n"+tt.extra, 1)), 0o644))
			}
			clock := newClock()
			d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
				o.Interval = tt.interval
				o.Pass = func(context.Context, *svc.Service) (*svc.StatusReport, error) { return nil, nil }
			})
			d.Step(context.Background())
			d.Wait()
			clock.Add(tt.advance)
			require.Equal(t, tt.want, d.Step(context.Background()))
			d.Wait()
		})
	}
}
