package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/store"
	"github.com/svckit/svckit/svc/store/storetest"
)

func TestDirCAS(t *testing.T) {
	d, err := store.NewDir(filepath.Join(t.TempDir(), "store"))
	require.NoError(t, err)
	storetest.CAS(t, d)
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
	storetest.CAS(t, c)
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
		{spec: "etcd://127.0.0.1:1/svc", err: "import it (blank) to open them"},
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
