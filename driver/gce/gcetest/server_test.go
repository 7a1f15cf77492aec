package gcetest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
)

func do(t *testing.T, method, url, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(b, &m), string(b))
	} else {
		m = map[string]any{"text": string(b)}
	}
	return resp.StatusCode, m
}

// TestWireFormat checks the JSON the fake speaks with plain HTTP, the
// field names and encodings of the compute v1 API (int64 as strings,
// enums as names, full URLs in links).
func TestWireFormat(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	s.AddInstance("vm1")
	base := s.URL + "/compute/v1/projects/p1"

	code, op := do(t, "POST", base+"/zones/z1/disks?requestId=0b9e4a5e-2f60-4d3c-9a53-8d3f1a1b2c3d", `{"name":"d1","sizeGb":"10","type":"zones/z1/diskTypes/pd-ssd"}`)
	require.Equal(t, 200, code, op)
	require.Equal(t, "DONE", op["status"])
	require.Equal(t, "insert", op["operationType"])
	require.Equal(t, base+"/zones/z1/disks/d1", op["targetLink"])
	require.Equal(t, "compute#operation", op["kind"])
	require.Equal(t, s.URL+"/compute/v1/projects/p1/zones/z1", op["zone"])

	// The same request id answers the same operation, and acts once.
	code, again := do(t, "POST", base+"/zones/z1/disks?requestId=0b9e4a5e-2f60-4d3c-9a53-8d3f1a1b2c3d", `{"name":"d1","sizeGb":"10"}`)
	require.Equal(t, 200, code)
	require.Equal(t, op["name"], again["name"])

	code, d := do(t, "GET", base+"/zones/z1/disks/d1", "")
	require.Equal(t, 200, code)
	require.Equal(t, "10", d["sizeGb"])
	require.Equal(t, base+"/zones/z1/diskTypes/pd-ssd", d["type"])
	require.Equal(t, "READY", d["status"])

	code, op = do(t, "POST", base+"/zones/z1/instances/vm1/attachDisk", `{"source":"projects/p1/zones/z1/disks/d1","deviceName":"dev1"}`)
	require.Equal(t, 200, code, op)
	code, in := do(t, "GET", base+"/zones/z1/instances/vm1", "")
	require.Equal(t, 200, code)
	disks := in["disks"].([]any)
	require.Len(t, disks, 2)
	att := disks[1].(map[string]any)
	require.Equal(t, "dev1", att["deviceName"])
	require.Equal(t, base+"/zones/z1/disks/d1", att["source"])
	require.EqualValues(t, 1, att["index"])
	_, d = do(t, "GET", base+"/zones/z1/disks/d1", "")
	require.Equal(t, []any{base + "/zones/z1/instances/vm1"}, d["users"])

	code, e := do(t, "GET", base+"/zones/z1/disks/nope", "")
	require.Equal(t, 404, code)
	ee := e["error"].(map[string]any)
	require.EqualValues(t, 404, ee["code"])
	require.Equal(t, "The resource 'projects/p1/zones/z1/disks/nope' was not found", ee["message"])
	require.Equal(t, "notFound", ee["errors"].([]any)[0].(map[string]any)["reason"])

	code, op = do(t, "POST", base+"/global/routes", `{"name":"rt-ip33","destRange":"10.0.0.33/32","nextHopInstance":"zones/z1/instances/vm1"}`)
	require.Equal(t, 200, code, op)
	require.Nil(t, op["zone"], "a global operation")
	code, op = do(t, "GET", base+"/global/operations/"+op["name"].(string), "")
	require.Equal(t, 200, code)
	require.Equal(t, "DONE", op["status"])
	code, l := do(t, "GET", base+"/global/routes?filter="+strings.ReplaceAll(`destRange = "10.0.0.33/32"`, " ", "%20"), "")
	require.Equal(t, 200, code)
	r := l["items"].([]any)[0].(map[string]any)
	require.Equal(t, base+"/zones/z1/instances/vm1", r["nextHopInstance"])
	require.Equal(t, base+"/global/networks/default", r["network"])
	require.EqualValues(t, 1000, r["priority"])

	code, _ = do(t, "GET", s.URL+"/compute/v1/projects/other/zones/z1/disks/d1", "")
	require.Equal(t, 404, code)
	code, e = do(t, "GET", base+"/zones/z1/snapshots", "")
	require.Equal(t, 404, code)
	require.Contains(t, e["error"].(map[string]any)["message"], "not served by the fake")
}

func TestMetadataServer(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	in := s.AddInstance("vm1")
	code, _ := do(t, "GET", "http://"+in.MetadataHost+"/computeMetadata/v1/instance/name", "")
	require.Equal(t, 403, code, "the Metadata-Flavor header is required")
	for path, want := range map[string]string{
		"instance/name":      "vm1",
		"instance/zone":      "projects/123456789012/zones/z1",
		"project/project-id": "p1",
	} {
		code, m := do(t, "GET", "http://"+in.MetadataHost+"/computeMetadata/v1/"+path, "", "Metadata-Flavor", "Google")
		require.Equal(t, 200, code)
		require.Equal(t, want, m["text"])
	}
}

func TestOperationTimeAndLatency(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	s.SetOperationTime(150 * time.Millisecond)
	base := s.URL + "/compute/v1/projects/p1"
	_, op := do(t, "POST", base+"/zones/z1/disks", `{"name":"d1","sizeGb":"1"}`)
	require.Equal(t, "RUNNING", op["status"])
	_, ok := s.Disk("d1")
	require.False(t, ok, "no effect before the operation is done")
	require.Eventually(t, func() bool {
		_, op := do(t, "GET", base+"/zones/z1/operations/"+op["name"].(string), "")
		return op["status"] == "DONE"
	}, 5*time.Second, 20*time.Millisecond)
	_, ok = s.Disk("d1")
	require.True(t, ok)

	// Latency makes a call outlive a short deadline.
	s.SetLatency(time.Second)
	c, err := gcec.NewClient(context.Background(), gcec.NewOptions(gcec.WithEndpoint(s.URL)))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.GetDisk(ctx, "p1", "z1", "d1")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFaults429(t *testing.T) {
	s := gcetest.NewServer("p1", "z1")
	defer s.Close()
	s.FailRequests("GET", "/disks/d1", 429, 2)
	base := s.URL + "/compute/v1/projects/p1"
	for i := 0; i < 2; i++ {
		code, e := do(t, "GET", base+"/zones/z1/disks/d1", "")
		require.Equal(t, 429, code)
		require.Equal(t, "rateLimitExceeded", e["error"].(map[string]any)["errors"].([]any)[0].(map[string]any)["reason"])
	}
	code, _ := do(t, "GET", base+"/zones/z1/disks/d1", "")
	require.Equal(t, 404, code, "the fault is used up")
	require.Equal(t, 3, s.CountCalls("GET", "/disks/d1"))
}
