package gce_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
)

// One client attaching many disks to an instance at once issues them one
// at a time: none meets RESOURCE_NOT_READY (GCE runs one disk operation
// per instance), so none spends its attempts, and every disk ends
// attached. Before, nine concurrent attaches on the model failed after
// four attempts each.
func TestAttachesOfOneInstanceQueue(t *testing.T) {
	s := gcetest.NewServer(project, zone)
	defer s.Close()
	m := gcetest.Model{AttachDisk: 20 * time.Millisecond, DetachDisk: 20 * time.Millisecond}
	s.SetModel(&m)
	in := s.AddInstance("vm1")
	s.AddInstance("vm2")
	c := newClient(t, s, in.MetadataHost)
	var wg sync.WaitGroup
	errs := make([]error, 9)
	for i := range errs {
		s.CreateDisk(fmt.Sprintf("d%d", i), 10)
		wg.Go(func() {
			errs[i] = c.AttachDisk(t.Context(), project, zone, "vm1", fmt.Sprintf("d%d", i), fmt.Sprintf("dev%d", i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err)
		require.Equal(t, []string{"vm1"}, s.AttachedTo(fmt.Sprintf("d%d", i)))
	}
	require.Zero(t, s.Stats().NotReady)

	// Another instance does not wait for vm1, and a wait ends with ctx.
	s.CreateDisk("x", 10)
	m.AttachDisk = time.Hour
	s.SetModel(&m)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	go func() { _ = c.AttachDisk(ctx, project, zone, "vm2", "x", "x") }()
	require.Eventually(t, func() bool { return s.CountCalls("POST", "/vm2/attachDisk") == 1 }, 5*time.Second, time.Millisecond)
	err := c.DetachDisk(ctx, project, zone, "vm2", "persistent-disk-0")
	var ge *gce.Error
	require.ErrorAs(t, err, &ge)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "wait for the other disk operations of instance vm2")
	require.Zero(t, s.CountCalls("POST", "/vm2/detachDisk"), "the detach waited its turn, never issued")
}

// A client waits for an operation with one operations.wait request, which
// answers when it is done; a server without operations.wait is polled.
func TestOperationWaitAndPollFallback(t *testing.T) {
	for _, tc := range []struct {
		name      string
		noWait    bool
		wantPolls bool
	}{
		{"operations.wait", false, false},
		{"no operations.wait: polled", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := gcetest.NewServer(project, zone)
			defer s.Close()
			s.AddInstance("vm1")
			s.SetOperationTime(30 * time.Millisecond)
			if tc.noWait {
				s.FailRequests("POST", "/wait", 404, 1000)
			}
			c := newClient(t, s, "")
			require.NoError(t, c.InsertDisk(t.Context(), project, zone, &computepb.Disk{Name: proto.String("d1")}))
			require.NoError(t, c.AttachDisk(t.Context(), project, zone, "vm1", "d1", "dev1"))
			require.NoError(t, c.InsertRoute(t.Context(), project, &computepb.Route{Name: proto.String("r1"), DestRange: proto.String("10.0.0.1/32"),
				NextHopInstance: proto.String(gce.InstanceLink(project, zone, "vm1"))}))
			require.Equal(t, []string{"vm1"}, s.AttachedTo("d1"))
			_, ok := s.Route("r1")
			require.True(t, ok)
			polls := s.CountCalls("GET", "/operations/")
			if tc.wantPolls {
				require.Positive(t, polls)
				return
			}
			require.Zero(t, polls)
			require.Equal(t, 2, s.CountCalls("POST", "/zones/"+zone+"/operations/"), "one wait per zonal operation")
			require.Equal(t, 1, s.CountCalls("POST", "/global/operations/"), "one wait for the route")
		})
	}
}

// An operation that fails while the client waits is reported with its
// error, and a wait ends with the context.
func TestOperationWaitErrorsAndContext(t *testing.T) {
	s := gcetest.NewServer(project, zone)
	defer s.Close()
	s.AddInstance("vm1")
	s.SetOperationTime(20 * time.Millisecond)
	s.FailOperations(gcetest.OperationFault{Type: "insert", Code: "QUOTA_EXCEEDED", Message: "Quota 'DISKS_TOTAL_GB' exceeded."})
	c := newClient(t, s, "")
	err := c.InsertDisk(t.Context(), project, zone, &computepb.Disk{Name: proto.String("d1")})
	var oe *gce.OperationError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "QUOTA_EXCEEDED", oe.Errors[0].Code)

	s.SetOperationTime(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err = c.InsertDisk(ctx, project, zone, &computepb.Disk{Name: proto.String("d2")})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "waiting for operation")
}
