// Package linux is the Linux implementation of the fs drivers: fs.ext4,
// fs.xfs and fs.btrfs.
//
// Import it for its side effect of registering them:
//
//	import _ "github.com/svckit/svckit/driver/fs/linux"
//
// Provision makes the filesystem only on a blank device: one that holds no
// signature at all (blkid -p: no filesystem, no partition table, no RAID
// member) and whose first and last MiB read as zeros, as a fresh cloud disk
// or sparse file does (CheckZeros). A device with a signature is never
// formatted, whatever the configuration says; one holding data blkid does
// not recognise (an archive, random bytes) only with mkfs_destroys_data =
// true, never by default. The post_provision keyword is run by the svc
// scheduler, not by this driver.
//
// dev is a device path, LABEL=<label> or UUID=<uuid>. A LABEL=/UUID= dev
// names a filesystem, so it only resolves once the filesystem exists:
// provision formats mkfs_dev then, giving it that label or uuid.
//
// Mounting goes through mount(8) rather than mount(2): mnt_opt is an
// fstab-style option string (defaults, rw, noatime, x-*, subvol=, ...)
// that mount(8) splits into flags and filesystem data and hands to the
// mount.<type> helpers, which a hand-written parser would get subtly wrong.
// The state is read from /proc/self/mountinfo, never from mount(8) output,
// and unmounting is unix.Unmount, whose EBUSY lets stop name the
// processes that hold the filesystem.
package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/resource"
)

func init() {
	for _, m := range fs.Manifests() {
		driver.Register(m, New)
	}
}

// FS is an fs.ext4, fs.xfs or fs.btrfs resource: the spec, and mkfs,
// mount and blkid at action time.
type FS struct {
	resource.Base
	fs.Spec
}

var (
	_ resource.Provisioner        = (*FS)(nil)
	_ resource.ProvisionChecker   = (*FS)(nil)
	_ resource.UnprovisionPlanner = (*FS)(nil)
	_ resource.Provider           = (*FS)(nil)
	_ resource.User               = (*FS)(nil)
)

// New is the factory of the fs drivers.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := fs.ParseSpec(cfg)
	if err != nil {
		return nil, err
	}
	return &FS{Base: cfg.Base(), Spec: *s}, nil
}

// resolve returns the device node of dev: the path with its symlinks
// resolved, or the one device carrying LABEL=/UUID=. found is false when
// no device carries it.
func (f *FS) resolve(ctx context.Context) (dev string, found bool, err error) {
	if filepath.IsAbs(f.Dev) {
		p, err := filepath.EvalSymlinks(f.Dev)
		if errors.Is(err, os.ErrNotExist) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		return p, true, nil
	}
	// -c /dev/null: probe the devices, never trust the blkid cache, which
	// keeps devices that were detached since.
	out, code, err := runCode(ctx, "blkid", "-c", "/dev/null", "-o", "device", "-t", f.Dev)
	if code == 2 {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	devs := strings.Fields(out)
	switch len(devs) {
	case 0:
		return "", false, nil
	case 1:
		return devs[0], true, nil
	}
	return "", false, fmt.Errorf("%s is ambiguous: %s carry it", f.Dev, strings.Join(devs, ", "))
}

// probe returns the signature blkid finds on dev: the TYPE (or PTTYPE for
// a partition table) and every tag, or "" when the device holds nothing.
func probe(ctx context.Context, dev string) (string, map[string]string, error) {
	out, code, err := runCode(ctx, "blkid", "-p", "-o", "export", dev)
	if code == 2 {
		return "", nil, nil // no signature at all
	}
	if err != nil {
		// Exit code 8 is an ambivalent result (several signatures):
		// also a device not to format.
		return "", nil, fmt.Errorf("probe %s: %w", dev, err)
	}
	tags := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			tags[k] = v
		}
	}
	switch {
	case tags["TYPE"] != "":
		return tags["TYPE"], tags, nil
	case tags["PTTYPE"] != "":
		return "partition table " + tags["PTTYPE"], tags, nil
	}
	return "unknown signature", tags, nil
}

// Provisioned tells whether dev holds a filesystem of the driver's type.
func (f *FS) Provisioned(ctx context.Context) (bool, error) {
	dev, found, err := f.resolve(ctx)
	if err != nil {
		return false, resource.Errorf(f.ID, "provisioned", "%w", err)
	}
	if !found {
		return false, nil
	}
	typ, _, err := probe(ctx, dev)
	if err != nil {
		return false, resource.Errorf(f.ID, "provisioned", "%w", err)
	}
	return typ == f.Type, nil
}

// Provision makes the filesystem when the device holds no signature. A
// device holding a filesystem of the right type is left alone; one holding
// anything else is an error and is left alone too.
func (f *FS) Provision(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", f.ID)
	dev, found, err := f.resolve(ctx)
	if err != nil {
		return resource.Errorf(f.ID, "provision", "%w", err)
	}
	target := dev
	if !filepath.IsAbs(f.Dev) {
		if found {
			log.Info("filesystem exists, not formatted", "dev", f.Dev, "device", dev)
			return nil
		}
		if f.MkfsDev == "" {
			return resource.Errorf(f.ID, "provision", "no device carries %s and mkfs_dev is not set: nothing to format", f.Dev)
		}
		if target, err = filepath.EvalSymlinks(f.MkfsDev); err != nil {
			return resource.Errorf(f.ID, "provision", "mkfs_dev: %w", err)
		}
	} else if !found {
		return resource.Errorf(f.ID, "provision", "device %s does not exist (is the disk started?)", f.Dev)
	}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return resource.Errorf(f.ID, "provision", "stat %s: %w", target, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return resource.Errorf(f.ID, "provision", "%s is not a block device", target)
	}
	typ, _, err := probe(ctx, target)
	if err != nil {
		return resource.Errorf(f.ID, "provision", "%w; not formatted", err)
	}
	switch {
	case typ == f.Type:
		log.Info("device holds a filesystem, not formatted", "device", target, "type", typ)
		return nil
	case typ != "":
		return resource.Errorf(f.ID, "provision", "%s holds %s, not %s: not formatted (wipe it yourself if its data is not needed)", target, typ, f.Type)
	}
	if at, err := mountedAnywhere(target); err != nil {
		return resource.Errorf(f.ID, "provision", "%w", err)
	} else if len(at) > 0 {
		return resource.Errorf(f.ID, "provision", "%s is mounted on %s: not formatted", target, strings.Join(at, ", "))
	}
	if err := CheckZeros(ctx, target); err != nil {
		if !f.DestroysData {
			return resource.Errorf(f.ID, "provision", "%v: refusing mkfs; set mkfs_destroys_data = true to override", err)
		}
		log.Warn("device is not blank; mkfs_destroys_data = true: formatting it destroys its data", "device", target, "reason", err.Error())
	}
	args := f.mkfsArgs(target)
	if resource.IsDryRun(ctx) {
		log.Info("would make the filesystem", "command", strings.Join(args, " "))
		return nil
	}
	out, err := run(ctx, args[0], args[1:]...)
	if err != nil {
		return resource.Errorf(f.ID, "provision", "%w", err)
	}
	log.Info("filesystem made", "device", target, "type", f.Type, "label", f.FSLabel, "output", strings.TrimSpace(out))
	return nil
}

// PlanUnprovision says what unprovision does with the filesystem: it
// unmounts it and wipes nothing (the driver has no unprovision of its own);
// its data goes only with the disk that holds it, which its own resource
// deletes or keeps.
func (f *FS) PlanUnprovision(context.Context) ([]string, error) {
	return []string{"unmount " + f.Mnt + "; wipe nothing: the filesystem on " + f.Dev + " goes only with its disk"}, nil
}

// mkfsArgs is the mkfs command line for target. No force flag ever: mkfs.xfs
// and mkfs.btrfs then refuse a device with a signature on their own, a
// second guard behind the blkid probe.
func (f *FS) mkfsArgs(target string) []string {
	args := []string{"mkfs." + f.Type, "-q"}
	if f.FSLabel != "" {
		args = append(args, "-L", f.FSLabel)
	}
	if f.UUID != "" {
		if f.Type == "xfs" {
			args = append(args, "-m", "uuid="+f.UUID)
		} else {
			args = append(args, "-U", f.UUID)
		}
	}
	args = append(args, f.MkfsOpt...)
	return append(args, target)
}

// mountState reports where dev is mounted, and what is mounted on mnt.
type mountState struct {
	onMnt     bool     // dev is the top-most mount on mnt
	elsewhere []string // other mount points of dev
	other     string   // the source of another filesystem on mnt
}

func (f *FS) mountState(dev string) (mountState, error) {
	var s mountState
	ms, err := mountinfo.Read()
	if err != nil {
		return s, err
	}
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return s, fmt.Errorf("stat %s: %w", dev, err)
	}
	for _, m := range ms {
		same := sameDevice(m, st.Rdev)
		switch {
		case m.MountPoint == f.Mnt:
			// Later lines are mounted over earlier ones.
			s.onMnt = same
			s.other = ""
			if !same {
				s.other = m.Source
			}
		case same:
			s.elsewhere = append(s.elsewhere, m.MountPoint)
		}
	}
	return s, nil
}

// sameDevice tells whether mount m is of the device rdev. btrfs mounts
// show an anonymous device number (0:NN): compare the source's too.
func sameDevice(m mountinfo.Mount, rdev uint64) bool {
	if uint64(unix.Mkdev(m.Major, m.Minor)) == rdev {
		return true
	}
	if !filepath.IsAbs(m.Source) {
		return false
	}
	var st unix.Stat_t
	if err := unix.Stat(m.Source, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFBLK && st.Rdev == rdev
}

func mountedAnywhere(dev string) ([]string, error) {
	ms, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return nil, err
	}
	var at []string
	for _, m := range ms {
		if sameDevice(m, st.Rdev) {
			at = append(at, m.MountPoint)
		}
	}
	return at, nil
}

// Status is up when dev is mounted on mnt.
func (f *FS) Status(ctx context.Context) (resource.Status, error) {
	dev, found, err := f.resolve(ctx)
	if err != nil {
		return resource.Undef, err
	}
	if !found {
		// The disk is not there (a stopped disk resource, a detached loop
		// device): plainly down, nothing to report.
		return resource.Down, nil
	}
	s, err := f.mountState(dev)
	if err != nil {
		return resource.Undef, err
	}
	switch {
	case s.onMnt:
		return resource.Up, nil
	case len(s.elsewhere) > 0:
		return resource.Down, fmt.Errorf("%s is mounted on %s, not on %s", dev, strings.Join(s.elsewhere, ", "), f.Mnt)
	case s.other != "":
		return resource.Down, fmt.Errorf("%s is mounted on %s", s.other, f.Mnt)
	}
	return resource.Down, nil
}

// Start creates the mount point and mounts dev on it. Already mounted
// there is success; mounted elsewhere, or another filesystem on mnt, is an
// error.
func (f *FS) Start(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", f.ID)
	dev, found, err := f.resolve(ctx)
	if err != nil {
		return resource.Errorf(f.ID, "start", "%w", err)
	}
	if !found {
		return resource.Errorf(f.ID, "start", "device %s not found", f.Dev)
	}
	s, err := f.mountState(dev)
	if err != nil {
		return resource.Errorf(f.ID, "start", "%w", err)
	}
	switch {
	case s.onMnt:
		log.Info("already mounted", "dev", dev, "mnt", f.Mnt)
		return nil
	case len(s.elsewhere) > 0:
		return resource.Errorf(f.ID, "start", "%s is already mounted on %s", dev, strings.Join(s.elsewhere, ", "))
	case s.other != "":
		return resource.Errorf(f.ID, "start", "%s is already mounted on %s", s.other, f.Mnt)
	}
	args := []string{"-t", f.Type}
	if f.MntOpt != "" {
		args = append(args, "-o", f.MntOpt)
	}
	args = append(args, dev, f.Mnt)
	if resource.IsDryRun(ctx) {
		log.Info("would mount", "command", "mount "+strings.Join(args, " "))
		return nil
	}
	if err := os.MkdirAll(f.Mnt, 0o755); err != nil {
		return resource.Errorf(f.ID, "start", "create mount point: %w", err)
	}
	if _, err := run(ctx, "mount", args...); err != nil {
		return resource.Errorf(f.ID, "start", "%w", err)
	}
	if s, err := f.mountState(dev); err != nil {
		return resource.Errorf(f.ID, "start", "%w", err)
	} else if !s.onMnt {
		return resource.Errorf(f.ID, "start", "mount %s %s succeeded but %s is not in mountinfo", dev, f.Mnt, f.Mnt)
	}
	log.Info("mounted", "dev", dev, "mnt", f.Mnt)
	return nil
}

// Stop unmounts mnt when dev is mounted there. A busy filesystem is not
// forced: the error names the processes that hold it.
func (f *FS) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", f.ID)
	dev, found, err := f.resolve(ctx)
	if err != nil {
		return resource.Errorf(f.ID, "stop", "%w", err)
	}
	if !found {
		log.Info("device not found, nothing to unmount", "dev", f.Dev)
		return nil
	}
	s, err := f.mountState(dev)
	if err != nil {
		return resource.Errorf(f.ID, "stop", "%w", err)
	}
	if !s.onMnt {
		log.Info("not mounted", "dev", dev, "mnt", f.Mnt)
		return nil
	}
	if resource.IsDryRun(ctx) {
		log.Info("would unmount", "mnt", f.Mnt)
		return nil
	}
	if err := unix.Unmount(f.Mnt, 0); err != nil {
		if errors.Is(err, unix.EBUSY) {
			holders := Holders(f.Mnt)
			if len(holders) > 0 {
				return resource.Errorf(f.ID, "stop", "umount %s: busy, held by %s", f.Mnt, formatHolders(holders))
			}
			if below := mountsBelow(f.Mnt); len(below) > 0 {
				return resource.Errorf(f.ID, "stop", "umount %s: busy, filesystems are mounted below it: %s", f.Mnt, strings.Join(below, ", "))
			}
			return resource.Errorf(f.ID, "stop", "umount %s: busy, and no process of this mount namespace holds it (a process in another namespace, or a kernel user)", f.Mnt)
		}
		return resource.Errorf(f.ID, "stop", "umount %s: %w", f.Mnt, err)
	}
	log.Info("unmounted", "dev", dev, "mnt", f.Mnt)
	return nil
}

// mountsBelow lists the mount points under mnt.
func mountsBelow(mnt string) []string {
	ms, err := mountinfo.Read()
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.MountPoint, mnt+"/") {
			out = append(out, m.MountPoint)
		}
	}
	return out
}

// Holder is a process that uses a path under a mount point.
type Holder struct {
	PID  int
	Comm string
	// Use says how: "cwd", "root", "exe", "fd 3", "mmap".
	Use string
}

// Holders scans /proc for processes whose cwd, root, executable, open
// files or memory mappings are under mnt. Processes that vanish meanwhile,
// or whose links cannot be read, are skipped.
func Holders(mnt string) []Holder {
	under := func(p string) bool {
		p = strings.TrimSuffix(p, " (deleted)")
		return p == mnt || strings.HasPrefix(p, mnt+"/") || mnt == "/"
	}
	procs, _ := os.ReadDir("/proc")
	var out []Holder
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		base := "/proc/" + e.Name()
		comm, _ := os.ReadFile(base + "/comm")
		h := Holder{PID: pid, Comm: strings.TrimSpace(string(comm))}
		use := func() string {
			for _, l := range []string{"cwd", "root", "exe"} {
				if t, err := os.Readlink(base + "/" + l); err == nil && under(t) {
					return l
				}
			}
			fds, _ := os.ReadDir(base + "/fd")
			for _, fd := range fds {
				if t, err := os.Readlink(base + "/fd/" + fd.Name()); err == nil && under(t) {
					return "fd " + fd.Name()
				}
			}
			if maps, err := os.ReadFile(base + "/maps"); err == nil {
				for _, line := range strings.Split(string(maps), "\n") {
					if i := strings.Index(line, " /"); i >= 0 && under(strings.TrimSpace(line[i:])) {
						return "mmap"
					}
				}
			}
			return ""
		}()
		if use != "" {
			h.Use = use
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

func formatHolders(hs []Holder) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("pid %d (%s, %s)", h.PID, h.Comm, h.Use)
	}
	return strings.Join(parts, ", ")
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	out, _, err := runCode(ctx, name, args...)
	return out, err
}

// runCode runs a command with stdin closed, so that no tool ever waits
// for a confirmation, and returns its output and exit code.
func runCode(ctx context.Context, name string, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	if err != nil {
		return string(out), code, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), code, nil
}
