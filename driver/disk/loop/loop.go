// Package loop is the disk.loop driver: a loop device backed by a file,
// the on-premise and development stand-in for cloud disks.
//
// Import it for its side effect of registering "disk.loop":
//
//	import _ "github.com/svckit/svckit/driver/disk/loop"
//
// Provision creates the backing file, sparse, and never truncates or
// replaces an existing one. It records the file it created (device, inode,
// birth time) in the service's state directory; unprovision deletes the
// backing file only when that record still matches it, and keeps (and
// logs) a file that existed before provision or was replaced since, unless
// forced (resource.WithForce, svcmgr unprovision --force). Start attaches the file to a free loop device
// with losetup(8); stop detaches it; status is read from sysfs
// (/sys/block/loopN/loop/backing_file). losetup is used rather than the
// LOOP_CONFIGURE ioctl because util-linux already handles the race for a
// free device between concurrent attachers and the kernels without
// LOOP_CONFIGURE; reading the state needs no tool.
//
// The loop device number (/dev/loopN) is chosen at each attach, so an fs
// resource cannot name it in its configuration. Set the link keyword: start
// makes that path a symlink to the attached /dev/loopN, and the fs uses
// dev = <link>. The resource provides the link path, so the scheduler
// starts the fs after the disk.
package loop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/internal/created"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(disk.Loop, New) }

// Loop is a disk.loop resource: the spec, and losetup at action time.
type Loop struct {
	resource.Base
	disk.LoopSpec
	// created keeps the record of the backing file provision created.
	created created.Store
}

var (
	_ resource.Provisioner        = (*Loop)(nil)
	_ resource.Unprovisioner      = (*Loop)(nil)
	_ resource.UnprovisionPlanner = (*Loop)(nil)
	_ resource.ProvisionChecker   = (*Loop)(nil)
	_ resource.Provider           = (*Loop)(nil)
	_ resource.User               = (*Loop)(nil)
)

// New is the disk.loop factory.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := disk.ParseLoopSpec(cfg)
	if err != nil {
		return nil, err
	}
	return &Loop{Base: cfg.Base(), LoopSpec: *s, created: created.Open(cfg.VarDir)}, nil
}

// Provisioned tells whether the backing file exists.
func (l *Loop) Provisioned(context.Context) (bool, error) {
	_, err := os.Stat(l.File)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, resource.Errorf(l.ID, "provisioned", "stat %s: %w", l.File, err)
	}
	return true, nil
}

// Provision creates the backing file, sparse, of the size keyword. An
// existing file is kept as it is, whatever its size.
func (l *Loop) Provision(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", l.ID)
	if st, err := os.Stat(l.File); err == nil {
		if !st.Mode().IsRegular() {
			return resource.Errorf(l.ID, "provision", "%s exists and is not a regular file", l.File)
		}
		if owned, why, err := l.created.OwnsFile(l.File); err == nil && !owned {
			log.Info("backing file exists, kept; unprovision will keep it too", "file", l.File, "size", st.Size(), "reason", why)
		} else {
			log.Info("backing file exists, kept", "file", l.File, "size", st.Size())
		}
		return nil
	}
	if l.Size <= 0 {
		return resource.Errorf(l.ID, "provision", "cannot create %s: the size keyword is not set", l.File)
	}
	if resource.IsDryRun(ctx) {
		log.Info("would create the backing file", "file", l.File, "size", l.Size)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(l.File), 0o755); err != nil {
		return resource.Errorf(l.ID, "provision", "%w", err)
	}
	// O_EXCL: a file created meanwhile by someone else is never truncated.
	f, err := os.OpenFile(l.File, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return resource.Errorf(l.ID, "provision", "create %s: %w", l.File, err)
	}
	err = f.Truncate(l.Size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(l.File)
		return resource.Errorf(l.ID, "provision", "size %s to %d bytes: %w", l.File, l.Size, err)
	}
	if d, err := os.Open(filepath.Dir(l.File)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if err := l.created.PutFile(l.ID, l.File); errors.Is(err, created.ErrNoStateDir) {
		log.Warn("backing file created but not recorded", "file", l.File, "reason", err.Error())
	} else if err != nil {
		// Without the record the file would never be unprovisioned: undo
		// the creation (nothing was written in it yet).
		os.Remove(l.File)
		return resource.Errorf(l.ID, "provision", "record the creation of %s: %w; file removed", l.File, err)
	}
	log.Info("backing file created", "file", l.File, "size", l.Size)
	return nil
}

// Unprovision deletes the backing file when provision created it (its
// record matches the file there), or when forced; otherwise the file is
// kept and the log says why. It refuses while the file is attached.
func (l *Loop) Unprovision(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", l.ID)
	devs, err := l.Devices()
	if err != nil {
		return resource.Errorf(l.ID, "unprovision", "%w", err)
	}
	if len(devs) > 0 {
		return resource.Errorf(l.ID, "unprovision", "%s is attached to %s: stop the resource first", l.File, strings.Join(devs, ", "))
	}
	del, line, err := l.decide(ctx)
	if err != nil {
		return resource.Errorf(l.ID, "unprovision", "%w", err)
	}
	switch {
	case !del:
		log.Warn(line, "file", l.File)
		return nil
	case resource.IsDryRun(ctx):
		log.Info("would "+line, "file", l.File)
		return nil
	}
	if err := os.Remove(l.File); err != nil && !errors.Is(err, os.ErrNotExist) {
		return resource.Errorf(l.ID, "unprovision", "%w", err)
	}
	if err := l.created.Delete(created.KindFile, l.File); err != nil {
		log.Warn("backing file deleted, its record not", "file", l.File, "error", err.Error())
	}
	log.Info("backing file deleted", "file", l.File)
	return nil
}

// PlanUnprovision says what Unprovision would do with the backing file.
func (l *Loop) PlanUnprovision(ctx context.Context) ([]string, error) {
	_, line, err := l.decide(ctx)
	if err != nil {
		return nil, resource.Errorf(l.ID, "unprovision", "%w", err)
	}
	return []string{line}, nil
}

// decide tells whether unprovision deletes the backing file, with the
// line that says what it does ("delete <file>", "keep <file>: <why>").
func (l *Loop) decide(ctx context.Context) (bool, string, error) {
	if _, err := os.Lstat(l.File); errors.Is(err, os.ErrNotExist) {
		return false, "nothing to delete: " + l.File + " does not exist", nil
	} else if err != nil {
		return false, "", err
	}
	owned, why, err := l.created.OwnsFile(l.File)
	switch {
	case err != nil:
		return false, "", err
	case owned:
		return true, "delete file " + l.File, nil
	case resource.IsForced(ctx):
		return true, "delete file " + l.File + " (forced; " + why + ")", nil
	}
	return false, "kept " + l.File + ": " + why + " (--force deletes it)", nil
}

// Devices returns the loop devices the backing file is attached to, read
// from sysfs.
func (l *Loop) Devices() ([]string, error) {
	return devicesOf(l.File)
}

func devicesOf(file string) ([]string, error) {
	want := file
	if p, err := filepath.EvalSymlinks(file); err == nil {
		want = p
	}
	entries, err := filepath.Glob("/sys/block/loop*/loop/backing_file")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(e)
		if err != nil {
			continue // detached meanwhile
		}
		bf := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
		if bf == want || bf == file {
			out = append(out, "/dev/"+filepath.Base(filepath.Dir(filepath.Dir(e))))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Status is up when the file is attached (warn when link does not point
// to the device), down otherwise.
func (l *Loop) Status(context.Context) (resource.Status, error) {
	devs, err := l.Devices()
	if err != nil {
		return resource.Undef, err
	}
	if len(devs) == 0 {
		if _, err := os.Stat(l.File); errors.Is(err, os.ErrNotExist) {
			return resource.Down, fmt.Errorf("%s does not exist (not provisioned)", l.File)
		}
		return resource.Down, nil
	}
	if len(devs) > 1 {
		return resource.Warn, fmt.Errorf("%s is attached %d times: %s", l.File, len(devs), strings.Join(devs, ", "))
	}
	if l.Link != "" {
		target, err := os.Readlink(l.Link)
		if err != nil {
			return resource.Warn, fmt.Errorf("attached to %s but link %s: %w", devs[0], l.Link, err)
		}
		if target != devs[0] {
			return resource.Warn, fmt.Errorf("attached to %s but link %s points to %s", devs[0], l.Link, target)
		}
	}
	return resource.Up, nil
}

// Start attaches the file to a free loop device (or keeps the attachment
// it has) and points link to it.
func (l *Loop) Start(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", l.ID)
	st, err := os.Stat(l.File)
	if err != nil {
		return resource.Errorf(l.ID, "start", "backing file: %w (provision creates it)", err)
	}
	if !st.Mode().IsRegular() {
		return resource.Errorf(l.ID, "start", "%s is not a regular file", l.File)
	}
	devs, err := l.Devices()
	if err != nil {
		return resource.Errorf(l.ID, "start", "%w", err)
	}
	var dev string
	switch {
	case len(devs) > 0:
		dev = devs[0]
		log.Info("already attached", "file", l.File, "dev", dev)
	case resource.IsDryRun(ctx):
		log.Info("would attach", "file", l.File)
		return nil
	default:
		out, err := run(ctx, "losetup", "--find", "--show", l.File)
		if err != nil {
			return resource.Errorf(l.ID, "start", "attach %s: %w", l.File, err)
		}
		dev = strings.TrimSpace(out)
		log.Info("attached", "file", l.File, "dev", dev)
	}
	if l.Link == "" || resource.IsDryRun(ctx) {
		return nil
	}
	if err := setLink(l.Link, dev); err != nil {
		return resource.Errorf(l.ID, "start", "link %s to %s: %w", l.Link, dev, err)
	}
	return nil
}

// setLink points link to dev atomically (symlink beside, then rename). An
// existing link that is not a symlink is never replaced.
func setLink(link, dev string) error {
	if st, err := os.Lstat(link); err == nil {
		if st.Mode()&os.ModeSymlink == 0 {
			return fmt.Errorf("%s exists and is not a symlink", link)
		}
		if t, _ := os.Readlink(link); t == dev {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	tmp := link + ".tmp-svckit"
	os.Remove(tmp)
	if err := os.Symlink(dev, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Stop detaches the loop devices of the file and removes link. A device
// still mounted or held (device-mapper, md) is not detached: the kernel
// would only mark it for auto-clear and report success.
func (l *Loop) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", l.ID)
	devs, err := l.Devices()
	if err != nil {
		return resource.Errorf(l.ID, "stop", "%w", err)
	}
	for _, dev := range devs {
		if err := checkUnused(dev); err != nil {
			return resource.Errorf(l.ID, "stop", "%w", err)
		}
	}
	if resource.IsDryRun(ctx) {
		log.Info("would detach", "file", l.File, "devs", devs)
		return nil
	}
	if l.Link != "" {
		if st, err := os.Lstat(l.Link); err == nil && st.Mode()&os.ModeSymlink != 0 {
			if err := os.Remove(l.Link); err != nil {
				return resource.Errorf(l.ID, "stop", "%w", err)
			}
		}
	}
	for _, dev := range devs {
		if _, err := run(ctx, "losetup", "--detach", dev); err != nil {
			return resource.Errorf(l.ID, "stop", "detach %s: %w", dev, err)
		}
		log.Info("detached", "file", l.File, "dev", dev)
	}
	if left, err := l.waitDetached(ctx); err == nil && len(left) > 0 {
		return resource.Errorf(l.ID, "stop", "%s is still attached to %s after %s", l.File, strings.Join(left, ", "), detachWait)
	}
	return nil
}

// detachWait bounds how long stop waits for a detach to complete.
const detachWait = 5 * time.Second

// waitDetached waits until the file is attached to no device, for at most
// detachWait. A device that another process holds open at the detach (a
// blkid probe for a LABEL=, udev) is only marked for autoclear by the
// kernel, and released when that process closes it, a moment later.
func (l *Loop) waitDetached(ctx context.Context) ([]string, error) {
	deadline := time.Now().Add(detachWait)
	for {
		left, err := l.Devices()
		if err != nil || len(left) == 0 || time.Now().After(deadline) {
			return left, err
		}
		select {
		case <-ctx.Done():
			return left, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkUnused fails when dev is mounted or has holders.
func checkUnused(dev string) error {
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return fmt.Errorf("stat %s: %w", dev, err)
	}
	maj, min := unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))
	ms, err := mountinfo.Read()
	if err != nil {
		return err
	}
	var at []string
	for _, m := range ms {
		if (m.Major == maj && m.Minor == min) || m.Source == dev {
			at = append(at, m.MountPoint)
		}
	}
	if len(at) > 0 {
		return fmt.Errorf("%s is mounted on %s: stop the fs resources first", dev, strings.Join(at, ", "))
	}
	holders, _ := os.ReadDir("/sys/block/" + filepath.Base(dev) + "/holders")
	if len(holders) > 0 {
		var names []string
		for _, h := range holders {
			names = append(names, h.Name())
		}
		return fmt.Errorf("%s is held by %s", dev, strings.Join(names, ", "))
	}
	return nil
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
