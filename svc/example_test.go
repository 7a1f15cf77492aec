package svc_test

import (
	"context"
	"fmt"
	"os"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// Load a configuration for one node, start it on fake drivers and print
// the reference's status tree.
func Example() {
	ctx := context.Background()
	conf := []byte(`
[DEFAULT]
nodes = n1 n2
show_disabled = false

[disk#1]
type = gce
names = {svcname}-data
size = 10g

[fs#1]
type = ext4
dev = /dev/disk/by-id/google-{svcname}.disk.1.0
mnt = /srv/{svcname}

[container#1]
type = docker
run_image = nginx
run_args = -v /srv/{svcname}/www:/usr/share/nginx/html:ro
    -e DB_PASSWORD=hunter2
disable@n2 = true
`)
	varDir, _ := os.MkdirTemp("", "svckit-example")
	defer os.RemoveAll(varDir)
	s, err := svc.Parse(ctx, "web.conf", conf, svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), VarDir: varDir})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := s.Start(ctx, svc.ActionOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("plan:", res.Plan)
	fmt.Print(s.Status(ctx).Render(svc.StatusOptions{ShowDisabled: s.ShowDisabled()}))
	// Output:
	// plan: [[disk#1 sync#i0] [fs#1] [container#1]]
	// web
	// overall                   up
	// |- avail                  up
	// |  |- disk#1         .... up         gce volumes web-data
	// |  |- fs#1           .... up         /dev/disk/by-id/google-web.disk.1.0@/srv/web
	// |  '- container#1    .... up         f374df2f6c50@nginx
	// '- accessory
	//    '- sync#i0        .... up         rsync svc config to drpnodes, nodes
}

// Validation reports every problem at once, with its line.
func ExampleParse_validation() {
	conf := []byte(`[DEFAULT]
nodes = n1

[fs#1]
type = ext5
dev = /dev/sdb

[disk#1]
type = loop
file = /srv/a.img
size = 17x
sise = 1g
`)
	_, err := svc.Parse(context.Background(), "bad.conf", conf, svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{})})
	fmt.Println(err)
	// Output:
	// invalid configuration: 3 problems:
	//   bad.conf:5: [fs#1] type: unknown driver type "ext5" for group fs: expected one of btrfs, ext4, xfs
	//   bad.conf:11: [disk#1] size: bad value: "17x" is not a size: expected a number with an optional unit (k, m, g, t), like 17g
	//   bad.conf:12: [disk#1] sise: unknown keyword sise: did you mean size?
}
