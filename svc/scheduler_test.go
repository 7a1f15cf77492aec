package svc_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/internal/spdconf"
	"github.com/svckit/svckit/svc"
)

// spdService loads the seed's generated config for pods pods on nodes
// nodes, on spd01, with fakes; extra is appended to the DEFAULT section.
func spdService(t testing.TB, pods, nodes int, extra string, fo fake.Options) *svc.Service {
	t.Helper()
	p := spdconf.Defaults()
	p.Pods, p.Nodes = pods, spdconf.Nodes(nodes)
	conf, err := spdconf.Generate(p)
	require.NoError(t, err)
	if extra != "" {
		conf = []byte(strings.Replace(string(conf), "\n[DEFAULT]\n", "\n[DEFAULT]\n"+extra+"\n", 1))
	}
	s, err := svc.Parse(t.Context(), "spdsvc01.conf", conf, svc.Options{Node: "spd01", Registry: fake.Registry(fo), Root: t.TempDir(), NoTriggers: true})
	require.NoError(t, err)
	return s
}

// maxRunning returns the most calls running at one time. A call that
// ends when another starts does not overlap it.
func maxRunning(calls []fake.Call) int {
	type event struct {
		at    time.Time
		delta int
	}
	var ev []event
	for _, c := range calls {
		ev = append(ev, event{c.Start, +1}, event{c.End, -1})
	}
	sort.Slice(ev, func(i, j int) bool {
		if !ev[i].at.Equal(ev[j].at) {
			return ev[i].at.Before(ev[j].at)
		}
		return ev[i].delta < ev[j].delta // ends first
	})
	n, most := 0, 0
	for _, e := range ev {
		n += e.delta
		most = max(most, n)
	}
	return most
}

// operations returns the recorded calls that change something (status
// checks excluded).
func operations(rec *fake.Recorder) []fake.Call {
	var out []fake.Call
	for _, c := range rec.Calls() {
		if c.Action != fake.ActionStatus && !c.DryRun {
			out = append(out, c)
		}
	}
	return out
}

func TestCriticalPath(t *testing.T) {
	rec := fake.NewRecorder()
	s := spdService(t, 8, 4, "", fake.Options{Recorder: rec})
	one := func(string) time.Duration { return time.Second }

	res, err := s.Start(t.Context(), svc.ActionOptions{DryRun: true})
	require.NoError(t, err)
	d, chain := res.CriticalPath(one)
	// disk, the docker data fs (its LABEL= device keeps the group
	// barrier, so any disk or ip comes first), the pod's fs, a
	// container, its address.
	require.Equal(t, 5*time.Second, d)
	require.Len(t, chain, 5)
	require.Regexp(t, `^(disk|ip)#`, chain[0])
	require.Equal(t, []string{"fs#00", "fs#01"}, chain[1:3])
	require.Regexp(t, `^container#01(sm|db)$`, chain[3])
	require.Equal(t, "ip#"+strings.TrimPrefix(chain[3], "container#"), chain[4])
	require.Len(t, res.Plan, 5, "an unweighted critical path is as long as the plan")

	// Weights pick the chain: a slow container#02db makes it critical.
	d, chain = res.CriticalPath(func(rid string) time.Duration {
		if rid == "container#02db" {
			return 10 * time.Second
		}
		return time.Second
	})
	require.Equal(t, 14*time.Second, d)
	require.Equal(t, []string{"fs#00", "fs#02", "container#02db", "ip#02db"}, chain[1:])

	// Stop runs the chain backwards.
	res, err = s.Stop(t.Context(), svc.ActionOptions{DryRun: true})
	require.NoError(t, err)
	d, chain = res.CriticalPath(one)
	require.Equal(t, 5*time.Second, d)
	require.Regexp(t, `^ip#0[12](sm|db)$`, chain[0])
	require.Regexp(t, `^(disk|ip)#`, chain[4])

	// With the groups scheduler the chain goes through every unit: the
	// ip subset, disk#00, the disk subset, 3 fs one by one, the private
	// docker daemon, the container subset, 4 container addresses one by
	// one, sync#i0.
	res, err = s.Start(t.Context(), svc.ActionOptions{DryRun: true, Scheduler: svc.SchedulerGroups})
	require.NoError(t, err)
	d, chain = res.CriticalPath(one)
	require.Equal(t, 13*time.Second, d)
	require.Equal(t, []string{"fs#00", "fs#01", "fs#02", "container#dockerd"}, chain[3:7])
	require.Equal(t, "sync#i0", chain[12])
	require.Empty(t, operations(rec), "a dry run calls no driver")

	// A decoded result has no graph.
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var decoded svc.Result
	require.NoError(t, json.Unmarshal(b, &decoded))
	d, chain = decoded.CriticalPath(one)
	require.Zero(t, d)
	require.Nil(t, chain)
}

// The graph scheduler starts a pod's chain as soon as its disk and the
// docker data fs are up: the pods run side by side, in as many waves as
// the longest chain (the wall times are measured by examples/spdbench).
func TestGraphRunsPodsSideBySide(t *testing.T) {
	rec := fake.NewRecorder()
	s := spdService(t, 16, 2, "", fake.Options{Latency: 20 * time.Millisecond, Recorder: rec})
	_, err := s.Provision(t.Context(), svc.ActionOptions{})
	require.NoError(t, err)
	for _, action := range []svc.Action{svc.Stop, svc.Start} {
		rec.Reset()
		res, err := s.Do(t.Context(), action, svc.ActionOptions{})
		require.NoError(t, err)
		ops := operations(rec)
		require.NotEmpty(t, ops)
		for _, c := range ops {
			require.Empty(t, c.Err)
		}
		// 8 pods: their fs, containers and addresses overlap.
		require.Greater(t, maxRunning(ops), 8, "%s runs the pods side by side", action)
		require.Len(t, res.Plan, 5)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// max_parallel (keyword or option) bounds the driver calls running at
// once, with either scheduler, for every action.
func TestMaxParallelBoundsRunningCalls(t *testing.T) {
	tests := []struct {
		name      string
		keyword   string
		opt       int
		scheduler string
		want      int
	}{
		{"keyword, graph", "max_parallel = 3", 0, svc.SchedulerGraph, 3},
		{"option overrides keyword, graph", "max_parallel = 3", 2, svc.SchedulerGraph, 2},
		{"option, graph", "", 1, svc.SchedulerGraph, 1},
		{"keyword, groups", "max_parallel = 2", 0, svc.SchedulerGroups, 2},
		{"no bound, graph", "", 0, svc.SchedulerGraph, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fake.NewRecorder()
			s := spdService(t, 8, 2, tt.keyword, fake.Options{Latency: 5 * time.Millisecond, Recorder: rec})
			for _, action := range []svc.Action{svc.Provision, svc.Stop, svc.Start} {
				rec.Reset()
				_, err := s.Do(t.Context(), action, svc.ActionOptions{Scheduler: tt.scheduler, MaxParallel: tt.opt})
				require.NoError(t, err, "%s", action)
				ops := operations(rec)
				require.NotEmpty(t, ops)
				got := maxRunning(ops)
				if tt.want == 0 {
					require.Greater(t, got, 3, "%s: without a bound the pods run side by side", action)
					continue
				}
				require.LessOrEqual(t, got, tt.want, "%s", action)
				if tt.want > 1 {
					require.Greater(t, got, 1, "%s: the bound is a bound, not a serialization", action)
				}
			}
		})
	}
}

// On a failure, the graph scheduler launches nothing more, lets the
// running calls finish, then rolls back what the action started.
func TestGraphFailureStopsLaunching(t *testing.T) {
	// With a bound of 4, the 4 fs still mount together (nothing else is
	// ready then): fs#02 fails while the 3 others are mounting.
	for _, limit := range []int{0, 4} {
		t.Run(fmt.Sprintf("max_parallel %d", limit), func(t *testing.T) {
			ctx := t.Context()
			rec := fake.NewRecorder()
			// fs#02 fails fast while the other pods' fs are slow: their
			// mounts are running when the failure comes.
			s := spdService(t, 4, 1, "", fake.Options{
				Latency:   2 * time.Millisecond,
				LatencyOf: map[string]time.Duration{"fs.ext4:start": 40 * time.Millisecond, "fs#02:start": time.Millisecond},
				Faults:    []fake.Fault{{RID: "fs#02", Action: fake.ActionStart, Message: "mount: bad superblock"}},
				Recorder:  rec,
			})
			rollback := true
			res, err := s.Start(ctx, svc.ActionOptions{MaxParallel: limit, Rollback: &rollback})
			require.Error(t, err)
			require.ErrorIs(t, err, fake.ErrInjected)
			var aerr *svc.ActionError
			require.True(t, errors.As(err, &aerr))
			require.Equal(t, []string{"fs#02"}, slices.Sorted(maps.Keys(aerr.Failed)))
			require.NoError(t, aerr.Rollback)

			var failed fake.Call
			started := map[string]bool{}
			var lastStartEnd time.Time
			for _, c := range rec.Actions(fake.ActionStart) {
				if c.RID == "fs#02" {
					failed = c
					continue
				}
				require.Empty(t, c.Err, c.RID)
				started[c.RID] = true
				lastStartEnd = maxTime(lastStartEnd, c.End)
			}
			require.NotEmpty(t, failed.Err)
			// Nothing launched after the failure: no container started,
			// since every container needs an fs that was still mounting
			// (or failed) when fs#02 failed.
			for rid := range started {
				if rid == "container#dockerd" {
					continue // the private daemon needs only fs#00, mounted before
				}
				require.False(t, strings.HasPrefix(rid, "container#") || strings.HasPrefix(rid, "ip#") && !strings.HasSuffix(rid, "g"), "%s launched after the failure", rid)
			}
			// The running ones finished: a mount that had begun before the
			// failure completed, and was then rolled back.
			var running []string
			for _, c := range rec.Actions(fake.ActionStart) {
				if c.RID != "fs#02" && strings.HasPrefix(c.RID, "fs#0") && c.Start.Before(failed.End) {
					running = append(running, c.RID)
				}
			}
			require.NotEmpty(t, running, "some fs were mounting when fs#02 failed")
			// Rollback begins once every running call is done.
			stops := rec.Actions(fake.ActionStop)
			require.NotEmpty(t, stops)
			for _, c := range stops {
				require.Empty(t, c.Err, c.RID)
				require.False(t, c.Start.Before(lastStartEnd), "%s stopped while a start was running", c.RID)
			}
			want := make([]string, 0, len(started))
			for rid := range started {
				if rid != "sync#i0" {
					want = append(want, rid)
				}
			}
			sort.Strings(want)
			require.Equal(t, want, res.RolledBack)
			for _, rid := range running {
				require.Contains(t, res.RolledBack, rid)
			}
			if limit > 0 {
				require.LessOrEqual(t, maxRunning(operations(rec)), limit)
			}
			// Nothing this start brought up is left up.
			for _, r := range s.Resources() {
				if !started[r.RID()] {
					continue
				}
				st, err := r.Status(ctx)
				require.NoError(t, err)
				require.False(t, st.IsUp(), "%s left %s", r.RID(), st)
			}
		})
	}
}

// A used path depends on the resource providing the longest path equal to
// it or a parent directory of it; paths nothing provides add no edge.
func TestGraphLongestProvider(t *testing.T) {
	conf := `[DEFAULT]
nodes = n1

[fs#1]
type = ext4
dev = /dev/sdb
mnt = /srv

[fs#2]
type = ext4
dev = /dev/sdc
mnt = /srv/a

[container#1]
type = docker
run_image = busybox
run_args = -v /srv/a/data:/data -v /etc/localtime:/etc/localtime:ro

[container#2]
type = docker
run_image = busybox
run_args = -v /srv/b:/data

[container#3]
type = docker
run_image = busybox
run_args = -v /srv/ab:/data
`
	s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), Root: t.TempDir()})
	require.NoError(t, err)
	for _, action := range []svc.Action{svc.Start, svc.Stop} {
		res, err := s.Do(t.Context(), action, svc.ActionOptions{DryRun: true})
		require.NoError(t, err)
		want := [][]string{{"fs#1", "sync#i0"}, {"container#2", "container#3", "fs#2"}, {"container#1"}}
		if action == svc.Stop {
			want = [][]string{{"container#1", "container#2", "container#3"}, {"fs#2"}, {"fs#1"}}
		}
		require.Equal(t, want, res.Plan, "%s", action)
	}
	// The fakes agree: the start runs in that order without a refusal.
	_, err = s.Start(t.Context(), svc.ActionOptions{})
	require.NoError(t, err)
}

// A negative bound is refused, not taken for "no limit".
func TestMaxParallelNegative(t *testing.T) {
	s := spdService(t, 4, 1, "max_parallel = -2", fake.Options{})
	_, err := s.Start(t.Context(), svc.ActionOptions{})
	require.EqualError(t, err, "service spdsvc01: max_parallel = -2: expected 0 (no limit) or a positive number")
	_, err = s.Start(t.Context(), svc.ActionOptions{MaxParallel: 3})
	require.NoError(t, err, "the option overrides the keyword")

	s = spdService(t, 4, 1, "", fake.Options{})
	res, err := s.Start(t.Context(), svc.ActionOptions{MaxParallel: -1})
	require.EqualError(t, err, "max parallel -1: expected 0 (the service's max_parallel) or a positive number")
	require.Empty(t, res.Steps)
}

// A resource that cannot tell what it uses (an fs on LABEL=) keeps the
// group barrier, and still mounts after the fs holding its mount point:
// what it provides lives in a directory someone else may provide.
func TestGraphBarrierResourceWaitsForItsParent(t *testing.T) {
	conf := `[DEFAULT]
nodes = n1

[disk#1]
type = gce
names = d1

[ip#1]
type = gce
ipname = 10.0.0.1
ipdev = br0
routename = rt1

[fs#a]
type = ext4
dev = LABEL=outer
mnt = /srv

[fs#b]
type = ext4
dev = LABEL=inner
mnt = /srv/inner

[fs#c]
type = ext4
dev = LABEL=other
mnt = /opt/other
`
	rec := fake.NewRecorder()
	s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{Latency: 2 * time.Millisecond, Recorder: rec}), Root: t.TempDir()})
	require.NoError(t, err)
	res, err := s.Start(t.Context(), svc.ActionOptions{})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"disk#1", "ip#1", "sync#i0"}, {"fs#a", "fs#c"}, {"fs#b"}}, res.Plan)
	a, b := rec.Find("fs#a", fake.ActionStart), rec.Find("fs#b", fake.ActionStart)
	require.Len(t, a, 1)
	require.Len(t, b, 1)
	require.False(t, b[0].Start.Before(a[0].End), "fs#b mounted before fs#a, under it")

	res, err = s.Stop(t.Context(), svc.ActionOptions{})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"fs#b", "fs#c"}, {"fs#a"}, {"disk#1", "ip#1"}}, res.Plan)
}
