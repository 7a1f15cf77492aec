package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/svc/cluster"
)

// runSpd runs the program with args and a kept root under a test
// directory; it returns stdout, stderr, the exit code and the root
// password the run generated (read back from spd01's config).
func runSpd(t *testing.T, args ...string) (string, string, int, string) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"-keep", "-dir", dir}, args...), &out, &errb)
	roots, err := filepath.Glob(filepath.Join(dir, "svckit-spd-*"))
	require.NoError(t, err)
	require.Len(t, roots, 1, "one kept root")
	l, err := spd.ParseLayoutFile(filepath.Join(roots[0], "spd01", "etc", "spdsvc01.conf"))
	require.NoError(t, err)
	pw := l.RootPassword.Reveal()
	require.GreaterOrEqual(t, len(pw), 16, "a random password")
	return out.String(), errb.String(), code, pw
}

func TestScenario(t *testing.T) {
	tests := []struct {
		name        string
		pods, nodes int
		movedPod    string
		// wantMin and wantMax bound the pods of each node after the
		// relayout.
		wantMin, wantMax int
	}{
		{name: "8 pods on 4 nodes", pods: 8, nodes: 4, movedPod: "pod04", wantMin: 1, wantMax: 2},
		{name: "the seed: 32 pods on 4 nodes", pods: 32, nodes: 4, movedPod: "pod16", wantMin: 6, wantMax: 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, errs, code, pw := runSpd(t, "-pods", itoa(tc.pods), "-nodes", itoa(tc.nodes))
			require.Equal(t, 0, code, "stderr: %s\n%s", errs, text)
			require.NotContains(t, text, pw)
			require.NotContains(t, errs, pw)
			require.Contains(t, text, "real drivers: disk.gce")
			require.Contains(t, text, "fake drivers: container.docker")
			// The seed's status tree of spd01.
			require.Contains(t, text, "spdsvc01\n   overall                   up\n")
			require.Contains(t, text, "|- disk#01        .... up         gce volumes spdsvc01-pod1\n")
			require.Contains(t, text, "|- fs#01          .... up         /dev/disk/by-id/google-spdsvc01.disk.01.0@/spdsvc01/pod01\n")
			require.Contains(t, text, "@tanji/spdc\n")
			require.Contains(t, text, "spd01: docker rm ")
			require.Contains(t, text, "== summary")

			js, errs, code, pw := runSpd(t, "-pods", itoa(tc.pods), "-nodes", itoa(tc.nodes), "-format", "json")
			require.Equal(t, 0, code, "stderr: %s", errs)
			require.NotContains(t, js, pw)
			var rep Report
			require.NoError(t, json.Unmarshal([]byte(js), &rep))
			require.Len(t, rep.Steps, 10)
			steps := map[string]*StepReport{}
			for _, s := range rep.Steps {
				require.Equal(t, "ok", s.Result, "%s: %s", s.Name, s.Error)
				require.Positive(t, s.Duration, s.Name)
				steps[s.Name] = s
			}
			require.Equal(t, "real (fake compute API", strings.SplitN(rep.Drivers["disk.gce"], " http", 2)[0])
			require.Equal(t, "fake", rep.Drivers["ip.gce"])

			// Compliance: nok before, all ok after the fix, on each node.
			require.Len(t, rep.Compliance, tc.nodes)
			for _, c := range rep.Compliance {
				require.Positive(t, c.Before.NOK, c.Node)
				require.Zero(t, c.After.NOK+c.After.Failed, c.Node)
				require.Positive(t, c.After.OK, c.Node)
			}

			started := steps["provision and start --cluster"]
			require.Equal(t, tc.pods, countPods(started.Pods))
			require.Len(t, started.Pods, tc.nodes)

			// Service compliance: spdc.svc wrote each pod's two spd.cnf on
			// its disk, with the module's server ids; after the migration a
			// fix on spd03 found the pod's files there already.
			mig := steps["migrate a pod spd02 -> spd03"]
			sc := rep.SvcCompliance
			require.NotNil(t, sc)
			if os.Geteuid() != 0 {
				require.Contains(t, sc.Skipped, "needs root")
			} else {
				require.Empty(t, sc.Skipped)
				require.Equal(t, 2*tc.pods, countFiles(sc))
				require.Len(t, sc.Files, tc.pods)
				require.Equal(t, []string{"db/conf/spd.cnf", "sm/conf/spd.cnf"}, sc.Files["spdsvc01-pod1"])
				require.Equal(t, [2]int{33, 34}, sc.ServerIDs["pod01"])
				require.Equal(t, [2]int{33 + 2*(tc.pods-1), 34 + 2*(tc.pods-1)}, sc.ServerIDs[fmt.Sprintf("pod%02d", tc.pods)])
				require.Contains(t, steps["service compliance --cluster"].Summary, fmt.Sprintf("%d files, 2 per pod", 2*tc.pods))
				require.Contains(t, mig.Summary, "compliance fix on spd03: already conform, "+tc.movedPod+"'s 2 files unchanged")
			}

			// The migrated pod runs on spd03 only.
			require.Contains(t, mig.Pods["spd03"], tc.movedPod)
			require.NotContains(t, mig.Pods["spd02"], tc.movedPod)
			require.Equal(t, tc.pods, countPods(mig.Pods))

			// After the relayout, every node of the 5 runs its share.
			rel := steps["relayout 4 -> 5 nodes"]
			require.Equal(t, []string{"spd01", "spd02", "spd03", "spd04", "spd05"}, rep.Nodes)
			require.Equal(t, tc.pods, countPods(rel.Pods))
			for _, n := range rep.Nodes {
				require.GreaterOrEqual(t, len(rel.Pods[n]), tc.wantMin, n)
				require.LessOrEqual(t, len(rel.Pods[n]), tc.wantMax, n)
			}
			require.Contains(t, rel.Pods["spd03"], tc.movedPod, "the relayout kept the migrated pod in place")

			// The stop leaves every pod, address and filesystem down.
			stop := steps["stop --cluster"]
			require.Zero(t, countPods(stop.Pods))
			require.NotNil(t, rep.Status)
			require.Len(t, rep.Status.Nodes, 5)
			for n, ns := range rep.Status.Nodes {
				for _, r := range ns.Resources {
					if r.Disabled {
						continue
					}
					if strings.HasPrefix(r.RID, "disk#") {
						require.True(t, r.Standby, "%s %s", n, r.RID)
						continue
					}
					if strings.HasPrefix(r.RID, "sync#") {
						// A stop leaves the config replication up.
						require.Equal(t, "up", r.Status.String(), "%s %s", n, r.RID)
						continue
					}
					require.Contains(t, []string{"down", "stdby down"}, r.Status.String(), "%s %s", n, r.RID)
				}
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-pods", "0"}, "-pods 0: expected 1 to"},
		{[]string{"-nodes", "2"}, "-nodes 2: expected 3 to"},
		{[]string{"-pods", "3", "-nodes", "4"}, "expected at least one pod per node"},
		{[]string{"-format", "yaml"}, `-format "yaml": expected text or json`},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-latency", "-1s"}, "expected a positive duration"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			require.Equal(t, 2, run(context.Background(), tc.args, &out, &errb))
			require.Contains(t, errb.String(), tc.want)
			require.Empty(t, out.String())
		})
	}
}

// TestRootsRemoved checks that without -keep nothing stays behind.
func TestRootsRemoved(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-pods", "4", "-nodes", "3", "-dir", dir, "-format", "json"}, &out, &errb), errb.String())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestMigrationRollback fails the start of pod16's spider container on
// spd03: the migration step fails, pod16 runs on spd02 again with the
// previous config, and the run stops there with the failure reported.
func TestMigrationRollback(t *testing.T) {
	var out strings.Builder
	rep, err := Run(context.Background(), Options{Pods: 32, Nodes: 4, Dir: t.TempDir(), Out: &out,
		Faults: []fake.Fault{{RID: "container#16sm", Action: "start", Node: "spd03", Message: "no space left"}}})
	require.Error(t, err)
	var me *cluster.MigrationError
	require.ErrorAs(t, err, &me)
	require.True(t, me.Restored, "%v", me.RestoreErr)
	require.False(t, rep.OK())
	require.Len(t, rep.Steps, 8, "the run stops at the failed step")
	mig := rep.Steps[7]
	require.Equal(t, "failed", mig.Result)
	require.Contains(t, mig.Error, "no space left")
	require.Contains(t, mig.Pods["spd02"], "pod16")
	require.NotContains(t, mig.Pods["spd03"], "pod16")
	require.Equal(t, 32, countPods(mig.Pods))
	require.Contains(t, out.String(), "restored to the previous placement: true; pod16 up on spd02")
}

// TestReal runs the seed's scenario with the real drivers of the host:
// disk.loop standing in for disk.gce, fs (mkfs, mount), container.docker
// with the local stand-in images, ip.docker into br0 of each node's
// network namespace, ip.gce there too. pod16's routes and address follow
// it to spd03, the new spider image writes on every pod's disk, and the
// end of the run leaves nothing on the host.
func TestReal(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.Docker(t)
	testenv.RequireLoop(t)
	testenv.RequireCommands(t, "losetup", "blkid", "mkfs.ext4", "mkfs.btrfs", "mount", "umount", "go")
	dir := t.TempDir()
	var out strings.Builder
	rep, err := Run(context.Background(), Options{Pods: 32, Nodes: 4, Dir: dir, Out: &out, Real: true})
	require.NoError(t, err, out.String())
	require.True(t, rep.OK())
	for _, id := range []string{"disk.gce", "disk.loop", "fs.btrfs", "fs.ext4", "container.docker", "ip.docker", "ip.gce", "sync.rsync"} {
		require.True(t, strings.HasPrefix(rep.Drivers[id], "real"), "%s: %s", id, rep.Drivers[id])
	}
	text := out.String()
	// The root password (rand.Text: 26 base32 letters) went into the
	// containers' environment and nowhere in the output.
	require.NotRegexp(t, `[A-Z2-7]{26}`, text)
	// The seed's tree, on this host.
	require.Regexp(t, `\|- disk#01        \.\.\.\. up         loop /\S+/san/spdsvc01-pod1\.img\n`, text)
	require.Regexp(t, `\|- fs#00          \.\.\.\. up         LABEL=spdsvc01-spd01-[0-9a-f]{6}@/\S+/spd01/spdsvc01\n`, text)
	require.Regexp(t, `\|- container#01sm \.\.\.\. up         [0-9a-f]{12}@svckit-spd/tanji-spdc:latest\n`, text)
	// The real sync#i0 compares the nodes' configs: up, warn once spd04's
	// is edited by hand, up after sync nodes.
	require.Regexp(t, `'- sync#i0        \.\.\.\. up         rsync svc config to drpnodes, nodes\n`, text)
	require.Contains(t, text, "config of spd04 edited by hand: spd01 sync#i0 warn: config differs from this node's (sha256 ")
	require.Regexp(t, `spd01 sync#i0 up  rsync svc config to drpnodes, nodes \(last sync \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)\n`, text)
	require.Contains(t, text, "host: 36 backing files in ")
	require.Contains(t, text, "filesystems mounted per node spd01:9 spd02:9 spd03:9 spd04:9\n")
	require.Contains(t, text, "32 pods: svckit-tanji-spdc-2.txt written by svckit-spd/tanji-spdc:2 on the pod's filesystem")
	require.Contains(t, text, "GCE route rt-ip63 10.0.0.63/32 -> spd03")
	require.Contains(t, text, "spd03 br0 has 10.0.0.63: true")
	require.Contains(t, text, "spd02 br0 has 10.0.0.63: false")
	require.Contains(t, text, "64 routes")
	require.Contains(t, text, "overall: spd01:stdby up spd02:stdby up spd03:stdby up spd04:stdby up spd05:stdby up\n")
	checkRealDaemons(t, rep, text)

	// Nothing of the run is left: no mount, no loop device, no container,
	// no directory.
	mounts, err := mountinfo.Read()
	require.NoError(t, err)
	for _, m := range mounts {
		require.False(t, strings.HasPrefix(m.MountPoint, dir+"/"), "left mounted: %s", m.MountPoint)
	}
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		require.False(t, strings.HasPrefix(string(b), dir+"/"), "left attached: %s", b)
	}
	roots, _ := filepath.Glob(filepath.Join(dir, "svckit-spd-*"))
	require.Empty(t, roots)
	cli := testenv.Docker(t)
	list, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun+"="+filepath.Base(rep.Root))})
	require.NoError(t, err)
	require.Empty(t, list.Items)
}

// TestRealNeedsRoot checks the message that refuses -real to a non-root
// process (the program itself, when the test does not run as root).
func TestRealNeedsRoot(t *testing.T) {
	require.ErrorContains(t, canRealAs(1000), "-real needs root (network namespaces, netlink, loop devices, mount)")
	if os.Geteuid() != 0 {
		// The whole program says so and exits 2.
		var out, errb bytes.Buffer
		require.Equal(t, 2, run(context.Background(), []string{"-real"}, &out, &errb))
		require.Contains(t, errb.String(), "-real needs root")
	}
}

// TestRealRefusesFaults checks that -faults, which only the fakes honour,
// is refused with -real instead of being silently ignored.
func TestRealRefusesFaults(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"-real", "-faults", "container#16sm:start"}, &out, &errb))
	require.Contains(t, errb.String(), "-faults makes fake drivers fail, and with -real every resource of the service runs a real driver: use one or the other")
}
