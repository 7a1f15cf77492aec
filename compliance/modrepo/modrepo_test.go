package modrepo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/modrepo"
)

// entry is one archive member.
type entry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func archive(t testing.TB, gz bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body)), ModTime: time.Unix(1e9, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o755
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	if !gz {
		return buf.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err := zw.Write(buf.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return z.Bytes()
}

// seedArchive is the reference's layout, compliance/NN-name, holding the
// seed's modules from the tree.
func seedArchive(t testing.TB) ([]byte, []string) {
	t.Helper()
	ents, err := os.ReadDir("../testdata/modules")
	require.NoError(t, err)
	list := []entry{{name: "compliance/", typ: tar.TypeDir}}
	var names []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("../testdata/modules", e.Name()))
		require.NoError(t, err)
		list = append(list, entry{name: "compliance/" + e.Name(), body: string(b)})
		names = append(names, e.Name())
	}
	require.NotEmpty(t, names)
	return archive(t, true, list...), names
}

func serve(t testing.TB, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/compliance/current"
}

func serveBytes(t testing.TB, b []byte) string {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/compliance/current" {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
}

// snapshot is a tree's content: path -> mode and content or link target.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			v += " -> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		out[rel] = v
		return nil
	})
	require.NoError(t, err)
	return out
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestUpdateSeedModules(t *testing.T) {
	arch, names := seedArchive(t)
	url := serveBytes(t, arch)
	dir := filepath.Join(t.TempDir(), "var/compliance/modules")
	res, err := modrepo.Update(context.Background(), url, dir, modrepo.Options{})
	require.NoError(t, err)
	require.Equal(t, names, res.Modules)
	require.Equal(t, sha(arch), res.SHA256)
	require.Equal(t, int64(len(arch)), res.Size)
	require.Equal(t, dir, res.Dir)
	require.Empty(t, res.Backup, "nothing was installed before")
	for _, n := range names {
		want, err := os.ReadFile(filepath.Join("../testdata/modules", n))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		require.Equal(t, want, got)
		fi, err := os.Stat(filepath.Join(dir, n))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), fi.Mode().Perm(), "the modules' directory must be root's alone, readable")
	first := snapshot(t, dir)

	// A second update keeps the first tree as the backup.
	arch2 := archive(t, false, entry{name: "compliance/10-new", body: "#!/bin/sh\nexit 0\n"})
	res, err = modrepo.Update(context.Background(), serveBytes(t, arch2), dir, modrepo.Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"10-new"}, res.Modules)
	require.Equal(t, dir+".bck", res.Backup)
	require.Equal(t, first, snapshot(t, dir+".bck"))
	require.Equal(t, []string{".", "10-new"}, keys(snapshot(t, dir)))
	requireNoLeftovers(t, dir)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// requireNoLeftovers checks that no temporary tree or download is left
// beside dir.
func requireNoLeftovers(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	for _, e := range ents {
		n := e.Name()
		require.True(t, n == filepath.Base(dir) || n == filepath.Base(dir)+".bck" || n == "."+filepath.Base(dir)+".lock", "leftover %s", n)
	}
}

func TestInstallLinksInside(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modules")
	arch := archive(t, true,
		entry{name: "./compliance/lib/common.sh", body: "x=1\n", mode: 0o644},
		entry{name: "compliance/50-a", body: "#!/bin/sh\n. ./lib/common.sh\n", mode: 0o4777},
		entry{name: "compliance/51-b", typ: tar.TypeSymlink, link: "50-a"},
		entry{name: "compliance/lib/up", typ: tar.TypeSymlink, link: "../lib/common.sh"},
		entry{name: "compliance/52-c", typ: tar.TypeLink, link: "compliance/50-a"},
	)
	res, err := modrepo.Install(context.Background(), bytes.NewReader(arch), dir, modrepo.Options{})
	require.NoError(t, err)
	require.Equal(t, sha(arch), res.SHA256)
	require.Equal(t, []string{"50-a", "51-b", "52-c"}, res.Modules)
	fi, err := os.Stat(filepath.Join(dir, "50-a"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), fi.Mode()&(fs.ModePerm|fs.ModeSetuid), "setuid and group/other write dropped")
	b, err := os.ReadFile(filepath.Join(dir, "lib/up"))
	require.NoError(t, err)
	require.Equal(t, "x=1\n", string(b))
}

func TestInstallKeepsCompObjLinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modules")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "com.opensvc"), 0o755))
	require.NoError(t, os.Symlink("../../../bin/compobj", filepath.Join(dir, "com.opensvc/file.py")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "com.opensvc/other"), []byte("x"), 0o644))
	arch := archive(t, true, entry{name: "compliance/50-a", body: "#!/bin/sh\n"})
	_, err := modrepo.Install(context.Background(), bytes.NewReader(arch), dir, modrepo.Options{})
	require.NoError(t, err)
	l, err := os.Readlink(filepath.Join(dir, "com.opensvc/file.py"))
	require.NoError(t, err)
	require.Equal(t, "../../../bin/compobj", l)
	require.NoFileExists(t, filepath.Join(dir, "com.opensvc/other"), "only the compobj links are the node's own")
}

// TestRefused installs a good tree, then tries each bad archive or
// download: each fails naming why, and the installed tree, its backup and
// the directory beside are as they were.
func TestRefused(t *testing.T) {
	good, _ := seedArchive(t)
	mod := entry{name: "compliance/50-ok", body: "#!/bin/sh\n"}
	var gzTrunc []byte
	{
		a := archive(t, true, mod, entry{name: "compliance/51-ok", body: strings.Repeat("x", 1<<16)})
		gzTrunc = a[:len(a)/2]
	}
	tests := []struct {
		name string
		body []byte
		h    http.HandlerFunc // instead of body
		opts modrepo.Options
		ctx  time.Duration // a deadline on the caller's context
		msg  string
	}{
		{name: "not an archive", body: []byte("<html>hello</html>\n"), msg: "not a complete tar"},
		{name: "empty body", body: nil, msg: "no entry under compliance/"},
		{name: "truncated gzip", body: gzTrunc, msg: "not a complete tar"},
		{name: "dot dot", body: archive(t, true, mod, entry{name: "compliance/../../etc/cron.d/x", body: "* * * * * root sh\n"}), msg: `".." in the path`},
		{name: "absolute", body: archive(t, true, mod, entry{name: "/etc/passwd", body: "root::0:0::/:/bin/sh\n"}), msg: "absolute path"},
		{name: "outside compliance", body: archive(t, true, mod, entry{name: "etc/passwd", body: "x"}), msg: "not under compliance/"},
		{name: "symlink absolute", body: archive(t, true, mod, entry{name: "compliance/l", typ: tar.TypeSymlink, link: "/etc"}), msg: "expected a relative target"},
		{name: "symlink climbing", body: archive(t, true, mod, entry{name: "compliance/d/l", typ: tar.TypeSymlink, link: "../../x"}), msg: "leads out"},
		{name: "write through a symlink", body: archive(t, true, mod,
			entry{name: "compliance/d", typ: tar.TypeSymlink, link: "."},
			entry{name: "compliance/d/50-x", body: "x"}), msg: "goes through the symbolic link"},
		{name: "symlink through a symlink", body: archive(t, true, mod,
			entry{name: "compliance/a", typ: tar.TypeSymlink, link: "."},
			entry{name: "compliance/b", typ: tar.TypeSymlink, link: "a/../outside"}), msg: `"compliance/b" refused: symbolic link that does not resolve inside`},
		{name: "symlink through a symlink to the installed tree", body: archive(t, true, mod,
			entry{name: "compliance/a", typ: tar.TypeSymlink, link: "."},
			entry{name: "compliance/b", typ: tar.TypeSymlink, link: "a/../modules"}), msg: `"compliance/b" refused: symbolic link that does not resolve inside the archive's tree: statat b: path escapes`},
		{name: "hardlink out", body: archive(t, true, mod, entry{name: "compliance/h", typ: tar.TypeLink, link: "/etc/shadow"}), msg: "hard link"},
		{name: "hardlink climbing", body: archive(t, true, mod, entry{name: "compliance/h", typ: tar.TypeLink, link: "compliance/../../x"}), msg: "hard link"},
		{name: "char device", body: archive(t, true, mod, entry{name: "compliance/null", typ: tar.TypeChar}), msg: "special file"},
		{name: "fifo", body: archive(t, true, mod, entry{name: "compliance/p", typ: tar.TypeFifo}), msg: "special file"},
		{name: "duplicate", body: archive(t, true, mod, mod), msg: "second entry"},
		{name: "no modules", body: archive(t, true, entry{name: "compliance/README", body: "x"}), msg: "no NN-name module"},
		{name: "too many entries", body: archive(t, true, mod, entry{name: "compliance/a", body: "1"}, entry{name: "compliance/b", body: "2"}),
			opts: modrepo.Options{MaxEntries: 2}, msg: "more than 2 entries"},
		{name: "tree too large", body: archive(t, true, mod, entry{name: "compliance/big", body: strings.Repeat("z", 4096)}),
			opts: modrepo.Options{MaxTreeSize: 1024}, msg: "exceed the 1024 bytes"},
		{name: "archive too large", body: good, opts: modrepo.Options{MaxArchiveSize: 100}, msg: "more than the 100 allowed"},
		{name: "archive too large, no length", h: func(w http.ResponseWriter, r *http.Request) {
			w.Write(good[:50])
			w.(http.Flusher).Flush()
			w.Write(good[50:])
		}, opts: modrepo.Options{MaxArchiveSize: 100}, msg: "larger than the 100 bytes"},
		{name: "500", h: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, msg: "500 Internal Server Error"},
		{name: "404", h: http.NotFound, msg: "404"},
		{name: "timeout by ctx", h: stall, ctx: 200 * time.Millisecond, msg: "context deadline exceeded"},
		{name: "timeout by option", h: stall, opts: modrepo.Options{Timeout: 200 * time.Millisecond}, msg: "deadline exceeded"},
		{name: "stalled mid-body", h: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(good)))
			w.Write(good[:len(good)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, ctx: 200 * time.Millisecond, msg: "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "modules")
			_, err := modrepo.Update(context.Background(), serveBytes(t, good), dir, modrepo.Options{})
			require.NoError(t, err)
			_, err = modrepo.Update(context.Background(), serveBytes(t, good), dir, modrepo.Options{})
			require.NoError(t, err)
			before, backup := snapshot(t, dir), snapshot(t, dir+".bck")

			h := tt.h
			if h == nil {
				h = func(w http.ResponseWriter, r *http.Request) { w.Write(tt.body) }
			}
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			_, err = modrepo.Update(ctx, serve(t, h), dir, tt.opts)
			require.ErrorContains(t, err, tt.msg)
			require.Equal(t, before, snapshot(t, dir), "installed modules changed")
			require.Equal(t, backup, snapshot(t, dir+".bck"), "backup changed")
			requireNoLeftovers(t, dir)
			_, err = os.Lstat(filepath.Join(filepath.Dir(dir), "outside"))
			require.ErrorIs(t, err, fs.ErrNotExist)
		})
	}
}

func stall(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// TestConcurrentInstalls runs installs of two archives at once: each
// completes, and the tree installed is one of them, whole.
func TestConcurrentInstalls(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modules")
	a := archive(t, true, entry{name: "compliance/50-a", body: "a"}, entry{name: "compliance/51-a", body: "a"})
	b := archive(t, true, entry{name: "compliance/50-b", body: "b"}, entry{name: "compliance/51-b", body: "b"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		arch := a
		if i%2 == 1 {
			arch = b
		}
		wg.Go(func() {
			_, err := modrepo.Install(context.Background(), bytes.NewReader(arch), dir, modrepo.Options{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := keys(snapshot(t, dir))
	require.Contains(t, [][]string{{".", "50-a", "51-a"}, {".", "50-b", "51-b"}}, got)
	requireNoLeftovers(t, dir)
}

func TestArchiveURL(t *testing.T) {
	for _, tt := range []struct{ repocomp, repo, want, err string }{
		{"https://repo.opensvc.com/compliance/", "", "https://repo.opensvc.com/compliance/current", ""},
		{"https://repo.opensvc.com/compliance", "https://ignored/", "https://repo.opensvc.com/compliance/current", ""},
		{"", "http://repo.example.com/", "http://repo.example.com/compliance/current", ""},
		{"", "", "", "node.repocomp or node.repo must be set"},
		{"file:///etc/", "", "", "expected http:// or https://"},
		{"repo.opensvc.com/compliance", "", "", "expected http:// or https://"},
		{"https:///nohost", "", "", "with a host"},
	} {
		got, err := modrepo.ArchiveURL(tt.repocomp, tt.repo)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
}

func BenchmarkInstallSeed(b *testing.B) {
	arch, _ := seedArchive(b)
	dir := filepath.Join(b.TempDir(), "modules")
	b.SetBytes(int64(len(arch)))
	for b.Loop() {
		if _, err := modrepo.Install(context.Background(), bytes.NewReader(arch), dir, modrepo.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUpdateInsideRoot installs under a root the way nodemgr --root does,
// and refuses a modules directory that a link leads out of the root.
func TestUpdateInsideRoot(t *testing.T) {
	arch, names := seedArchive(t)
	url := serveBytes(t, arch)
	root := t.TempDir()
	res, err := modrepo.Update(context.Background(), url, "/var/compliance/modules", modrepo.Options{Root: root})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "var/compliance/modules"), res.Dir)
	require.Equal(t, names, res.Modules)

	for _, link := range []string{"ABS", "../../outside"} {
		t.Run(link, func(t *testing.T) {
			root := t.TempDir()
			outside := filepath.Join(filepath.Dir(root), "outside")
			require.NoError(t, os.MkdirAll(outside, 0o755))
			t.Cleanup(func() { os.RemoveAll(outside) })
			require.NoError(t, os.MkdirAll(filepath.Join(root, "var"), 0o755))
			target := link
			if link == "ABS" {
				target = outside
			}
			require.NoError(t, os.Symlink(target, filepath.Join(root, "var/compliance")))
			_, err := modrepo.Update(context.Background(), url, "/var/compliance/modules", modrepo.Options{Root: root})
			require.ErrorContains(t, err, "/var/compliance inside "+root)
			ents, err := os.ReadDir(outside)
			require.NoError(t, err)
			require.Empty(t, ents, "nothing written outside the root")
		})
	}
}
