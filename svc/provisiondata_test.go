package svc_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/disk/loop"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/fs/linux"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/svc"
)

// dataConf is one loop disk and its ext4 filesystem. %[1]s is the test
// directory, %[2]s extra keywords of the fs.
const dataConf = `[DEFAULT]
nodes = n1

[disk#1]
type = loop
file = %[1]s/disks/d1.img
size = 32m
link = %[1]s/dev/d1

[fs#1]
type = ext4
dev = %[1]s/dev/d1
mnt = %[1]s/mnt/d1
%[2]s
`

// realRegistry holds the real disk.loop and fs drivers only.
func realRegistry(t *testing.T) *driver.Registry {
	reg := driver.NewRegistry()
	require.NoError(t, reg.Register(disk.Loop, loop.New))
	for _, m := range fs.Manifests() {
		require.NoError(t, reg.Register(m, linux.New))
	}
	return reg
}

// TestProvisionRefusesData: an existing backing file holding data blkid
// does not recognise (a tar archive, random bytes) keeps every byte
// through provision, which fails saying why; unprovision keeps it (the
// dry-run plan says so) unless forced; mkfs_destroys_data = true formats
// it. A backing file provision created is formatted and deleted.
func TestProvisionRefusesData(t *testing.T) {
	testenv.RequireLoop(t)
	testenv.RequireCommands(t, "mkfs.ext4", "mount")
	const size = 32 << 20
	tarball := func(t *testing.T) []byte {
		var buf bytes.Buffer
		w := tar.NewWriter(&buf)
		for i, body := range []string{"customers\n", "orders\n"} {
			require.NoError(t, w.WriteHeader(&tar.Header{Name: fmt.Sprintf("backup/%d.sql", i), Mode: 0o600, Size: int64(len(body))}))
			_, err := w.Write([]byte(body))
			require.NoError(t, err)
		}
		require.NoError(t, w.Close())
		// Padded with zeros to a size mkfs accepts: still a valid archive.
		return append(buf.Bytes(), make([]byte, size-buf.Len())...)
	}
	random := func(t *testing.T) []byte {
		b := make([]byte, size)
		_, err := rand.Read(b)
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name    string
		content func(t *testing.T) []byte // nil: provision creates the file
	}{
		{"tar archive", tarball},
		{"random bytes", random},
		{"created by provision", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			file := filepath.Join(dir, "disks", "d1.img")
			root := filepath.Join(dir, "root")
			load := func(extra string) *svc.Service {
				s, err := svc.Parse(ctx, "data.conf", fmt.Appendf(nil, dataConf, dir, extra), svc.Options{Node: "n1", Registry: realRegistry(t), Root: root})
				require.NoError(t, err)
				return s
			}
			s := load("")
			t.Cleanup(func() {
				testenv.Unmount(t, filepath.Join(dir, "mnt", "d1"))
				_, _ = s.Stop(context.Background(), svc.ActionOptions{})
			})
			var sum string
			if tc.content != nil {
				require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
				require.NoError(t, os.WriteFile(file, tc.content(t), 0o600))
				sum = testenv.SHA256File(t, file)
				out, _ := exec.Command("blkid", "-p", file).CombinedOutput()
				require.Empty(t, strings.TrimSpace(string(out)), "blkid finds a signature: the case tests nothing")

				_, err := s.Provision(ctx, svc.ActionOptions{})
				require.ErrorContains(t, err, "fs#1: provision: /dev/loop")
				require.ErrorContains(t, err, ": first MiB not blank (byte 0x")
				require.ErrorContains(t, err, "refusing mkfs; set mkfs_destroys_data = true to override")
				_, err = s.Stop(ctx, svc.ActionOptions{})
				require.NoError(t, err)
				require.Equal(t, sum, testenv.SHA256File(t, file), "provision changed the data")

				// Unprovision keeps what the service did not create.
				res, err := s.Unprovision(ctx, svc.ActionOptions{DryRun: true})
				require.NoError(t, err)
				require.Equal(t, []string{"kept " + file + ": not created by this service (--force deletes it)"}, res.PlanDetails["disk#1"])
				require.Equal(t, []string{"unmount " + filepath.Join(dir, "mnt", "d1") + "; wipe nothing: the filesystem on " + filepath.Join(dir, "dev", "d1") + " goes only with its disk"}, res.PlanDetails["fs#1"])
				_, err = s.Unprovision(ctx, svc.ActionOptions{})
				require.NoError(t, err)
				require.Equal(t, sum, testenv.SHA256File(t, file), "unprovision changed the data")

				// The override formats it.
				s = load("mkfs_destroys_data = true")
			}
			_, err := s.Provision(ctx, svc.ActionOptions{})
			require.NoError(t, err)
			out, err := exec.Command("blkid", "-p", "-o", "value", "-s", "TYPE", file).CombinedOutput()
			require.NoError(t, err, string(out))
			require.Equal(t, "ext4", strings.TrimSpace(string(out)))
			_, err = s.Stop(ctx, svc.ActionOptions{})
			require.NoError(t, err)

			res, err := s.Unprovision(ctx, svc.ActionOptions{DryRun: true})
			require.NoError(t, err)
			if tc.content == nil {
				require.Equal(t, []string{"delete file " + file}, res.PlanDetails["disk#1"])
				_, err = s.Unprovision(ctx, svc.ActionOptions{})
				require.NoError(t, err)
				require.NoFileExists(t, file)
				return
			}
			require.Equal(t, []string{"kept " + file + ": not created by this service (--force deletes it)"}, res.PlanDetails["disk#1"])
			_, err = s.Unprovision(ctx, svc.ActionOptions{})
			require.NoError(t, err)
			require.FileExists(t, file)
			res, err = s.Unprovision(ctx, svc.ActionOptions{DryRun: true, Force: true})
			require.NoError(t, err)
			require.Equal(t, []string{"delete file " + file + " (forced; not created by this service)"}, res.PlanDetails["disk#1"])
			_, err = s.Unprovision(ctx, svc.ActionOptions{Force: true})
			require.NoError(t, err)
			require.NoFileExists(t, file)
		})
	}
}
