package gcetest_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
)

// Without SetModel nothing is slowed, limited or serialised: existing
// tests keep their speed.
func TestModelOffByDefault(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	require.Nil(t, s.Model())
	s.AddInstance("vm1")
	base := s.URL + "/compute/v1/projects/p1"
	for i := range 50 {
		code, op := do(t, "POST", base+"/zones/z1/disks", `{"name":"d`+string(rune('a'+i%26))+string(rune('a'+i/26))+`"}`)
		require.Equal(t, 200, code, op)
		require.Equal(t, "DONE", op["status"])
	}
	require.Equal(t, gcetest.ModelStats{}, s.Stats())
}

func TestModelDefaultsAndScale(t *testing.T) {
	m := gcetest.DefaultModel()
	require.Equal(t, 3*time.Second, m.AttachDisk)
	require.Equal(t, 20.0, m.MutationsPerSecond)
	sm := m.Scale(0.01)
	require.Equal(t, 30*time.Millisecond, sm.AttachDisk)
	require.Equal(t, 20*time.Millisecond, sm.DiskInsert)
	require.Equal(t, 50*time.Millisecond, sm.RouteInsert)
	require.Equal(t, 1500*time.Microsecond, sm.InstanceGet)
	require.InDelta(t, 2000.0, sm.MutationsPerSecond, 1e-9)
	require.Equal(t, m.MutationBurst, sm.MutationBurst)
	require.Equal(t, m.AttachDisk, m.OperationTime("attachDisk", "instances"))
	require.Equal(t, m.RouteDelete, m.OperationTime("delete", "routes"))
	require.Equal(t, m.DiskInsert, m.OperationTime("insert", "disks"))
	require.Zero(t, m.OperationTime("setLabels", "disks"))
}

// An operation runs for its kind's time: RUNNING, without effect, until
// then.
func TestModelOperationTime(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	m := gcetest.Model{DiskInsert: 100 * time.Millisecond, RouteInsert: time.Hour}
	s.SetModel(&m)
	s.AddInstance("vm1")
	base := s.URL + "/compute/v1/projects/p1"
	_, op := do(t, "POST", base+"/zones/z1/disks", `{"name":"d1"}`)
	require.Equal(t, "RUNNING", op["status"])
	_, ok := s.Disk("d1")
	require.False(t, ok)
	require.Eventually(t, func() bool {
		_, op := do(t, "GET", base+"/zones/z1/operations/"+op["name"].(string), "")
		return op["status"] == "DONE"
	}, 5*time.Second, 10*time.Millisecond)
	_, ok = s.Disk("d1")
	require.True(t, ok)

	_, op = do(t, "POST", base+"/global/routes", `{"name":"r1","destRange":"10.0.0.1/32","nextHopInstance":"zones/z1/instances/vm1"}`)
	require.Equal(t, "RUNNING", op["status"], "a route insert runs RouteInsert, not DiskInsert")
	_, ok = s.Route("r1")
	require.False(t, ok)
}

// While an instance runs an attachDisk or detachDisk, another one fails
// with RESOURCE_NOT_READY; other instances are not held.
func TestModelInstanceSerialisation(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	m := gcetest.Model{AttachDisk: time.Hour, DetachDisk: time.Hour}
	s.SetModel(&m)
	s.AddInstance("vm1")
	s.AddInstance("vm2")
	for _, d := range []string{"d1", "d2", "d3"} {
		s.CreateDisk(d, 10)
	}
	base := s.URL + "/compute/v1/projects/p1/zones/z1/instances/"
	_, op := do(t, "POST", base+"vm1/attachDisk", `{"source":"zones/z1/disks/d1","deviceName":"d1"}`)
	require.Equal(t, "RUNNING", op["status"])

	code, op := do(t, "POST", base+"vm1/attachDisk", `{"source":"zones/z1/disks/d2","deviceName":"d2"}`)
	require.Equal(t, 200, code, "the request is accepted; its operation fails")
	require.Equal(t, "DONE", op["status"])
	require.EqualValues(t, http.StatusBadRequest, op["httpErrorStatusCode"])
	item := op["error"].(map[string]any)["errors"].([]any)[0].(map[string]any)
	require.Equal(t, "RESOURCE_NOT_READY", item["code"])
	require.Equal(t, "The resource 'projects/p1/zones/z1/instances/vm1' is not ready", item["message"])
	require.Empty(t, s.AttachedTo("d2"), "the failed attach has no effect")

	// A detach is a disk operation of the instance too.
	code, op = do(t, "POST", base+"vm1/detachDisk?deviceName=persistent-disk-0", "")
	require.Equal(t, 200, code)
	require.Equal(t, "DONE", op["status"])
	require.NotNil(t, op["error"])

	_, op = do(t, "POST", base+"vm2/attachDisk", `{"source":"zones/z1/disks/d3","deviceName":"d3"}`)
	require.Equal(t, "RUNNING", op["status"], "another instance is not held")
	require.Equal(t, 2, s.Stats().NotReady)
}

// The gce client issues an operation that failed with RESOURCE_NOT_READY
// again: concurrent attaches to one instance all end attached, one after
// the other.
func TestModelSerialisationRetriedByClient(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	m := gcetest.Model{AttachDisk: 30 * time.Millisecond}
	s.SetModel(&m)
	in := s.AddInstance("vm1")
	disks := []string{"d1", "d2", "d3"}
	for _, d := range disks {
		s.CreateDisk(d, 10)
	}
	c, err := gcec.NewClient(t.Context(), gcec.NewOptions(gcec.WithEndpoint(s.URL), gcec.WithMetadataHost(in.MetadataHost),
		gcec.WithPollInterval(5*time.Millisecond, 10*time.Millisecond), gcec.WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond),
		gcec.WithOperationAttempts(50)))
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, len(disks))
	for i, d := range disks {
		wg.Go(func() { errs[i] = c.AttachDisk(t.Context(), "p1", "z1", "vm1", d, d) })
	}
	wg.Wait()
	for i, d := range disks {
		require.NoError(t, errs[i], d)
		require.Equal(t, []string{"vm1"}, s.AttachedTo(d))
	}
}

// Mutations beyond the rate answer 429 before they act; reads are not
// limited; the bucket fills again with time.
func TestModelRateLimit(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	m := gcetest.Model{MutationsPerSecond: 20, MutationBurst: 2}
	s.SetModel(&m)
	base := s.URL + "/compute/v1/projects/p1"
	for _, d := range []string{"d1", "d2"} {
		code, op := do(t, "POST", base+"/zones/z1/disks", `{"name":"`+d+`"}`)
		require.Equal(t, 200, code, op)
	}
	code, e := do(t, "POST", base+"/zones/z1/disks", `{"name":"d3"}`)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "rateLimitExceeded", e["error"].(map[string]any)["errors"].([]any)[0].(map[string]any)["reason"])
	_, ok := s.Disk("d3")
	require.False(t, ok, "a limited request does not act")
	code, _ = do(t, "DELETE", base+"/zones/z1/disks/d1", "")
	require.Equal(t, http.StatusTooManyRequests, code, "a DELETE is a mutation")
	for range 10 {
		code, _ = do(t, "GET", base+"/zones/z1/disks/d1", "")
		require.Equal(t, 200, code, "reads are not limited")
	}
	require.Eventually(t, func() bool {
		code, _ := do(t, "POST", base+"/zones/z1/disks", `{"name":"d3"}`)
		return code == 200
	}, 5*time.Second, 20*time.Millisecond, "one token back after 50ms")
	require.GreaterOrEqual(t, s.Stats().RateLimited, 2)

	// The client retries a 429.
	c, err := gcec.NewClient(t.Context(), gcec.NewOptions(gcec.WithEndpoint(s.URL), gcec.WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond)))
	require.NoError(t, err)
	defer c.Close()
	for _, d := range []string{"e1", "e2", "e3", "e4", "e5"} {
		require.NoError(t, c.InsertDisk(t.Context(), "p1", "z1", &computepb.Disk{Name: proto.String(d)}))
	}
}

// An instances.get under the model waits in a sleep that ends with the
// request: a client that gives up leaves no handler behind, and Close
// stops the timers of running operations: no goroutine outlives the
// server.
func TestModelCtxAwareNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s := gcetest.NewServer("p1", "z1")
	m := gcetest.Model{InstanceGet: time.Hour, DiskInsert: time.Hour}
	s.SetModel(&m)
	s.AddInstance("vm1")
	c, err := gcec.NewClient(t.Context(), gcec.NewOptions(gcec.WithEndpoint(s.URL)))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	t0 := time.Now()
	_, err = c.GetInstance(ctx, "p1", "z1", "vm1")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(t0), time.Minute, "the client's deadline ends the wait, not the model's hour")
	for _, d := range []string{"d1", "d2"} {
		code, op := do(t, "POST", s.URL+"/compute/v1/projects/p1/zones/z1/disks", `{"name":"`+d+`"}`)
		require.Equal(t, 200, code)
		require.Equal(t, "RUNNING", op["status"])
		// operations.wait of a running operation ends with its client.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		req, err := http.NewRequestWithContext(ctx, "POST", s.URL+"/compute/v1/projects/p1/zones/z1/operations/"+op["name"].(string)+"/wait", nil)
		require.NoError(t, err)
		_, err = http.DefaultClient.Do(req)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	require.NoError(t, c.Close())
	s.Close()
	http.DefaultClient.CloseIdleConnections()
	// A plain loop: require.Eventually runs its condition in a goroutine
	// of its own, which the count would see.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if runtime.NumGoroutine() > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

// Turning the model off brings back immediate operations.
func TestModelOff(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	m := gcetest.DefaultModel()
	s.SetModel(&m)
	require.Equal(t, &m, s.Model())
	s.SetModel(nil)
	require.Nil(t, s.Model())
	_, op := do(t, "POST", s.URL+"/compute/v1/projects/p1/zones/z1/disks", `{"name":"d1"}`)
	require.Equal(t, "DONE", op["status"])
}
