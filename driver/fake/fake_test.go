package fake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/ip"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/resource"
)

func TestRegistryHasEveryStandardManifest(t *testing.T) {
	reg := fake.Registry(fake.Options{})
	var want []driver.Manifest
	for _, l := range [][]driver.Manifest{disk.Manifests(), fs.Manifests(), ip.Manifests(), container.Manifests(), syncdrv.Manifests()} {
		want = append(want, l...)
	}
	var ids []string
	for _, m := range want {
		d, ok := reg.Lookup(m.ID)
		require.True(t, ok, m.ID)
		requireSameManifest(t, m, d.Manifest, "the fake of %s must validate like the real driver", m.ID)
		ids = append(ids, m.ID)
	}
	require.ElementsMatch(t, ids, reg.IDs())
	for _, id := range []string{"disk.gce", "disk.loop", "fs.ext4", "fs.xfs", "fs.btrfs", "ip.host", "ip.gce", "ip.docker", "container.docker", "sync.rsync"} {
		require.Contains(t, reg.IDs(), id)
	}
}

func TestBuildEveryType(t *testing.T) {
	cid := func(rid string) string { return fake.ContainerID("spdsvc01", rid)[:12] }
	tests := []struct {
		rid, driverID string
		kv            []string
		label         string
		provides      []string
		uses          []string
		byGroup       bool // resource.OrderByGroup: uses ignored
		status        string
	}{
		{
			rid: "disk#00", driverID: "disk.gce", kv: []string{"names", "spdsvc01-spd01", "always_on", "nodes"},
			label:    "gce volumes spdsvc01-spd01",
			provides: []string{"/dev/disk/by-id/google-spdsvc01.disk.00.0"},
			status:   "stdby down",
		},
		{
			rid: "disk#05", driverID: "disk.gce", kv: []string{"names", "spdsvc01-pod5a spdsvc01-pod5b"},
			label:    "gce volumes spdsvc01-pod5a spdsvc01-pod5b",
			provides: []string{"/dev/disk/by-id/google-spdsvc01.disk.05.0", "/dev/disk/by-id/google-spdsvc01.disk.05.1"},
			status:   "down",
		},
		{
			rid: "disk#lo", driverID: "disk.loop", kv: []string{"file", "/srv/spdsvc01/disk.img", "size", "1g"},
			label: "loop /srv/spdsvc01/disk.img", provides: []string{}, uses: []string{"/srv/spdsvc01/disk.img"}, status: "down",
		},
		{
			rid: "fs#00", driverID: "fs.btrfs", kv: []string{"dev", "LABEL=spdsvc01", "mnt", "/spdsvc01"},
			label: "LABEL=spdsvc01@/spdsvc01", provides: []string{"/spdsvc01"}, byGroup: true, status: "down",
		},
		{
			rid: "fs#0u", driverID: "fs.xfs", kv: []string{"dev", "UUID=0b7c-11", "mnt", "/data"},
			label: "UUID=0b7c-11@/data", provides: []string{"/data"}, byGroup: true, status: "down",
		},
		{
			rid: "fs#01", driverID: "fs.ext4", kv: []string{"dev", "/dev/disk/by-id/google-spdsvc01.disk.01.0", "mnt", "/spdsvc01/pod01/"},
			label:    "/dev/disk/by-id/google-spdsvc01.disk.01.0@/spdsvc01/pod01",
			provides: []string{"/spdsvc01/pod01"},
			uses:     []string{"/dev/disk/by-id/google-spdsvc01.disk.01.0", "/spdsvc01"},
			status:   "down",
		},
		{
			rid: "ip#01smg", driverID: "ip.gce", kv: []string{"ipname", "10.0.0.33", "ipdev", "br0", "routename", "rt-ip33"},
			label: "gce ip 10.0.0.33@br0", provides: []string{}, status: "down",
		},
		{
			rid: "ip#01sm", driverID: "ip.docker", kv: []string{"ipname", "10.0.0.33", "netmask", "24", "ipdev", "br0", "container_rid", "container#01sm"},
			label: "10.0.0.33@br0@" + cid("container#01sm"), provides: []string{}, uses: []string{"rid:container#01sm"}, status: "down",
		},
		{
			rid: "ip#vip", driverID: "ip.host", kv: []string{"ipname", "192.168.1.10", "ipdev", "eth0", "netmask", "24"},
			label: "192.168.1.10@eth0", provides: []string{}, status: "down",
		},
		{
			rid: "container#01sm", driverID: "container.docker", kv: []string{"run_image", "tanji/spdc", "run_args",
				"--net=none\n  -e MYSQL_ROOT_PASSWORD=pw\n  -v /etc/localtime:/etc/localtime:ro\n  --volume /spdsvc01/pod01/sm/data:/var/lib/mysql:rw\n" +
					"  --volume=/spdsvc01/pod01/sm/conf:/etc/mysql/conf.d\n  -v named:/cache\n  --mount type=bind,source=/spdsvc01/pod01/sm/init,target=/init\n" +
					"  --mount type=volume,source=vol,target=/vol\n  -v 'relative:/x'"},
			label:    cid("container#01sm") + "@tanji/spdc",
			provides: []string{},
			uses: []string{"/etc/localtime", "/spdsvc01/pod01/sm/data", "/spdsvc01/pod01/sm/conf",
				"/spdsvc01/pod01/sm/init", "/spdsvc01/docker", "rid:container#dockerd"},
			status: "down",
		},
		{
			rid: "sync#i0", driverID: "sync.rsync", kv: []string{"target", "nodes drpnodes"},
			label: "rsync svc config to drpnodes, nodes", provides: []string{}, status: "up",
		},
		{
			rid: "sync#1", driverID: "sync.rsync", kv: []string{"src", "/etc/x"},
			label: "rsync svc config to nodes", provides: []string{}, status: "up",
		},
	}
	for _, tt := range tests {
		t.Run(tt.rid, func(t *testing.T) {
			reg := fake.Registry(fake.Options{})
			f := newFixture(t.TempDir())
			f.add(tt.rid, tt.driverID, tt.kv...)
			if tt.rid != "container#01sm" {
				f.add("container#01sm", "container.docker", "run_image", "tanji/spdc")
			}
			r := asFake(t, f.buildOne(t, reg, tt.rid))
			require.Equal(t, tt.rid, r.RID())
			require.Equal(t, tt.driverID, r.DriverID())
			require.Equal(t, tt.label, r.Label())
			require.Equal(t, tt.provides, r.Provides())
			uses, order := r.Uses()
			if tt.byGroup {
				require.Equal(t, resource.OrderByGroup, order, "a resource that cannot tell its uses is ordered by group")
			} else {
				require.Equal(t, resource.OrderByUses, order)
				if len(tt.uses) == 0 {
					require.Empty(t, uses, "ordered by uses, using nothing: depends on nothing")
				} else {
					require.Equal(t, tt.uses, uses)
				}
			}
			require.Equal(t, tt.status, status(t, r))
			require.NotContains(t, r.Label(), "MYSQL_ROOT_PASSWORD")
		})
	}
}

func TestSeedLabelsMatchPrintStatus(t *testing.T) {
	// The labels of the seed's print status (spdsvc01 on spd01); container
	// ids are the fakes' own.
	reg := fake.Registry(fake.Options{})
	rs := seedFixture(t.TempDir()).build(t, reg)
	short := func(rid string) string { return fake.ContainerID("spdsvc01", rid)[:12] }
	want := map[string]string{
		"ip#01db":        "10.0.0.34@br0@" + short("container#01db"),
		"ip#01dbg":       "gce ip 10.0.0.34@br0",
		"ip#01sm":        "10.0.0.33@br0@" + short("container#01sm"),
		"ip#01smg":       "gce ip 10.0.0.33@br0",
		"ip#02db":        "10.0.0.36@br0@" + short("container#02db"),
		"disk#00":        "gce volumes spdsvc01-spd01",
		"disk#01":        "gce volumes spdsvc01-pod1",
		"disk#02":        "gce volumes spdsvc01-pod2",
		"fs#00":          "LABEL=spdsvc01@/spdsvc01",
		"fs#01":          "/dev/disk/by-id/google-spdsvc01.disk.01.0@/spdsvc01/pod01",
		"container#01db": short("container#01db") + "@mariadb",
		"container#01sm": short("container#01sm") + "@tanji/spdc",
		"sync#i0":        "rsync svc config to drpnodes, nodes",
	}
	for rid, label := range want {
		require.Equal(t, label, rs[rid].Label(), rid)
	}
	require.Regexp(t, `^[0-9a-f]{12}@mariadb$`, rs["container#01db"].Label())
	require.NotEqual(t, short("container#01db"), short("container#02db"))
	require.Equal(t, fake.ContainerID("spdsvc01", "container#01db"), asFake(t, rs["container#01db"]).ContainerID())
}

func TestFactoryErrors(t *testing.T) {
	tests := []struct {
		name    string
		rid, id string
		kv      []string
		want    string
	}{
		{"container_rid names no section", "ip#01sm", "ip.docker",
			[]string{"ipname", "10.0.0.33", "netmask", "24", "ipdev", "br0", "container_rid", "container#99"},
			"container_rid: container#99 is not a section of service spdsvc01"},
		{"container_rid names a disk", "ip#01sm", "ip.docker",
			[]string{"ipname", "10.0.0.33", "netmask", "24", "ipdev", "br0", "container_rid", "disk#01"},
			`container_rid: "disk#01": expected the rid of a container section`},
		{"unbalanced quote in run_args", "container#01", "container.docker",
			[]string{"run_image", "mariadb", "run_args", "-e MYSQL_ROOT_PASSWORD='s3cr3t -v /a:/b"},
			"run_args: cannot split into words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := fake.Registry(fake.Options{})
			f := newFixture(t.TempDir())
			f.add("disk#01", "disk.gce", "names", "d1")
			f.add(tt.rid, tt.id, tt.kv...)
			cfg := f.config(t, reg, tt.rid)
			d, _ := reg.Lookup(tt.id)
			_, err := d.New(context.Background(), cfg)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "s3cr3t", "no secret in errors")
		})
	}
}

func TestStatePersistsAcrossRegistries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := seedFixture(dir)

	// "process" one: provision and start pod 01.
	rs1 := f.build(t, fake.Registry(fake.Options{}))
	for _, rid := range podStartOrder("01") {
		require.NoError(t, rs1[rid].(resource.Provisioner).Provision(ctx), rid)
		require.NoError(t, rs1[rid].Start(ctx), rid)
	}

	// "process" two sees it.
	rs2 := f.build(t, fake.Registry(fake.Options{}))
	for _, rid := range podStartOrder("01") {
		want := "up"
		if rid == "disk#00" || rid == "disk#01" {
			want = "stdby up" // always_on = nodes
		}
		require.Equal(t, want, status(t, rs2[rid]), rid)
		ok, err := rs2[rid].(resource.ProvisionChecker).Provisioned(ctx)
		require.NoError(t, err)
		require.True(t, ok, rid)
	}
	require.Equal(t, "down", status(t, rs2["fs#02"]))

	// The state file is JSON in <VarDir>/fake/<rid>.json.
	b, err := os.ReadFile(filepath.Join(dir, "fake", "container#01db.json"))
	require.NoError(t, err)
	var st fake.State
	require.NoError(t, json.Unmarshal(b, &st))
	require.Equal(t, "container#01db", st.RID)
	require.Equal(t, "container.docker", st.Driver)
	require.True(t, st.Up)
	require.True(t, st.Provisioned)
	require.Equal(t, fake.ContainerID("spdsvc01", "container#01db"), st.ContainerID)
	entries, err := os.ReadDir(filepath.Join(dir, "fake"))
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), "."), "temporary file left: %s", e.Name())
	}

	// process two stops the pod (ordering checked against the files
	// process one wrote), process one sees it down.
	for _, rid := range reversed(podStartOrder("01")) {
		require.NoError(t, rs2[rid].Stop(ctx), rid)
	}
	require.Equal(t, "down", status(t, rs1["fs#01"]))
	require.Equal(t, "stdby down", status(t, rs1["disk#01"]))
}

func TestMemoryStateWithoutVarDir(t *testing.T) {
	ctx := context.Background()
	f := newFixture("")
	f.add("disk#01", "disk.gce", "names", "d1")
	reg := fake.Registry(fake.Options{})
	r1 := f.buildOne(t, reg, "disk#01")
	require.NoError(t, r1.Start(ctx))
	// The same registry (the same process) sees it...
	require.Equal(t, "up", status(t, f.buildOne(t, reg, "disk#01")))
	// ... another one does not: there is nowhere to share it.
	require.Equal(t, "down", status(t, f.buildOne(t, fake.Registry(fake.Options{}), "disk#01")))
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults []fake.Fault
		rid    string
		action string
		calls  int
		failAt []int // 1-based calls expected to fail
		msg    string
	}{
		{"nth start only", []fake.Fault{{RID: "fs#01", Action: "start", Nth: 2}}, "fs#01", "start", 4, []int{2}, "start call #2"},
		{"every stop", []fake.Fault{{RID: "fs#01", Action: "stop"}}, "fs#01", "stop", 3, []int{1, 2, 3}, "stop call #"},
		{"glob rid and message", []fake.Fault{{RID: "fs#0?", Action: "provision", Nth: 1, Message: "mkfs: device busy"}}, "fs#01", "provision", 2, []int{1}, "mkfs: device busy"},
		{"other rid unaffected", []fake.Fault{{RID: "fs#02", Action: "start"}}, "fs#01", "start", 2, nil, ""},
		{"other action unaffected", []fake.Fault{{RID: "fs#01", Action: "stop", Nth: 1}}, "fs#01", "start", 2, nil, ""},
		{"any action", []fake.Fault{{RID: "fs#01", Action: "*", Nth: 3}}, "fs#01", "start", 3, []int{3}, "start call #3"},
		{"status", []fake.Fault{{RID: "fs#*", Action: "status", Nth: 2}}, "fs#01", "status", 3, []int{2}, "status call #2"},
		{"other node", []fake.Fault{{RID: "fs#01", Action: "start", Node: "spd02"}}, "fs#01", "start", 2, nil, ""},
		{"this node", []fake.Fault{{RID: "fs#01", Action: "start", Node: "spd0[1-2]", Nth: 1}}, "fs#01", "start", 2, []int{1}, "start call #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t.TempDir())
			f.add("fs#01", "fs.ext4", "dev", "/dev/sdb", "mnt", "/srv/a")
			rec := fake.NewRecorder()
			reg := fake.Registry(fake.Options{Faults: tt.faults, Recorder: rec})
			r := f.buildOne(t, reg, tt.rid)
			call := func() error {
				switch tt.action {
				case "start":
					return r.Start(ctx)
				case "stop":
					return r.Stop(ctx)
				case "provision":
					return r.(resource.Provisioner).Provision(ctx)
				case "status":
					_, err := r.Status(ctx)
					return err
				}
				t.Fatalf("action %s", tt.action)
				return nil
			}
			var failed []int
			for i := 1; i <= tt.calls; i++ {
				if err := call(); err != nil {
					require.ErrorIs(t, err, fake.ErrInjected)
					require.ErrorContains(t, err, tt.rid+": "+tt.action+": "+tt.msg)
					var rerr *resource.Error
					require.True(t, errors.As(err, &rerr))
					require.Equal(t, tt.rid, rerr.RID)
					failed = append(failed, i)
				}
			}
			require.Equal(t, tt.failAt, failed)
			var recorded []int
			for i, c := range rec.Find(tt.rid, tt.action) {
				if c.Err != "" {
					recorded = append(recorded, i+1)
				}
			}
			require.Equal(t, tt.failAt, recorded, "the recorder has the errors")
		})
	}
}

func TestFaultCountersBelongToTheRegistry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(dir)
	f.add("disk#01", "disk.gce", "names", "d1")
	opts := fake.Options{Faults: []fake.Fault{{RID: "disk#01", Action: "start", Nth: 1}}}
	for range 2 { // two processes: each fails its own first start
		r := f.buildOne(t, fake.Registry(opts), "disk#01")
		require.ErrorIs(t, r.Start(ctx), fake.ErrInjected)
		require.NoError(t, r.Start(ctx))
		require.NoError(t, r.Stop(ctx))
	}
	// Two resources of one registry for the same rid (a reload) share the
	// counter.
	reg := fake.Registry(opts)
	require.ErrorIs(t, f.buildOne(t, reg, "disk#01").Start(ctx), fake.ErrInjected)
	require.NoError(t, f.buildOne(t, reg, "disk#01").Start(ctx))
}

func TestFaultLeavesStateUnchanged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t.TempDir())
	f.add("disk#01", "disk.gce", "names", "d1")
	r := f.buildOne(t, fake.Registry(fake.Options{Faults: []fake.Fault{{RID: "disk#01", Action: "stop"}}}), "disk#01")
	require.NoError(t, r.Start(ctx))
	require.Error(t, r.Stop(ctx))
	require.Equal(t, "up", status(t, r))
}

func TestLatency(t *testing.T) {
	const lat = 30 * time.Millisecond
	tests := []struct {
		name   string
		opts   fake.Options
		action string
		min    time.Duration // the call takes at least this
		max    time.Duration // and this is far above what it takes
	}{
		{"default applies to start", fake.Options{Latency: lat}, "start", lat, time.Hour},
		{"default applies to provision", fake.Options{Latency: lat}, "provision", lat, time.Hour},
		{"not to status", fake.Options{Latency: time.Hour}, "status", 0, time.Minute},
		{"by action", fake.Options{Latency: time.Hour, LatencyOf: map[string]time.Duration{"start": lat}}, "start", lat, time.Minute},
		{"by driver beats action", fake.Options{LatencyOf: map[string]time.Duration{"start": time.Hour, "disk.gce": lat}}, "start", lat, time.Minute},
		{"driver:action beats driver", fake.Options{LatencyOf: map[string]time.Duration{"disk.gce": time.Hour, "disk.gce:start": lat}}, "start", lat, time.Minute},
		{"rid beats driver:action", fake.Options{LatencyOf: map[string]time.Duration{"disk.gce:start": time.Hour, "disk#01": lat}}, "start", lat, time.Minute},
		{"rid:action beats rid", fake.Options{LatencyOf: map[string]time.Duration{"disk#01": time.Hour, "disk#01:start": 0}}, "start", 0, time.Minute},
		{"status when asked", fake.Options{LatencyOf: map[string]time.Duration{"status": lat}}, "status", lat, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fake.NewRecorder()
			tt.opts.Recorder = rec
			f := newFixture(t.TempDir())
			f.add("disk#01", "disk.gce", "names", "d1")
			r := f.buildOne(t, fake.Registry(tt.opts), "disk#01")
			ctx, cancel := context.WithTimeout(context.Background(), tt.max)
			defer cancel()
			var err error
			switch tt.action {
			case "start":
				err = r.Start(ctx)
			case "provision":
				err = r.(resource.Provisioner).Provision(ctx)
			case "status":
				_, err = r.Status(ctx)
			}
			require.NoError(t, err)
			calls := rec.Find("disk#01", tt.action)
			require.Len(t, calls, 1)
			require.GreaterOrEqual(t, calls[0].Duration(), tt.min)
		})
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	f := newFixture(t.TempDir())
	f.add("disk#01", "disk.gce", "names", "d1")
	r := f.buildOne(t, fake.Registry(fake.Options{Latency: time.Hour}), "disk#01")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := r.Start(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "disk#01: start:")
	require.Equal(t, "down", status(t, r), "a cancelled start changes nothing")

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	require.ErrorIs(t, r.Stop(canceled), context.Canceled)
}

func TestRecorder(t *testing.T) {
	ctx := context.Background()
	rec := fake.NewRecorder()
	f := seedFixture(t.TempDir())
	f.node = "spd01"
	rs := f.build(t, fake.Registry(fake.Options{Latency: 2 * time.Millisecond, Recorder: rec}))
	order := podStartOrder("01")
	for _, rid := range order {
		require.NoError(t, rs[rid].Start(ctx))
	}
	_, err := rs["fs#02"].Status(ctx)
	require.NoError(t, err)
	require.ErrorIs(t, rs["disk#01"].Stop(ctx), fake.ErrOrder, "fs#01 is up")
	require.NoError(t, rs["ip#01sm"].Start(resource.WithDryRun(ctx, true)))

	starts := rec.Actions("start")
	require.Len(t, starts, len(order), "the dry run is not among the actions")
	for i, c := range starts {
		require.Equal(t, order[i], c.RID)
		require.Equal(t, "spd01", c.Node)
		require.Equal(t, "spdsvc01", c.Service)
		require.Empty(t, c.Err)
		require.False(t, c.Start.After(c.End))
		require.GreaterOrEqual(t, c.Duration(), 2*time.Millisecond)
		if i > 0 {
			require.False(t, c.Start.Before(starts[i-1].End), "%s started before %s ended", c.RID, starts[i-1].RID)
		}
	}
	require.Equal(t, "fs.ext4", starts[5].DriverID)

	stops := rec.Find("disk#01", "stop")
	require.Len(t, stops, 1)
	require.Contains(t, stops[0].Err, "fs#01")
	dry := rec.Find("ip#01sm", "start")
	require.Len(t, dry, 2)
	require.True(t, dry[1].DryRun)
	require.Len(t, rec.Find("fs#02", "status"), 1)

	all := rec.Calls()
	require.Len(t, all, len(order)+3)
	for i := 1; i < len(all); i++ {
		require.False(t, all[i].Start.Before(all[i-1].Start), "Calls are in start order")
	}
	rec.Reset()
	require.Empty(t, rec.Calls())
}

func TestRecorderConcurrent(t *testing.T) {
	// Pods start concurrently (as the graph scheduler runs them); the
	// ordering checks and the recorder must hold under the race detector.
	ctx := context.Background()
	rec := fake.NewRecorder()
	f := newFixture(t.TempDir())
	f.add("disk#00", "disk.gce", "names", "spdsvc01-spd01")
	f.add("fs#00", "fs.btrfs", "dev", "LABEL=spdsvc01", "mnt", "/spdsvc01")
	const pods = 8
	for pod := 1; pod <= pods; pod++ {
		f.addPod(pod, false)
	}
	rs := f.build(t, fake.Registry(fake.Options{Latency: time.Millisecond, Recorder: rec}))
	require.NoError(t, rs["disk#00"].Start(ctx))
	require.NoError(t, rs["fs#00"].Start(ctx))
	var wg sync.WaitGroup
	errs := make(chan error, pods)
	for pod := 1; pod <= pods; pod++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, rid := range podStartOrder(pad(pod))[2:] {
				if err := rs[rid].Start(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, rec.Actions("start"), 2+pods*8)
	for rid, r := range rs {
		require.True(t, strings.HasSuffix(status(t, r), "up"), rid)
	}
}

func pad(pod int) string { return fmt.Sprintf("%02d", pod) }

// requireSameManifest compares manifests but for their Spec, a func that
// only identity compares: both must have one or neither.
func requireSameManifest(t *testing.T, want, got driver.Manifest, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want.Spec == nil, got.Spec == nil, msgAndArgs...)
	want.Spec, got.Spec = nil, nil
	require.Equal(t, want, got, msgAndArgs...)
}
