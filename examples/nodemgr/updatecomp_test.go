package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
)

const seedModules = "../../compliance/testdata/modules"

// seedArchive is the seed's modules in the reference's layout
// (compliance/NN-name), gzipped, built from the tree.
func seedArchive(t *testing.T, extra ...*tar.Header) ([]byte, []string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	ents, err := os.ReadDir(seedModules)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(seedModules, e.Name()))
		require.NoError(t, err)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: "compliance/" + e.Name(), Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		_, err = tw.Write(b)
		require.NoError(t, err)
		names = append(names, e.Name())
	}
	for _, h := range extra {
		require.NoError(t, tw.WriteHeader(h))
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	sort.Strings(names)
	return buf.Bytes(), names
}

func TestUpdateComp(t *testing.T) {
	good, names := seedArchive(t)
	bad, _ := seedArchive(t, &tar.Header{Name: "compliance/../../../etc/cron.d/x", Typeflag: tar.TypeReg})
	escape, _ := seedArchive(t, &tar.Header{Name: "compliance/etc", Typeflag: tar.TypeSymlink, Linkname: "/etc"})
	var mu sync.Mutex
	serving := good
	var paths []string
	serve := func(b []byte) {
		mu.Lock()
		defer mu.Unlock()
		serving = b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.Path)
		if serving == nil {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Write(serving)
	}))
	defer srv.Close()

	root, _ := confRoot(t)
	// node.repocomp wins over the node.repo that confRoot sets.
	code, _, errs := nodemgr("--root", root, "set", "--param", "node.repocomp", "--value", srv.URL+"/compliance/")
	require.Equal(t, 0, code, errs)
	code, out, errs := nodemgr("--root", root, "updatecomp", "--format", "json")
	require.Equal(t, 0, code, errs)
	mu.Lock()
	require.Equal(t, []string{"/compliance/current"}, paths)
	mu.Unlock()
	var res struct {
		URL     string   `json:"url"`
		SHA256  string   `json:"sha256"`
		Modules []string `json:"modules"`
		Dir     string   `json:"dir"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	sum := sha256.Sum256(good)
	require.Equal(t, hex.EncodeToString(sum[:]), res.SHA256)
	require.Equal(t, names, res.Modules)
	dir := filepath.Join(root, "var/compliance/modules")
	require.Equal(t, dir, res.Dir)

	// nodemgr compliance finds the modules where updatecomp put them.
	scripts, err := compliance.FindScripts(context.Background(), dir)
	require.NoError(t, err)
	require.Len(t, scripts, len(names))
	for _, n := range names {
		want, err := os.ReadFile(filepath.Join(seedModules, n))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}

	// Failures leave the installed modules as they are, exit 1.
	before := tree(t, dir)
	for _, tt := range []struct {
		name string
		body []byte
		msg  string
	}{
		{"traversal", bad, `".." in the path`},
		{"symlink escape", escape, "expected a relative target"},
		{"not an archive", []byte("<html>maintenance</html>"), "not a complete tar"},
		{"download failure", nil, "500 Internal Server Error"},
	} {
		serve(tt.body)
		code, _, errs := nodemgr("--root", root, "updatecomp")
		require.Equal(t, 1, code, tt.name)
		require.Contains(t, errs, tt.msg, tt.name)
		require.Equal(t, before, tree(t, dir), tt.name)
	}
	_, err = os.Lstat(filepath.Join(root, "etc/cron.d/x"))
	require.True(t, os.IsNotExist(err))

	serve(good)
	code, out, errs = nodemgr("--root", root, "updatecomp")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "installed 5 modules in "+dir)
	require.Contains(t, out, "previous modules kept in "+dir+".bck")
}

func TestUpdateCompUsage(t *testing.T) {
	root := t.TempDir()
	code, _, errs := nodemgr("--root", root, "updatecomp")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "node.repocomp or node.repo must be set in node.conf")
	code, _, errs = nodemgr("--root", root, "updatecomp", "--format", "xml")
	require.Equal(t, 2, code)
	require.Contains(t, errs, `--format "xml"`)
	code, _, errs = nodemgr("--root", root, "set", "--param", "node.repocomp", "--value", "ftp://repo/")
	require.Equal(t, 0, code, errs)
	code, _, errs = nodemgr("--root", root, "updatecomp")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "expected http:// or https://")
}

func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}
