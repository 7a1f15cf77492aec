package gce_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
		wg.Go(func() { errs[i] = c.AttachDisk(t.Context(), project, zone, "vm1", fmt.Sprintf("d%d", i), fmt.Sprintf("dev%d", i)) })
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
