package gcetest_test

import (
	"context"
	"fmt"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
)

// A fake project with two nodes: the real compute client creates a disk,
// attaches it to the node it runs on (found through that node's metadata
// server), and the test reads the fake's state.
func Example() {
	s := gcetest.NewServer("my-project", "europe-west1-b")
	defer s.Close()
	node := s.AddInstance("spd01")
	s.AddInstance("spd02")
	s.FailRequests("POST", "/attachDisk", 503, 2) // retried by the client

	ctx := context.Background()
	c, err := gcec.NewClient(ctx, gcec.NewOptions(gcec.WithEndpoint(s.URL), gcec.WithMetadataHost(node.MetadataHost)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	loc, err := c.Resolve(ctx, gcec.Location{})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = c.InsertDisk(ctx, loc.Project, loc.Zone, &computepb.Disk{Name: proto.String("data1"), SizeGb: proto.Int64(17)})
	if err == nil {
		err = c.AttachDisk(ctx, loc.Project, loc.Zone, loc.Instance, "data1", "svc.disk.01.0")
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := s.Disk("data1")
	fmt.Println(loc.Instance, d.GetSizeGb(), s.AttachedTo("data1"))
	// Output: spd01 17 [spd01]
}
