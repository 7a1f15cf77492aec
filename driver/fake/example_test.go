package fake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
)

// restartPod is a user's tool under test: it restarts the resources of a
// pod (those tagged with the pod's name), stopping them in the reverse
// order of the groups and starting them in group order.
func restartPod(ctx context.Context, rs []resource.Resource, pod string) error {
	rank := map[string]int{"ip": 0, "disk": 1, "fs": 2, "container": 3}
	var sel []resource.Resource
	for _, r := range rs {
		if resource.HasTag(r, pod) {
			sel = append(sel, r)
		}
	}
	// ip.docker lives in its container: it starts after it.
	key := func(r resource.Resource) int {
		if r.DriverID() == "ip.docker" {
			return 4
		}
		return rank[resource.Group(r.RID())]
	}
	sort.SliceStable(sel, func(i, j int) bool { return key(sel[i]) < key(sel[j]) })
	for i := len(sel) - 1; i >= 0; i-- {
		if err := sel[i].Stop(ctx); err != nil {
			return err
		}
	}
	for _, r := range sel {
		if err := r.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// The fakes stand in for GCE disks, filesystems, Docker containers and
// addresses in a test of a user's tool: the tool runs against the real
// keyword manifests, the fakes check that it orders its actions the way
// the real drivers need, and a recorder tells what ran.
func Example() {
	ctx := context.Background()
	varDir, _ := os.MkdirTemp("", "spdsvc01")
	defer os.RemoveAll(varDir)

	rec := fake.NewRecorder()
	reg := fake.Registry(fake.Options{Recorder: rec})

	// Sections as svc.Load gives them to the factories.
	sections := map[string]map[string]string{
		"disk#01":        {"type": "gce", "names": "spdsvc01-pod1", "tags": "pod01"},
		"fs#01":          {"type": "ext4", "dev": "/dev/disk/by-id/google-spdsvc01.disk.01.0", "mnt": "/spdsvc01/pod01", "tags": "pod01"},
		"container#01db": {"type": "docker", "run_image": "mariadb", "run_args": "--net=none -v /spdsvc01/pod01/db/data:/var/lib/mysql", "tags": "pod01"},
		"ip#01db":        {"type": "docker", "ipname": "10.0.0.34", "netmask": "24", "ipdev": "br0", "container_rid": "container#01db", "tags": "pod01"},
	}
	var config func(rid string) (driver.Config, bool)
	config = func(rid string) (driver.Config, bool) {
		v, ok := sections[rid]
		if !ok {
			return driver.Config{}, false
		}
		d, _ := reg.Lookup(resource.Group(rid) + "." + v["type"])
		return driver.Config{RID: rid, Manifest: d.Manifest, Svcname: "spdsvc01", Nodename: "spd01",
			VarDir: varDir, Values: v, Section: config}, true
	}
	var rs []resource.Resource
	for _, rid := range []string{"container#01db", "disk#01", "fs#01", "ip#01db"} {
		cfg, _ := config(rid)
		d, _ := reg.Lookup(cfg.Manifest.ID)
		r, err := d.New(ctx, cfg)
		if err != nil {
			fmt.Println(err)
			return
		}
		rs = append(rs, r)
	}

	// Starting the container first fails as it would on a real host: its
	// bind mount source is on a filesystem that is not mounted.
	fmt.Println(rs[0].Start(ctx))

	if err := restartPod(ctx, rs, "pod01"); err != nil {
		fmt.Println("restart:", err)
		return
	}
	for _, c := range rec.Actions("start") {
		if c.Err == "" {
			fmt.Println("started", c.RID)
		}
	}
	for _, r := range rs {
		st, _ := r.Status(ctx)
		fmt.Printf("%-15s %-4s %s\n", r.RID(), st, r.Label())
	}
	// Output:
	// container#01db: start: fs#01 (providing /spdsvc01/pod01/db/data) is not up: ordering violation
	// started disk#01
	// started fs#01
	// started container#01db
	// started ip#01db
	// container#01db  up   717045ad6ef8@mariadb
	// disk#01         up   gce volumes spdsvc01-pod1
	// fs#01           up   /dev/disk/by-id/google-spdsvc01.disk.01.0@/spdsvc01/pod01
	// ip#01db         up   10.0.0.34@br0@717045ad6ef8
}

// Faults test how a tool handles failures: here the second start of any
// disk fails.
func Example_faults() {
	ctx := context.Background()
	reg := fake.Registry(fake.Options{Faults: []fake.Fault{
		{RID: "disk#*", Action: fake.ActionStart, Nth: 2, Message: "quota exceeded"},
	}})
	d, _ := reg.Lookup("disk.gce")
	// Without VarDir the state stays in the registry's memory.
	disk, _ := d.New(ctx, driver.Config{RID: "disk#01", Manifest: d.Manifest, Svcname: "svc1",
		Values: map[string]string{"names": "svc1-data"}})
	for i := 1; i <= 3; i++ {
		err := disk.Start(ctx)
		fmt.Printf("start %d: %v (injected: %v)\n", i, err, errors.Is(err, fake.ErrInjected))
	}
	// Output:
	// start 1: <nil> (injected: false)
	// start 2: disk#01: start: quota exceeded: injected fault (injected: true)
	// start 3: <nil> (injected: false)
}
