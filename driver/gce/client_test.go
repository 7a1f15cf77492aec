package gce_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
)

const (
	project = "svckit-test"
	zone    = "europe-west1-b"
)

func newClient(t *testing.T, s *gcetest.Server, md string) *gce.Client {
	t.Helper()
	c, err := gce.NewClient(context.Background(), gce.NewOptions(
		gce.WithEndpoint(s.URL),
		gce.WithMetadataHost(md),
		gce.WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond),
		gce.WithPollInterval(5*time.Millisecond, 50*time.Millisecond),
	))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newServer(t *testing.T) *gcetest.Server {
	s := gcetest.NewServer(project, zone)
	t.Cleanup(s.Close)
	return s
}

func TestResolveFromMetadata(t *testing.T) {
	s := newServer(t)
	n1 := s.AddInstance("spd01")
	c := newClient(t, s, n1.MetadataHost)
	ctx := context.Background()

	loc, err := c.Resolve(ctx, gce.Location{})
	require.NoError(t, err)
	require.Equal(t, gce.Location{Project: project, Zone: zone, Instance: "spd01"}, loc)

	// Keywords win over the metadata server.
	loc, err = c.Resolve(ctx, gce.Location{Project: "other", Instance: "spd09"})
	require.NoError(t, err)
	require.Equal(t, gce.Location{Project: "other", Zone: zone, Instance: "spd09"}, loc)
}

func TestResolveWithoutMetadataServer(t *testing.T) {
	s := newServer(t)
	// A port nobody listens on: the lookup fails fast and says what to set.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())
	c := newClient(t, s, dead)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Resolve(ctx, gce.Location{Zone: zone, Instance: "spd01"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "gce_project is not set")
	require.Contains(t, err.Error(), dead)
}

func TestDiskLifecycle(t *testing.T) {
	s := newServer(t)
	s.AddInstance("spd01")
	s.AddInstance("spd02")
	c := newClient(t, s, "")
	ctx := context.Background()

	_, err := c.GetDisk(ctx, project, zone, "d1")
	require.True(t, gce.IsNotFound(err), "%v", err)
	var ae *apierror.APIError
	require.True(t, errors.As(err, &ae), "the cause is an *apierror.APIError: %T", errors.Unwrap(err))
	var ge *gce.Error
	require.True(t, errors.As(err, &ge))
	require.Equal(t, 404, ge.HTTPCode())

	require.NoError(t, c.InsertDisk(ctx, project, zone, &computepb.Disk{
		Name: proto.String("d1"), SizeGb: proto.Int64(17), Type: proto.String("projects/" + project + "/zones/" + zone + "/diskTypes/pd-ssd"),
	}))
	d, err := c.GetDisk(ctx, project, zone, "d1")
	require.NoError(t, err)
	require.EqualValues(t, 17, d.GetSizeGb())
	require.Equal(t, "pd-ssd", gce.LastSegment(d.GetType()))

	err = c.InsertDisk(ctx, project, zone, &computepb.Disk{Name: proto.String("d1"), SizeGb: proto.Int64(1)})
	require.True(t, gce.IsConflict(err), "%v", err)

	require.NoError(t, c.AttachDisk(ctx, project, zone, "spd01", "d1", "svc.disk.01.0"))
	require.Equal(t, []string{"spd01"}, s.AttachedTo("d1"))
	in, err := c.GetInstance(ctx, project, zone, "spd01")
	require.NoError(t, err)
	require.Len(t, in.GetDisks(), 2, "boot disk and d1")
	require.Equal(t, "svc.disk.01.0", in.GetDisks()[1].GetDeviceName())
	require.True(t, gce.SameResource(in.GetDisks()[1].GetSource(), gce.DiskLink(project, zone, "d1")))

	// In use: attach elsewhere and delete are refused with the API's words.
	err = c.AttachDisk(ctx, project, zone, "spd02", "d1", "x")
	require.Error(t, err)
	require.Contains(t, err.Error(), "already being used by")
	err = c.DeleteDisk(ctx, project, zone, "d1")
	require.Error(t, err)
	require.Equal(t, 400, gce.HTTPCode(err))

	require.NoError(t, c.DetachDisk(ctx, project, zone, "spd01", "svc.disk.01.0"))
	require.Empty(t, s.AttachedTo("d1"))
	require.NoError(t, c.DeleteDisk(ctx, project, zone, "d1"))
	_, ok := s.Disk("d1")
	require.False(t, ok)
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		code, times        int
	}{
		{"two 503 on insert", "POST", "/disks", 503, 2},
		{"three 429 on get", "GET", "/disks/", 429, 3},
		{"503 on operation wait", "POST", "/wait", 503, 2},
		{"500 on attach", "POST", "/attachDisk", 500, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			s.AddInstance("spd01")
			s.SetOperationTime(20 * time.Millisecond)
			c := newClient(t, s, "")
			ctx := context.Background()
			s.FailRequests(tc.method, tc.path, tc.code, tc.times)
			require.NoError(t, c.InsertDisk(ctx, project, zone, &computepb.Disk{Name: proto.String("d1"), SizeGb: proto.Int64(1)}))
			_, err := c.GetDisk(ctx, project, zone, "d1")
			require.NoError(t, err)
			require.NoError(t, c.AttachDisk(ctx, project, zone, "spd01", "d1", "dev1"))
			failed := 0
			for _, call := range s.Calls() {
				if call.Status == tc.code {
					failed++
				}
			}
			require.Equal(t, tc.times, failed, "every injected failure was answered and retried through")
		})
	}
}

func TestRetryBoundedByContext(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s, "")
	s.FailRequests("GET", "/disks/", 503, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetDisk(ctx, project, zone, "d1")
	require.Error(t, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded) || gce.HTTPCode(err) == 503, "%v", err)
}

// TestOperationErrors checks how a mutation whose operation fails is
// reported and when it is issued again: a transient error (the instance
// busy, a rate limit, 5xx) is retried with a new request id up to
// OperationAttempts times; a quota or validation error is not.
func TestOperationErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		code       string
		status     int
		fails      int
		wantCalls  int
		wantErr    string // "" for success
		attempts   int
		transient  bool
		attachedTo []string
	}{
		{name: "transient, error field only, then success", code: "RESOURCE_NOT_READY", fails: 2, wantCalls: 3, attachedTo: []string{"spd01"}},
		{name: "transient with http status, every attempt", code: "RESOURCE_NOT_READY", status: 412, fails: 10, wantCalls: 4,
			wantErr: "failed (412) after 4 attempts: RESOURCE_NOT_READY: disk d1 is not ready", attempts: 4, transient: true},
		{name: "5xx status is transient", code: "INTERNAL_ERROR", status: 503, fails: 1, wantCalls: 2, attachedTo: []string{"spd01"}},
		{name: "quota is not retried", code: "QUOTA_EXCEEDED", status: 403, fails: 1, wantCalls: 1,
			wantErr: "failed (403): QUOTA_EXCEEDED: disk d1 is not ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			s.AddInstance("spd01")
			c := newClient(t, s, "")
			ctx := context.Background()
			s.CreateDisk("d1", 1)
			s.FailOperations(gcetest.OperationFault{Type: "attachDisk", Match: "d1", Code: tc.code, Message: "disk d1 is not ready", HTTPStatus: tc.status, Times: tc.fails})
			err := c.AttachDisk(ctx, project, zone, "spd01", "d1", "dev1")
			require.Equal(t, tc.wantCalls, s.CountCalls("POST", "/instances/spd01/attachDisk"), "attach requests")
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, tc.attachedTo, s.AttachedTo("d1"))
				return
			}
			var oe *gce.OperationError
			require.True(t, errors.As(err, &oe), "%v", err)
			require.Equal(t, tc.status, oe.HTTPStatus)
			require.Equal(t, tc.attempts, oe.Attempts)
			require.Equal(t, tc.transient, oe.Transient())
			require.Contains(t, err.Error(), "gce: attach disk d1 to spd01 as dev1: operation ")
			require.Contains(t, err.Error(), tc.wantErr)
			require.Empty(t, s.AttachedTo("d1"), "a failed operation has no effect")
		})
	}
}

// TestOperationAttemptsOne checks that WithOperationAttempts(1) turns the
// retries off.
func TestOperationAttemptsOne(t *testing.T) {
	s := newServer(t)
	s.AddInstance("spd01")
	s.CreateDisk("d1", 1)
	c, err := gce.NewClient(context.Background(), gce.NewOptions(gce.WithEndpoint(s.URL), gce.WithPollInterval(0, 0), gce.WithOperationAttempts(1)))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s.FailOperations(gcetest.OperationFault{Type: "attachDisk", Match: "d1", Code: "RESOURCE_NOT_READY", Message: "busy"})
	err = c.AttachDisk(context.Background(), project, zone, "spd01", "d1", "dev1")
	require.ErrorContains(t, err, "RESOURCE_NOT_READY: busy")
	require.Equal(t, 1, s.CountCalls("POST", "/instances/spd01/attachDisk"))
}

func TestStuckDetachBoundedByContext(t *testing.T) {
	s := newServer(t)
	s.AddInstance("spd01")
	c := newClient(t, s, "")
	s.CreateDisk("d1", 1)
	require.NoError(t, c.AttachDisk(context.Background(), project, zone, "spd01", "d1", "dev1"))
	s.StickDisk("d1")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := c.DetachDisk(ctx, project, zone, "spd01", "dev1")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, []string{"spd01"}, s.AttachedTo("d1"))
	s.UnstickDisk("d1")
	require.Empty(t, s.AttachedTo("d1"), "the pending detach completes once unstuck")
}

func TestRoutes(t *testing.T) {
	s := newServer(t)
	s.AddInstance("spd01")
	s.AddInstance("spd02")
	c := newClient(t, s, "")
	ctx := context.Background()
	for i, n := range []string{"spd01", "spd02", "spd02"} {
		require.NoError(t, c.InsertRoute(ctx, project, &computepb.Route{
			Name:            proto.String([]string{"rt-ip33", "rt-ip34", "rt-other"}[i]),
			DestRange:       proto.String([]string{"10.0.0.33/32", "10.0.0.34/32", "10.0.0.34/32"}[i]),
			Network:         proto.String(gce.NetworkLink(project, "default")),
			NextHopInstance: proto.String(gce.InstanceLink(project, zone, n)),
		}))
	}
	r, err := c.GetRoute(ctx, project, "rt-ip33")
	require.NoError(t, err)
	require.True(t, gce.SameResource(r.GetNextHopInstance(), gce.InstanceLink(project, zone, "spd01")), r.GetNextHopInstance())

	l, err := c.ListRoutes(ctx, project, `destRange = "10.0.0.34/32"`)
	require.NoError(t, err)
	require.Len(t, l, 2)
	l, err = c.ListRoutes(ctx, project, `(destRange = "10.0.0.34/32") AND (name != "rt-ip34")`)
	require.NoError(t, err)
	require.Len(t, l, 1)
	require.Equal(t, "rt-other", l[0].GetName())
	l, err = c.ListRoutes(ctx, project, `name eq rt-ip.*`)
	require.NoError(t, err)
	require.Len(t, l, 2)
	_, err = c.ListRoutes(ctx, project, `name = a OR name = b`)
	require.Equal(t, 400, gce.HTTPCode(err))

	err = c.InsertRoute(ctx, project, &computepb.Route{Name: proto.String("rt-x"), DestRange: proto.String("10.0.0.9/32"),
		NextHopInstance: proto.String(gce.InstanceLink(project, zone, "nope"))})
	require.True(t, gce.IsNotFound(err), "%v", err)

	require.NoError(t, c.DeleteRoute(ctx, project, "rt-ip33"))
	_, err = c.GetRoute(ctx, project, "rt-ip33")
	require.True(t, gce.IsNotFound(err))
}

func TestListRoutesPages(t *testing.T) {
	s := newServer(t)
	s.AddInstance("spd01")
	c := newClient(t, s, "")
	for i := 0; i < 620; i++ {
		s.CreateRoute(fmt.Sprintf("rt-%03d", i), "10.1.0.1/32", "spd01")
	}
	l, err := c.ListRoutes(context.Background(), project, "")
	require.NoError(t, err)
	require.Len(t, l, 620)
	require.Equal(t, 2, s.CountCalls("GET", "/global/routes"), "500 per page")
}

func TestErrorMessages(t *testing.T) {
	s := newServer(t)
	s.AddInstance("spd01")
	c := newClient(t, s, "")
	ctx := context.Background()
	_, err := c.GetDisk(ctx, project, zone, "nope")
	require.EqualError(t, err, "gce: get disk nope: The resource 'projects/svckit-test/zones/europe-west1-b/disks/nope' was not found (404 notFound)")
	err = c.InsertDisk(ctx, project, zone, &computepb.Disk{Name: proto.String("spd01")})
	require.EqualError(t, err, "gce: create disk spd01: The resource 'projects/svckit-test/zones/europe-west1-b/disks/spd01' already exists (409 alreadyExists)")
}

func TestApplicationDefaultCredentialsMissing(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, err := gce.NewClient(context.Background(), gce.NewOptions())
	require.ErrorContains(t, err, "gce: application default credentials")
}
