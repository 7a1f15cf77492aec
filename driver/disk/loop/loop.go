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

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/internal/created"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(disk.Loop, New) }

// Loop is a disk.loop resource.
type Loop struct {
	resource.Base
	file string
	size int64
	link string
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
	l := &Loop{Base: cfg.Base(), file: cfg.String("file"), size: cfg.Size("size"), link: cfg.String("link"), created: created.Open(cfg.VarDir)}
	if !filepath.IsAbs(l.file) {
		return nil, fmt.Errorf("%s: file %q: expected an absolute path", cfg.RID, l.file)
	}
	l.file = filepath.Clean(l.file)
	if l.link != "" {
		if !filepath.IsAbs(l.link) {
			return nil, fmt.Errorf("%s: link %q: expected an absolute path", cfg.RID, l.link)
		}
		l.link = filepath.Clean(l.link)
	}
	return l, nil
}

// File is the backing file.
func (l *Loop) File() string { return l.file }

// Label is "loop <file>".
func (l *Loop) Label() string { return "loop " + l.file }

// Provides names the link, the stable path of the attached device.
func (l *Loop) Provides() []string {
	if l.link == "" {
		return nil
	}
	return []string{l.link}
}

// Uses names the backing file: the scheduler starts the fs that holds it
// first.
func (l *Loop) Uses() ([]string, resource.Ordering) {
	return []string{l.file}, resource.OrderByUses
}

// Provisioned tells whether the backing file exists.
func (l *Loop) Provisioned(context.Context) (bool, error) {
	_, err := os.Stat(l.file)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, resource.Errorf(l.ID, "provisioned", "stat %s: %w", l.file, err)
	}
	return true, nil
}

// Provision creates the backing file, sparse, of the size keyword. An
// existing file is kept as it is, whatever its size.
func (l *Loop) Provision(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", l.ID)
	if st, err := os.Stat(l.file); err == nil {
		if !st.Mode().IsRegular() {
			return resource.Errorf(l.ID, "provision", "%s exists and is not a regular file", l.file)
		}
		if owned, why, err := l.created.OwnsFile(l.file); err == nil && !owned {
			log.Info("backing file exists, kept; unprovision will keep it too", "file", l.file, "size", st.Size(), "reason", why)
		} else {
			log.Info("backing file exists, kept", "file", l.file, "size", st.Size())
		}
		return nil
	}
	if l.size <= 0 {
		return resource.Errorf(l.ID, "provision", "cannot create %s: the size keyword is not set", l.file)
	}
	if resource.IsDryRun(ctx) {
		log.Info("would create the backing file", "file", l.file, "size", l.size)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(l.file), 0o755); err != nil {
		return resource.Errorf(l.ID, "provision", "%w", err)
	}
	// O_EXCL: a file created meanwhile by someone else is never truncated.
	f, err := os.OpenFile(l.file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return resource.Errorf(l.ID, "provision", "create %s: %w", l.file, err)
	}
	err = f.Truncate(l.size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(l.file)
		return resource.Errorf(l.ID, "provision", "size %s to %d bytes: %w", l.file, l.size, err)
	}
	if d, err := os.Open(filepath.Dir(l.file)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if err := l.created.PutFile(l.ID, l.file); errors.Is(err, created.ErrNoStateDir) {
		log.Warn("backing file created but not recorded", "file", l.file, "reason", err.Error())
	} else if err != nil {
		// Without the record the file would never be unprovisioned: undo
		// the creation (nothing was written in it yet).
		os.Remove(l.file)
		return resource.Errorf(l.ID, "provision", "record the creation of %s: %w; file removed", l.file, err)
	}
	log.Info("backing file created", "file", l.file, "size", l.size)
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
		return resource.Errorf(l.ID, "unprovision", "%s is attached to %s: stop the resource first", l.file, strings.Join(devs, ", "))
	}
	del, line, err := l.decide(ctx)
	if err != nil {
		return resource.Errorf(l.ID, "unprovision", "%w", err)
	}
	switch {
	case !del:
		log.Warn(line, "file", l.file)
		return nil
	case resource.IsDryRun(ctx):
		log.Info("would "+line, "file", l.file)
		return nil
	}
	if err := os.Remove(l.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return resource.Errorf(l.ID, "unprovision", "%w", err)
	}
	if err := l.created.Delete(created.KindFile, l.file); err != nil {
		log.Warn("backing file deleted, its record not", "file", l.file, "error", err.Error())
	}
	log.Info("backing file deleted", "file", l.file)
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
	if _, err := os.Lstat(l.file); errors.Is(err, os.ErrNotExist) {
		return false, "nothing to delete: " + l.file + " does not exist", nil
	} else if err != nil {
		return false, "", err
	}
	owned, why, err := l.created.OwnsFile(l.file)
	switch {
	case err != nil:
		return false, "", err
	case owned:
		return true, "delete file " + l.file, nil
	case resource.IsForced(ctx):
		return true, "delete file " + l.file + " (forced; " + why + ")", nil
	}
	return false, "kept " + l.file + ": " + why + " (--force deletes it)", nil
}

// Devices returns the loop devices the backing file is attached to, read
// from sysfs.
func (l *Loop) Devices() ([]string, error) {
	return devicesOf(l.file)
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
		if _, err := os.Stat(l.file); errors.Is(err, os.ErrNotExist) {
			return resource.Down, fmt.Errorf("%s does not exist (not provisioned)", l.file)
		}
		return resource.Down, nil
	}
	if len(devs) > 1 {
		return resource.Warn, fmt.Errorf("%s is attached %d times: %s", l.file, len(devs), strings.Join(devs, ", "))
	}
	if l.link != "" {
		target, err := os.Readlink(l.link)
		if err != nil {
			return resource.Warn, fmt.Errorf("attached to %s but link %s: %w", devs[0], l.link, err)
		}
		if target != devs[0] {
			return resource.Warn, fmt.Errorf("attached to %s but link %s points to %s", devs[0], l.link, target)
		}
	}
	return resource.Up, nil
}

// Start attaches the file to a free loop device (or keeps the attachment
// it has) and points link to it.
func (l *Loop) Start(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", l.ID)
	st, err := os.Stat(l.file)
	if err != nil {
		return resource.Errorf(l.ID, "start", "backing file: %w (provision creates it)", err)
	}
	if !st.Mode().IsRegular() {
		return resource.Errorf(l.ID, "start", "%s is not a regular file", l.file)
	}
	devs, err := l.Devices()
	if err != nil {
		return resource.Errorf(l.ID, "start", "%w", err)
	}
	var dev string
	switch {
	case len(devs) > 0:
		dev = devs[0]
		log.Info("already attached", "file", l.file, "dev", dev)
	case resource.IsDryRun(ctx):
		log.Info("would attach", "file", l.file)
		return nil
	default:
		out, err := run(ctx, "losetup", "--find", "--show", l.file)
		if err != nil {
			return resource.Errorf(l.ID, "start", "attach %s: %w", l.file, err)
		}
		dev = strings.TrimSpace(out)
		log.Info("attached", "file", l.file, "dev", dev)
	}
	if l.link == "" || resource.IsDryRun(ctx) {
		return nil
	}
	if err := setLink(l.link, dev); err != nil {
		return resource.Errorf(l.ID, "start", "link %s to %s: %w", l.link, dev, err)
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
		log.Info("would detach", "file", l.file, "devs", devs)
		return nil
	}
	if l.link != "" {
		if st, err := os.Lstat(l.link); err == nil && st.Mode()&os.ModeSymlink != 0 {
			if err := os.Remove(l.link); err != nil {
				return resource.Errorf(l.ID, "stop", "%w", err)
			}
		}
	}
	for _, dev := range devs {
		if _, err := run(ctx, "losetup", "--detach", dev); err != nil {
			return resource.Errorf(l.ID, "stop", "detach %s: %w", dev, err)
		}
		log.Info("detached", "file", l.file, "dev", dev)
	}
	if left, err := l.Devices(); err == nil && len(left) > 0 {
		return resource.Errorf(l.ID, "stop", "%s is still attached to %s", l.file, strings.Join(left, ", "))
	}
	return nil
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
