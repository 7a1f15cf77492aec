package modrepo_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/modrepo"
)

// FuzzInstall feeds arbitrary archives to Install: it never panics, and
// whatever it accepts or refuses, nothing appears beside the modules
// directory but the tree, its backup and the lock, and every link of an
// accepted tree stays inside it.
func FuzzInstall(f *testing.F) {
	f.Add(archive(f, true, entry{name: "compliance/50-a", body: "#!/bin/sh\n"}))
	f.Add(archive(f, false, entry{name: "compliance/50-a", body: "x"}, entry{name: "compliance/l", typ: tar.TypeSymlink, link: "50-a"}))
	f.Add(archive(f, false, entry{name: "compliance/a", typ: tar.TypeSymlink, link: "."}, entry{name: "compliance/b", typ: tar.TypeSymlink, link: "a/../x"}))
	f.Add(archive(f, true, entry{name: "compliance/../x", body: "x"}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		dir := filepath.Join(base, "var", "modules")
		res, err := modrepo.Install(context.Background(), bytes.NewReader(data), dir, modrepo.Options{MaxEntries: 64, MaxTreeSize: 1 << 20})
		top, rerr := os.ReadDir(base)
		require.NoError(t, rerr)
		require.Len(t, top, 1, "only var/ in the base")
		ents, rerr := os.ReadDir(filepath.Dir(dir))
		require.NoError(t, rerr)
		for _, e := range ents {
			require.Contains(t, []string{"modules", ".modules.lock"}, e.Name())
		}
		if err != nil {
			return
		}
		require.NotEmpty(t, res.Modules)
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			require.NoError(t, err)
			if d.Type()&os.ModeSymlink != 0 {
				to, err := filepath.EvalSymlinks(p)
				require.NoError(t, err)
				require.True(t, strings.HasPrefix(to, dir+"/"), "%s -> %s", p, to)
			}
			return nil
		})
	})
}
