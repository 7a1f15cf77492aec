package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/store"
)

// casScenario runs the same compare-and-swap story on any store: create,
// a stale create, an update on the read revision, a stale update from a
// writer that read before it, an unconditional write.
func casScenario(t *testing.T, st store.Store) {
	ctx := context.Background()
	_, err := st.Get(ctx, "spdsvc01")
	require.ErrorIs(t, err, store.ErrNotFound)

	v1 := []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = spd01 spd02\n")
	c1, err := st.Put(ctx, "spdsvc01", v1, store.Absent)
	require.NoError(t, err)
	require.Equal(t, store.Checksum(v1), c1.Checksum)

	_, err = st.Put(ctx, "spdsvc01", []byte("[DEFAULT]\nnodes = x\n"), store.Absent)
	require.ErrorIs(t, err, store.ErrConflict, "a second create must be refused")

	// Two writers read the same version.
	a, err := st.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, v1, a.Data)
	require.Equal(t, c1.Revision, a.Revision)
	b, err := st.Get(ctx, "spdsvc01")
	require.NoError(t, err)

	v2 := []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = spd01 spd02 spd03\n")
	c2, err := st.Put(ctx, "spdsvc01", v2, a.Revision)
	require.NoError(t, err)
	require.NotEqual(t, a.Revision, c2.Revision)

	v3 := []byte("[DEFAULT]\napp = OTHER\nnodes = spd01\n")
	_, err = st.Put(ctx, "spdsvc01", v3, b.Revision)
	require.ErrorIs(t, err, store.ErrConflict, "the stale writer must be refused")
	var ce *store.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, b.Revision, ce.Expected)
	require.Equal(t, c2.Revision, ce.Actual)
	require.Contains(t, err.Error(), "stale write refused")

	got, err := st.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, v2, got.Data, "the stale write changed nothing")
	require.Equal(t, c2.Revision, got.Revision)

	_, err = st.Put(ctx, "spdsvc01", v3, store.AnyRevision)
	require.NoError(t, err)
	got, err = st.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, v3, got.Data)

	_, err = st.Get(ctx, "../etc/passwd")
	require.ErrorContains(t, err, "service name")
}

func TestDirCAS(t *testing.T) {
	d, err := store.NewDir(filepath.Join(t.TempDir(), "store"))
	require.NoError(t, err)
	casScenario(t, d)
	fi, err := os.Stat(filepath.Join(d.Path, "spdsvc01.conf"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "configs hold passwords")
}

// TestDirConcurrentWriters has many writers race on the same revision:
// exactly one wins.
func TestDirConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	d, err := store.NewDir(t.TempDir())
	require.NoError(t, err)
	c, err := d.Put(ctx, "s", []byte("v0"), store.Absent)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.Put(ctx, "s", []byte(fmt.Sprintf("v%d", i+1)), c.Revision)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if errors.Is(err, store.ErrConflict) {
				conflicts++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, wins)
	require.Equal(t, 15, conflicts)
}

// fakeCollector speaks the collector's /services paths with basic auth.
type fakeCollector struct {
	mu       sync.Mutex
	services map[string]map[string]string
	posts    int
}

func (f *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != "root@example.com" || p != "c0llPw" {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"error": "authentication required"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	const prefix = "/init/rest/api/services"
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix+"/"):
		name := strings.TrimPrefix(r.URL.Path, prefix+"/")
		s, ok := f.services[name]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"error": "Service " + name + " not found"})
			return
		}
		if r.URL.Query().Get("props") == "" {
			http.Error(w, "expected props", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"data": []any{s}, "meta": map[string]any{"count": 1}})
	case r.Method == http.MethodPost && r.URL.Path == prefix:
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["svc_name"] == "" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error": "Key 'svc_name' is mandatory"})
			return
		}
		body["updated"] = time.Now().UTC().Format("2006-01-02 15:04:05")
		f.services[body["svc_name"]] = body
		f.posts++
		json.NewEncoder(w).Encode(map[string]any{"data": []any{body}, "info": "Service " + body["svc_name"] + " added"})
	default:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": "no route"})
	}
}

func TestCollectorCAS(t *testing.T) {
	fc := &fakeCollector{services: map[string]map[string]string{}}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	c, err := store.NewCollector(strings.Replace(srv.URL, "http://", "http://root%40example.com:c0llPw@", 1) + "/init/rest/api/")
	require.NoError(t, err)
	require.NotContains(t, c.String(), "c0llPw")
	casScenario(t, c)
	fc.mu.Lock()
	require.Equal(t, "OTHER", fc.services["spdsvc01"]["svc_app"], "svc_app comes from DEFAULT app, as the seed's form posts it")
	fc.mu.Unlock()

	bad, err := store.NewCollector(srv.URL + "/init/rest/api")
	require.NoError(t, err)
	_, err = bad.Get(context.Background(), "spdsvc01")
	require.ErrorContains(t, err, "401")
	require.NotErrorIs(t, err, store.ErrNotFound)
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		spec, want, err string
	}{
		{spec: "dir:" + dir, want: "dir:" + dir},
		{spec: dir, want: "dir:" + dir},
		{spec: "https://u:secretpw@collector.example.com/init/rest/api", want: "collector:https://collector.example.com/init/rest/api"},
		{spec: "etcd://127.0.0.1:1,127.0.0.1:2/svc", want: "etcd:http://127.0.0.1:1,http://127.0.0.1:2/svc"},
		{spec: "ftp://u:secretpw@x/y", err: "expected dir:PATH"},
		{spec: "relative/dir", err: "expected dir:PATH"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			st, closeFn, err := store.Open(tc.spec)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.NotContains(t, err.Error(), "secretpw")
				return
			}
			require.NoError(t, err)
			defer closeFn()
			require.Equal(t, tc.want, st.String())
		})
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartEtcd runs a real etcd server on loopback for the test; it skips
// when the etcd binary is absent (fails when CI=true).
func startEtcd(t *testing.T) string {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("etcd binary absent (apt-get install etcd-server): %v", err)
		}
		t.Skipf("etcd binary absent (apt-get install etcd-server): %v", err)
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "--name", "svckit-test", "--data-dir", filepath.Join(t.TempDir(), "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "svckit-test="+peer, "--log-level", "error")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(client + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return client
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd did not become healthy on %s: %v\n%s", client, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEtcdCAS(t *testing.T) {
	url := startEtcd(t)
	e, err := store.NewEtcd([]string{url}, "/svckit-test")
	require.NoError(t, err)
	defer e.Close()
	casScenario(t, e)

	_, err = e.Put(context.Background(), "spdsvc01", []byte("x"), "not-a-revision")
	require.ErrorContains(t, err, "expected an etcd mod revision")

	// Through Open, as svcmgr --store does.
	st, closeFn, err := store.Open("etcd://" + strings.TrimPrefix(url, "http://") + "/svckit-test")
	require.NoError(t, err)
	defer closeFn()
	got, err := st.Get(context.Background(), "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, "[DEFAULT]\napp = OTHER\nnodes = spd01\n", string(got.Data))
}
