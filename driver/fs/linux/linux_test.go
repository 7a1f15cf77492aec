package linux

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
)

func cfg(m driver.Manifest, values map[string]string) driver.Config {
	return driver.Config{RID: "fs#01", Manifest: m, Svcname: "svc", Values: values}
}

func newFS(t *testing.T, m driver.Manifest, values map[string]string) *FS {
	t.Helper()
	r, err := New(context.Background(), cfg(m, values))
	require.NoError(t, err)
	return r.(*FS)
}

func TestRegistered(t *testing.T) {
	for _, id := range []string{"fs.ext4", "fs.xfs", "fs.btrfs"} {
		_, ok := driver.Default().Lookup(id)
		require.True(t, ok, id)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		m      driver.Manifest
		values map[string]string
		want   string
	}{
		{fs.Ext4, map[string]string{"dev": "sdb", "mnt": "/m"}, `dev: "sdb": expected an absolute device path, LABEL=<label> or UUID=<uuid>`},
		{fs.Ext4, map[string]string{"dev": "LABEL=", "mnt": "/m"}, `dev: "LABEL=": empty label`},
		{fs.Ext4, map[string]string{"dev": "UUID=", "mnt": "/m"}, `dev: "UUID=": empty uuid`},
		{fs.Ext4, map[string]string{"dev": "/dev/sdb", "mnt": "m"}, `mnt: "m": expected an absolute path`},
		{fs.XFS, map[string]string{"dev": "/dev/sdb", "mnt": "/m", "label": "thirteen-char"}, `label: "thirteen-char": xfs labels are at most 12 bytes`},
		{fs.Ext4, map[string]string{"dev": "LABEL=a", "mnt": "/m", "label": "b"}, `label: "b" differs from the one of dev "LABEL=a"`},
		{fs.Ext4, map[string]string{"dev": "/dev/sdb", "mnt": "/m", "mkfs_dev": "/dev/sdc"}, `mkfs_dev: only for a LABEL= or UUID= dev; dev is the path /dev/sdb`},
		{fs.Ext4, map[string]string{"dev": "LABEL=a", "mnt": "/m", "mkfs_dev": "sdc"}, `mkfs_dev: "sdc": expected an absolute device path`},
		{fs.Ext4, map[string]string{"dev": "/dev/sdb", "mnt": "/m", "mkfs_opt": `-E "unterminated`}, `mkfs_opt: cannot split into words: EOF found when expecting closing quote`},
	} {
		_, err := New(context.Background(), cfg(tc.m, tc.values))
		require.EqualError(t, err, tc.want)
	}
}

func TestUsesProvides(t *testing.T) {
	f := newFS(t, fs.Ext4, map[string]string{"dev": "/dev/disk/by-id/google-svc.disk.01.0", "mnt": "/spdsvc01/pod01/"})
	require.Equal(t, []string{"/spdsvc01/pod01"}, f.Provides())
	uses, order := f.Uses()
	require.Equal(t, []string{"/dev/disk/by-id/google-svc.disk.01.0", "/spdsvc01"}, uses)
	require.Equal(t, resource.OrderByUses, order)
	require.Equal(t, "/dev/disk/by-id/google-svc.disk.01.0@/spdsvc01/pod01", f.Label())

	f = newFS(t, fs.XFS, map[string]string{"dev": "/dev/vdb", "mnt": "/"})
	uses, _ = f.Uses()
	require.Equal(t, []string{"/dev/vdb"}, uses, "the root fs does not use itself")

	f = newFS(t, fs.Btrfs, map[string]string{"dev": "LABEL=spdsvc01", "mnt": "/spdsvc01"})
	_, order = f.Uses()
	require.Equal(t, resource.OrderByGroup, order, "a LABEL= dev keeps the group barrier")
	require.Equal(t, "LABEL=spdsvc01@/spdsvc01", f.Label())
}

func TestMkfsArgs(t *testing.T) {
	for _, tc := range []struct {
		m      driver.Manifest
		values map[string]string
		want   string
	}{
		{fs.Ext4, map[string]string{"dev": "/dev/x", "mnt": "/m"}, "mkfs.ext4 -q /dev/x"},
		{fs.Ext4, map[string]string{"dev": "/dev/x", "mnt": "/m", "label": "data", "mkfs_opt": "-m 0 -E 'lazy_itable_init=1'"}, "mkfs.ext4 -q -L data -m 0 -E lazy_itable_init=1 /dev/x"},
		{fs.XFS, map[string]string{"dev": "UUID=0b1c", "mnt": "/m"}, "mkfs.xfs -q -m uuid=0b1c /dev/x"},
		{fs.Btrfs, map[string]string{"dev": "LABEL=svc", "mnt": "/m"}, "mkfs.btrfs -q -L svc /dev/x"},
		{fs.Btrfs, map[string]string{"dev": "UUID=0b1c", "mnt": "/m"}, "mkfs.btrfs -q -U 0b1c /dev/x"},
	} {
		f := newFS(t, tc.m, tc.values)
		require.Equal(t, tc.want, strings.Join(f.mkfsArgs("/dev/x"), " "))
	}
}

func requireFS(t *testing.T, typ string) {
	testenv.RequireLoop(t)
	testenv.RequireCommands(t, "mount", "mkfs."+typ)
}

// mountDir returns a mount point unmounted when t ends (before the loop
// device is detached: cleanups run last-in first-out).
func mountDir(t *testing.T) string {
	mnt := filepath.Join(t.TempDir(), "mnt")
	t.Cleanup(func() { testenv.Unmount(t, mnt) })
	return mnt
}

func blkidTag(t *testing.T, dev, tag string) string {
	out, err := exec.Command("blkid", "-p", "-o", "value", "-s", tag, dev).CombinedOutput()
	require.NoError(t, err, string(out))
	return strings.TrimSpace(string(out))
}

// TestNeverFormatsTwice is the driver's first promise: provision, write
// data, provision again, the data is still there.
func TestNeverFormatsTwice(t *testing.T) {
	for _, m := range fs.Manifests() {
		t.Run(m.Type(), func(t *testing.T) {
			requireFS(t, m.Type())
			ctx := context.Background()
			dev := testenv.LoopDevice(t, 320<<20)
			mnt := mountDir(t)
			f := newFS(t, m, map[string]string{"dev": dev, "mnt": mnt, "mnt_opt": "defaults,rw", "label": "svcdata"})

			ok, err := f.Provisioned(ctx)
			require.NoError(t, err)
			require.False(t, ok)
			st, err := f.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, resource.Down, st)

			require.NoError(t, f.Provision(resource.WithDryRun(ctx, true)))
			ok, _ = f.Provisioned(ctx)
			require.False(t, ok, "dry run formatted")

			require.NoError(t, f.Provision(ctx))
			ok, err = f.Provisioned(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, m.Type(), blkidTag(t, dev, "TYPE"))
			require.Equal(t, "svcdata", blkidTag(t, dev, "LABEL"))
			uuid := blkidTag(t, dev, "UUID")

			require.NoError(t, f.Start(ctx))
			st, err = f.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, resource.Up, st)
			require.NoError(t, f.Start(ctx), "start of a mounted fs")
			require.NoError(t, os.WriteFile(filepath.Join(mnt, "data"), []byte("precious"), 0o600))

			// Provision of a mounted, formatted fs: nothing done.
			require.NoError(t, f.Provision(ctx))
			require.NoError(t, f.Stop(ctx))
			st, err = f.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, resource.Down, st)
			require.NoError(t, f.Stop(ctx), "stop of an unmounted fs")

			require.NoError(t, f.Provision(ctx))
			require.Equal(t, uuid, blkidTag(t, dev, "UUID"), "the filesystem was made again")
			require.NoError(t, f.Start(ctx))
			b, err := os.ReadFile(filepath.Join(mnt, "data"))
			require.NoError(t, err)
			require.Equal(t, "precious", string(b))
			require.NoError(t, f.Stop(ctx))
		})
	}
}

func TestProvisionRefusesOtherSignature(t *testing.T) {
	requireFS(t, "xfs")
	testenv.RequireCommands(t, "mkfs.ext4")
	ctx := context.Background()
	dev := testenv.LoopDevice(t, 320<<20)
	out, err := exec.Command("mkfs.ext4", "-q", dev).CombinedOutput()
	require.NoError(t, err, string(out))
	uuid := blkidTag(t, dev, "UUID")

	f := newFS(t, fs.XFS, map[string]string{"dev": dev, "mnt": mountDir(t)})
	err = f.Provision(ctx)
	require.ErrorContains(t, err, "holds ext4, not xfs: not formatted")
	require.Equal(t, uuid, blkidTag(t, dev, "UUID"))
	ok, err := f.Provisioned(ctx)
	require.NoError(t, err)
	require.False(t, ok)
}

// TestProvisionRefusesPartitionTable: a disk with a partition table and no
// filesystem at the start is not empty either.
func TestProvisionRefusesPartitionTable(t *testing.T) {
	requireFS(t, "ext4")
	dev := testenv.LoopDevice(t, 64<<20)
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	require.NoError(t, err)
	// A DOS partition table: one Linux partition from sector 2048.
	entry := []byte{0, 0, 0, 0, 0x83, 0, 0, 0, 0x00, 0x08, 0, 0, 0xa0, 0x86, 0x01, 0}
	_, err = f.WriteAt(entry, 446)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0x55, 0xaa}, 510)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	fsr := newFS(t, fs.Ext4, map[string]string{"dev": dev, "mnt": mountDir(t)})
	require.ErrorContains(t, fsr.Provision(context.Background()), "holds partition table dos, not ext4: not formatted")
	require.Equal(t, "dos", blkidTag(t, dev, "PTTYPE"))
}

func TestProvisionMissingDevice(t *testing.T) {
	testenv.RequireRoot(t)
	f := newFS(t, fs.Ext4, map[string]string{"dev": "/dev/svckit-test-missing", "mnt": "/nonexistent"})
	require.ErrorContains(t, f.Provision(context.Background()), "device /dev/svckit-test-missing does not exist")
	st, err := f.Status(context.Background())
	require.NoError(t, err, "a missing device is plainly down")
	require.Equal(t, resource.Down, st)
}

func TestLabelDev(t *testing.T) {
	requireFS(t, "ext4")
	ctx := context.Background()
	dev := testenv.LoopDevice(t, 64<<20)
	mnt := mountDir(t)
	label := testenv.RandomName("t")

	f := newFS(t, fs.Ext4, map[string]string{"dev": "LABEL=" + label, "mnt": mnt})
	require.ErrorContains(t, f.Provision(ctx), "no device carries LABEL="+label+" and mkfs_dev is not set")
	require.ErrorContains(t, f.Start(ctx), "device LABEL="+label+" not found")

	f = newFS(t, fs.Ext4, map[string]string{"dev": "LABEL=" + label, "mnt": mnt, "mkfs_dev": dev})
	require.NoError(t, f.Provision(ctx))
	require.Equal(t, label, blkidTag(t, dev, "LABEL"))
	require.NoError(t, f.Provision(ctx), "second provision finds the label")
	require.NoError(t, f.Start(ctx))
	st, err := f.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)
	require.NoError(t, f.Stop(ctx))

	// The same filesystem by UUID.
	u := newFS(t, fs.Ext4, map[string]string{"dev": "UUID=" + blkidTag(t, dev, "UUID"), "mnt": mnt})
	require.NoError(t, u.Start(ctx))
	st, err = u.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)
	require.NoError(t, u.Stop(ctx))
}

func TestStartConflicts(t *testing.T) {
	requireFS(t, "ext4")
	ctx := context.Background()
	dev := testenv.LoopDevice(t, 64<<20)
	other := mountDir(t)
	mnt := mountDir(t)
	f := newFS(t, fs.Ext4, map[string]string{"dev": dev, "mnt": mnt})
	require.NoError(t, f.Provision(ctx))

	// The device mounted elsewhere: start fails, status says where.
	require.NoError(t, os.MkdirAll(other, 0o755))
	out, err := exec.Command("mount", dev, other).CombinedOutput()
	require.NoError(t, err, string(out))
	require.ErrorContains(t, f.Start(ctx), "is already mounted on "+other)
	st, err := f.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.ErrorContains(t, err, "mounted on "+other)
	testenv.Unmount(t, other)

	// Another filesystem on mnt: start fails.
	require.NoError(t, os.MkdirAll(mnt, 0o755))
	out, err = exec.Command("mount", "-t", "tmpfs", "tmpfs", mnt).CombinedOutput()
	require.NoError(t, err, string(out))
	require.ErrorContains(t, f.Start(ctx), "tmpfs is already mounted on "+mnt)
}

func TestStopBusyNamesHolders(t *testing.T) {
	requireFS(t, "ext4")
	testenv.RequireCommands(t, "sleep")
	ctx := context.Background()
	dev := testenv.LoopDevice(t, 64<<20)
	mnt := mountDir(t)
	f := newFS(t, fs.Ext4, map[string]string{"dev": dev, "mnt": mnt})
	require.NoError(t, f.Provision(ctx))
	require.NoError(t, f.Start(ctx))

	cmd := exec.Command("sleep", "300")
	cmd.Dir = mnt
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	err := f.Stop(ctx)
	require.ErrorContains(t, err, "busy, held by pid "+strconv.Itoa(cmd.Process.Pid)+" (sleep, cwd)")
	st, _ := f.Status(ctx)
	require.Equal(t, resource.Up, st)

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	// A filesystem mounted below: named too.
	sub := filepath.Join(mnt, "sub")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", sub).CombinedOutput()
	require.NoError(t, err, string(out))
	require.ErrorContains(t, f.Stop(ctx), "filesystems are mounted below it: "+sub)
	testenv.Unmount(t, sub)

	require.NoError(t, f.Stop(ctx))
}
