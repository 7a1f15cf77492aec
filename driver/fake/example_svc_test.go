package fake_test

import (
	"context"
	"fmt"
	"os"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// A service on fakes: a fault fails the container's start, the service
// rolls back what it started, and the recorder tells in which order.
func Example_service() {
	ctx := context.Background()
	conf := []byte(`
[DEFAULT]
nodes = n1

[disk#1]
type = gce
names = {svcname}-data

[fs#1]
type = ext4
dev = /dev/disk/by-id/google-{svcname}.disk.1.0
mnt = /srv/{svcname}

[container#1]
type = docker
run_image = mariadb
run_args = -v /srv/{svcname}/data:/var/lib/mysql

[ip#1]
type = docker
ipname = 10.0.0.10
netmask = 24
ipdev = br0
container_rid = container#1
`)
	varDir, _ := os.MkdirTemp("", "svckit-example")
	defer os.RemoveAll(varDir)
	rec := fake.NewRecorder()
	reg := fake.Registry(fake.Options{
		Recorder: rec,
		Faults:   []fake.Fault{{RID: "container#1", Action: fake.ActionStart, Message: "image not found"}},
	})
	s, err := svc.Parse(ctx, "db.conf", conf, svc.Options{Node: "n1", Registry: reg, VarDir: varDir})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Start(ctx, svc.ActionOptions{})
	fmt.Println(err)
	for _, c := range rec.Calls() {
		if c.Action == fake.ActionStatus || c.RID == "sync#i0" {
			continue
		}
		if c.Err != "" {
			fmt.Println(c.Action, c.RID, "failed:", c.Err)
		} else {
			fmt.Println(c.Action, c.RID)
		}
	}
	// Output:
	// db start failed: container#1: start: image not found: injected fault; rolled back: disk#1 fs#1
	// start disk#1
	// start fs#1
	// start container#1 failed: container#1: start: image not found: injected fault
	// stop fs#1
	// stop disk#1
}
