package loop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
)

func cfg(values map[string]string) driver.Config {
	return driver.Config{RID: "disk#01", Manifest: disk.Loop, Svcname: "svc", Values: values}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"file": "rel/disk.img"}, `file: "rel/disk.img": expected an absolute path`},
		{map[string]string{"file": "/d.img", "link": "dev/x"}, `link: "dev/x": expected an absolute path`},
	} {
		_, err := New(context.Background(), cfg(tc.values))
		require.EqualError(t, err, tc.want)
	}
}

func TestRegistered(t *testing.T) {
	d, ok := driver.Default().Lookup("disk.loop")
	require.True(t, ok)
	_, ok = d.Manifest.Keyword("link")
	require.True(t, ok)
}

func TestProvidesUses(t *testing.T) {
	r, err := New(context.Background(), cfg(map[string]string{"file": "/srv/a/../disk.img", "link": "/dev/svckit/d1"}))
	require.NoError(t, err)
	l := r.(*Loop)
	require.Equal(t, []string{"/dev/svckit/d1"}, l.Provides())
	uses, order := l.Uses()
	require.Equal(t, []string{"/srv/disk.img"}, uses)
	require.Equal(t, resource.OrderByUses, order)
	require.Equal(t, "loop /srv/disk.img", l.Label())

	r, err = New(context.Background(), cfg(map[string]string{"file": "/srv/disk.img"}))
	require.NoError(t, err)
	require.Nil(t, r.(*Loop).Provides())
}

func TestProvisionNeedsSize(t *testing.T) {
	dir := t.TempDir()
	r, err := New(context.Background(), cfg(map[string]string{"file": filepath.Join(dir, "d.img")}))
	require.NoError(t, err)
	err = r.(*Loop).Provision(context.Background())
	require.ErrorContains(t, err, "the size keyword is not set")
}

func TestProvisionKeepsExistingFile(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "sub", "d.img")
	r, err := New(ctx, cfg(map[string]string{"file": file, "size": "64m"}))
	require.NoError(t, err)
	l := r.(*Loop)

	ok, err := l.Provisioned(ctx)
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, l.Provision(resource.WithDryRun(ctx, true)))
	_, err = os.Stat(file)
	require.ErrorIs(t, err, os.ErrNotExist, "dry run created the file")

	require.NoError(t, l.Provision(ctx))
	st, err := os.Stat(file)
	require.NoError(t, err)
	require.EqualValues(t, 64<<20, st.Size())
	require.Less(t, st.Sys().(*syscall.Stat_t).Blocks*512, int64(1<<20), "file is not sparse")

	// Data written, then a provision with another size: untouched.
	require.NoError(t, os.WriteFile(file, []byte("precious"), 0o600))
	l.Size = 1 << 30
	require.NoError(t, l.Provision(ctx))
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, "precious", string(b))

	ok, err = l.Provisioned(ctx)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestStartStop(t *testing.T) {
	testenv.RequireLoop(t)
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "d.img")
	link := filepath.Join(dir, "dev", "disk01")
	c := cfg(map[string]string{"file": file, "size": "32m", "link": link})
	c.VarDir = filepath.Join(dir, "var")
	r, err := New(ctx, c)
	require.NoError(t, err)
	l := r.(*Loop)
	t.Cleanup(func() {
		devs, _ := l.Devices()
		for _, d := range devs {
			testenv.DetachLoop(t, d)
		}
	})

	st, err := l.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.ErrorContains(t, err, "not provisioned")
	require.ErrorContains(t, l.Start(ctx), "provision creates it")

	require.NoError(t, l.Provision(ctx))
	st, err = l.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)

	require.NoError(t, l.Start(ctx))
	devs, err := l.Devices()
	require.NoError(t, err)
	require.Len(t, devs, 1)
	target, err := os.Readlink(link)
	require.NoError(t, err)
	require.Equal(t, devs[0], target)
	st, err = l.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)

	// Idempotent: a second start keeps the same device.
	require.NoError(t, l.Start(ctx))
	again, err := l.Devices()
	require.NoError(t, err)
	require.Equal(t, devs, again)

	// A wrong link is a warning.
	require.NoError(t, os.Remove(link))
	require.NoError(t, os.Symlink("/dev/null", link))
	st, err = l.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "points to /dev/null")
	require.NoError(t, l.Start(ctx))
	st, _ = l.Status(ctx)
	require.Equal(t, resource.Up, st)

	// Unprovision refuses while attached.
	require.ErrorContains(t, l.Unprovision(ctx), "stop the resource first")

	// Stop refuses while the device is mounted.
	if _, err := exec.LookPath("mkfs.ext4"); err == nil {
		out, err := exec.Command("mkfs.ext4", "-q", devs[0]).CombinedOutput()
		require.NoError(t, err, string(out))
		mnt := t.TempDir()
		out, err = exec.Command("mount", devs[0], mnt).CombinedOutput()
		require.NoError(t, err, string(out))
		err = l.Stop(ctx)
		require.ErrorContains(t, err, "is mounted on "+mnt)
		out, err = exec.Command("umount", mnt).CombinedOutput()
		require.NoError(t, err, string(out))
	}

	require.NoError(t, l.Stop(ctx))
	devs, err = l.Devices()
	require.NoError(t, err)
	require.Empty(t, devs)
	_, err = os.Lstat(link)
	require.ErrorIs(t, err, os.ErrNotExist)
	st, err = l.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)
	require.NoError(t, l.Stop(ctx), "stop of a stopped disk")

	require.NoError(t, l.Unprovision(ctx))
	_, err = os.Stat(file)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLinkNeverReplacesAFile(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "notalink")
	require.NoError(t, os.WriteFile(link, []byte("x"), 0o600))
	require.ErrorContains(t, setLink(link, "/dev/loop0"), "is not a symlink")
}

// TestUnprovisionDeletesOnlyWhatItCreated: the backing file goes only when
// this service's provision created it and it is still that file; anything
// else is kept, byte for byte, unless forced.
func TestUnprovisionDeletesOnlyWhatItCreated(t *testing.T) {
	const content = "a database nobody backed up"
	for _, tc := range []struct {
		name string
		// before runs before provision, after between provision and
		// unprovision.
		before, after func(t *testing.T, file string)
		noVarDir      bool
		force         bool
		plan          string // %s is the file
		deleted       bool
	}{
		{name: "created by provision", plan: "delete file %s", deleted: true},
		{name: "existed before", before: writeFile(content), plan: "kept %s: not created by this service (--force deletes it)"},
		{name: "existed before, forced", before: writeFile(content), force: true, plan: "delete file %s (forced; not created by this service)", deleted: true},
		{name: "replaced after provision", after: func(t *testing.T, file string) {
			other := file + ".new"
			writeFile(content)(t, other)
			require.NoError(t, os.Rename(other, file))
		}, plan: "kept %s: not created by this service (replaced since it was created on "},
		{name: "written to after provision", after: func(t *testing.T, file string) {
			f, err := os.OpenFile(file, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte(content), 4096)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, plan: "delete file %s", deleted: true},
		{name: "no state directory", noVarDir: true, plan: "kept %s: not created by this service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			file := filepath.Join(dir, "d.img")
			c := cfg(map[string]string{"file": file, "size": "16m"})
			if !tc.noVarDir {
				c.VarDir = filepath.Join(dir, "var")
			}
			r, err := New(ctx, c)
			require.NoError(t, err)
			l := r.(*Loop)
			if tc.before != nil {
				tc.before(t, file)
			}
			require.NoError(t, l.Provision(ctx))
			if tc.after != nil {
				tc.after(t, file)
			}
			sum := testenv.SHA256File(t, file)

			uctx := resource.WithForce(ctx, tc.force)
			plan, err := l.PlanUnprovision(uctx)
			require.NoError(t, err)
			require.Len(t, plan, 1)
			require.Contains(t, plan[0], strings.ReplaceAll(tc.plan, "%s", file))

			require.NoError(t, l.Unprovision(resource.WithDryRun(uctx, true)))
			require.Equal(t, sum, testenv.SHA256File(t, file), "dry run")

			require.NoError(t, l.Unprovision(uctx))
			if tc.deleted {
				_, err = os.Stat(file)
				require.ErrorIs(t, err, os.ErrNotExist)
				plan, err = l.PlanUnprovision(uctx)
				require.NoError(t, err)
				require.Equal(t, []string{"nothing to delete: " + file + " does not exist"}, plan)
				return
			}
			require.Equal(t, sum, testenv.SHA256File(t, file), "kept file changed")
			// Forced, the kept file goes.
			require.NoError(t, l.Unprovision(resource.WithForce(ctx, true)))
			_, err = os.Stat(file)
			require.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

func writeFile(content string) func(t *testing.T, file string) {
	return func(t *testing.T, file string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
		require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
	}
}

// TestStopWhileProbed: a device that another process holds open at the
// detach (a blkid probe looking for a LABEL= on another node of the same
// host) is released by the kernel when that process closes it: stop
// waits for it instead of failing "still attached".
func TestStopWhileProbed(t *testing.T) {
	testenv.RequireLoop(t)
	ctx := context.Background()
	dir := t.TempDir()
	c := cfg(map[string]string{"file": filepath.Join(dir, "d.img"), "size": "8m"})
	c.VarDir = filepath.Join(dir, "var")
	r, err := New(ctx, c)
	require.NoError(t, err)
	l := r.(*Loop)
	t.Cleanup(func() {
		devs, _ := l.Devices()
		for _, d := range devs {
			testenv.DetachLoop(t, d)
		}
	})
	require.NoError(t, l.Provision(ctx))
	require.NoError(t, l.Start(ctx))
	devs, err := l.Devices()
	require.NoError(t, err)
	require.Len(t, devs, 1)
	probe, err := os.Open(devs[0])
	require.NoError(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond)
		probe.Close()
	}()
	require.NoError(t, l.Stop(ctx))
	left, err := l.Devices()
	require.NoError(t, err)
	require.Empty(t, left)
}
