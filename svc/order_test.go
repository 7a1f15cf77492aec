package svc_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// orderConf has two pods with every group of the seed, a parallel disk
// subset, a parallel container subset, an ip subset and an fs subset
// that are not parallel, and a disk outside any subset.
const orderConf = `[DEFAULT]
nodes = n1 n2

[subset#disk:cge]
parallel = true

[subset#container:containers]
parallel = true

[subset#fs:seq]
parallel = false

[disk#00]
type = gce
names = base

[disk#01]
type = gce
subset = cge
names = pod1

[disk#02]
type = gce
subset = cge
names = pod2

[disk#03]
type = gce
subset = cge
names = pod3

[fs#01]
type = ext4
subset = seq
dev = /dev/disk/by-id/google-svc1.disk.01.0
mnt = /srv/pod01

[fs#02]
type = ext4
subset = seq
dev = /dev/disk/by-id/google-svc1.disk.02.0
mnt = /srv/pod02

[fs#03]
type = ext4
dev = /dev/disk/by-id/google-svc1.disk.03.0
mnt = /srv/pod03

[ip#01g]
type = gce
subset = cge
ipname = 10.0.0.33
ipdev = br0
routename = rt33

[ip#02g]
type = gce
subset = cge
ipname = 10.0.0.34
ipdev = br0
routename = rt34

[container#01]
type = docker
subset = containers
run_image = mariadb
run_args = --net=none -v /srv/pod01/data:/var/lib/mysql:rw

[container#02]
type = docker
subset = containers
run_image = mariadb
run_args = --net=none -v /srv/pod02/data:/var/lib/mysql:rw

[container#03]
type = docker
run_image = mariadb
run_args = --net=none -v /srv/pod03/data:/var/lib/mysql:rw

[ip#01d]
type = docker
ipname = 10.0.0.33
netmask = 24
ipdev = br0
container_rid = container#01

[ip#02d]
type = docker
ipname = 10.0.0.34
netmask = 24
ipdev = br0
container_rid = container#02
`

const orderLatency = 30 * time.Millisecond

// calls returns the calls of action by rid, failing if a rid was called
// twice.
func calls(t *testing.T, rec *fake.Recorder, action string) map[string]fake.Call {
	t.Helper()
	out := map[string]fake.Call{}
	for _, c := range rec.Actions(action) {
		_, dup := out[c.RID]
		require.False(t, dup, "%s called twice on %s", action, c.RID)
		out[c.RID] = c
	}
	return out
}

func overlap(a, b fake.Call) bool { return a.Start.Before(b.End) && b.Start.Before(a.End) }

// after tells whether b started once a was done.
func after(b, a fake.Call) bool { return !b.Start.Before(a.End) }

// phase is the group a rid runs in with the groups scheduler.
func phase(rid string) int {
	switch {
	case strings.HasPrefix(rid, "ip#") && strings.HasSuffix(rid, "g"):
		return 0
	case strings.HasPrefix(rid, "disk#"):
		return 1
	case strings.HasPrefix(rid, "fs#"):
		return 2
	case strings.HasPrefix(rid, "container#"):
		return 3
	case strings.HasPrefix(rid, "ip#") && strings.HasSuffix(rid, "d"):
		return 4
	}
	return 5
}

// parallelUnit names the parallel subset of rid in orderConf, "" when it
// runs alone.
func parallelUnit(rid string) string {
	switch rid {
	case "disk#01", "disk#02", "disk#03":
		return "disk:cge"
	case "container#01", "container#02":
		return "container:containers"
	}
	return ""
}

// TestGroupsSchedulerOrder checks the reference's order from the fakes'
// recorded times: ip.gce, then disks, fs, containers, ip.docker; rid
// order inside a group; concurrency only inside parallel subsets; stop
// in the exact reverse.
func TestGroupsSchedulerOrder(t *testing.T) {
	ctx := t.Context()
	rec := fake.NewRecorder()
	s := mustParse(t, orderConf, "n1", fake.Options{Latency: orderLatency, Recorder: rec})
	opts := svc.ActionOptions{Scheduler: svc.SchedulerGroups}

	res, err := s.Start(ctx, opts)
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"ip#01g"}, {"ip#02g"}, {"disk#00"}, {"disk#01", "disk#02", "disk#03"},
		{"fs#01"}, {"fs#02"}, {"fs#03"}, {"container#01", "container#02"}, {"container#03"},
		{"ip#01d"}, {"ip#02d"}, {"sync#i0"},
	}, res.Plan)
	started := calls(t, rec, fake.ActionStart)
	// sync#i0 is up from the start (as in the reference): never started.
	require.Len(t, started, 14)
	checkGroupsOrder(t, started, false)

	rec.Reset()
	res, err = s.Stop(ctx, opts)
	require.NoError(t, err)
	stopped := calls(t, rec, fake.ActionStop)
	require.Len(t, stopped, 14, "stop leaves sync#i0 up, as the reference does")
	require.NotContains(t, stopped, "sync#i0")
	checkGroupsOrder(t, stopped, true)
	var startPlan []string
	for _, w := range res.Plan {
		startPlan = append(startPlan, strings.Join(w, " "))
	}
	require.Equal(t, []string{
		"ip#02d", "ip#01d", "container#03", "container#01 container#02",
		"fs#03", "fs#02", "fs#01", "disk#01 disk#02 disk#03", "disk#00", "ip#02g", "ip#01g",
	}, startPlan, "stop plan: the start plan reversed")
	for rid := range started {
		r, ok := s.Resource(rid)
		require.True(t, ok)
		st, err := r.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, resource.Down, st, rid)
	}
}

// checkGroupsOrder checks the groups order of calls (reversed for stop).
func checkGroupsOrder(t *testing.T, calls map[string]fake.Call, reverse bool) {
	t.Helper()
	for a, ca := range calls {
		for b, cb := range calls {
			if a >= b {
				continue
			}
			pa, pb := phase(a), phase(b)
			first, second := ca, cb
			firstRID, secondRID := a, b
			// The one that must run first: lower phase (start), or lower
			// rid in the same phase; reversed for stop.
			if pa > pb || pa == pb && a > b {
				first, second, firstRID, secondRID = cb, ca, b, a
			}
			if reverse {
				first, second, firstRID, secondRID = second, first, secondRID, firstRID
			}
			if u := parallelUnit(a); u != "" && u == parallelUnit(b) {
				require.True(t, overlap(ca, cb), "%s and %s are in parallel subset %s: expected them to run together", a, b, u)
				continue
			}
			require.True(t, after(second, first), "%s started at %s before %s ended at %s",
				secondRID, second.Start.Format(time.StampMicro), firstRID, first.End.Format(time.StampMicro))
		}
	}
}

// providers returns, for every resource, the resources providing what it
// uses (the rule the fakes and the graph scheduler share: rid:<rid>, or
// the longest provided path containing a used path).
func providers(t *testing.T, s *svc.Service) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range s.Resources() {
		u, ok := r.(resource.User)
		require.True(t, ok)
		uses, _ := u.Uses()
		for _, name := range uses {
			if rid, ok := strings.CutPrefix(name, "rid:"); ok {
				out[r.RID()] = append(out[r.RID()], rid)
				continue
			}
			best, bestLen := "", -1
			for _, o := range s.Resources() {
				p, ok := o.(resource.Provider)
				if !ok || o == r {
					continue
				}
				for _, pp := range p.Provides() {
					if (name == pp || strings.HasPrefix(filepath.Clean(name), pp+"/")) && len(pp) > bestLen {
						best, bestLen = o.RID(), len(pp)
					}
				}
			}
			if best != "" {
				out[r.RID()] = append(out[r.RID()], best)
			}
		}
	}
	return out
}

// TestGraphSchedulerOrder checks that with the graph scheduler every
// resource starts after what it uses is up and stops before it, and
// that independent resources run together.
func TestGraphSchedulerOrder(t *testing.T) {
	ctx := t.Context()
	rec := fake.NewRecorder()
	s := mustParse(t, orderConf, "n1", fake.Options{Latency: orderLatency, Recorder: rec})
	deps := providers(t, s)
	// The uses the fakes declare, as the real drivers would.
	require.Equal(t, []string{"disk#01"}, deps["fs#01"])
	require.Equal(t, []string{"fs#02"}, deps["container#02"])
	require.Equal(t, []string{"container#01"}, deps["ip#01d"])

	_, err := s.Start(ctx, svc.ActionOptions{Scheduler: svc.SchedulerGraph})
	require.NoError(t, err)
	started := calls(t, rec, fake.ActionStart)
	require.Len(t, started, 14)
	edges := 0
	for rid, ps := range deps {
		for _, p := range ps {
			require.True(t, after(started[rid], started[p]), "%s started before %s, which it uses, was up", rid, p)
			edges++
		}
	}
	require.Equal(t, 8, edges) // 3 fs, 3 containers, 2 ip.docker
	// Nothing orders an ip.gce and a disk: the graph runs them together,
	// where the groups scheduler would not.
	require.True(t, overlap(started["ip#01g"], started["disk#00"]))
	require.True(t, overlap(started["ip#01g"], started["ip#02g"]))

	rec.Reset()
	_, err = s.Stop(ctx, svc.ActionOptions{Scheduler: svc.SchedulerGraph})
	require.NoError(t, err)
	stopped := calls(t, rec, fake.ActionStop)
	for rid, ps := range deps {
		for _, p := range ps {
			require.True(t, after(stopped[p], stopped[rid]), "%s stopped before %s, which uses it", p, rid)
		}
	}
}

// TestMaxParallel checks that max_parallel bounds the resource actions
// running at once.
func TestMaxParallel(t *testing.T) {
	for _, limit := range []int{1, 2} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			rec := fake.NewRecorder()
			s := mustParse(t, orderConf, "n1", fake.Options{Latency: 5 * time.Millisecond, Recorder: rec})
			_, err := s.Start(t.Context(), svc.ActionOptions{MaxParallel: limit})
			require.NoError(t, err)
			started := rec.Actions(fake.ActionStart)
			require.Len(t, started, 14)
			for _, c := range started {
				n := 0
				for _, o := range started {
					if o.Start.Compare(c.Start) <= 0 && o.End.After(c.Start) {
						n++ // running when c started, c included
					}
				}
				require.LessOrEqual(t, n, limit, "%s started with %d running", c.RID, n)
			}
		})
	}
}
