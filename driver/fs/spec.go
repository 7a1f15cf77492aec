package fs

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/internal/shellwords"
	"github.com/svckit/svckit/resource"
)

// maxLabel is the longest label each mkfs accepts.
var maxLabel = map[string]int{"ext4": 16, "xfs": 12, "btrfs": 255}

// Spec is a filesystem section, parsed: what fs.ext4, fs.xfs and
// fs.btrfs need to know before any I/O.
type Spec struct {
	// Type is the filesystem type: ext4, xfs or btrfs.
	Type string
	// Dev is the device as configured: a clean absolute path,
	// LABEL=<label> or UUID=<uuid>.
	Dev string
	// Mnt is the mount point, a clean absolute path.
	Mnt    string
	MntOpt string
	// MkfsOpt is mkfs_opt split into words.
	MkfsOpt []string
	// FSLabel is the label given at provision: label, else the LABEL= of
	// dev.
	FSLabel string
	// UUID is the UUID= of dev.
	UUID string
	// MkfsDev is the device provision formats for a LABEL= or UUID= dev.
	MkfsDev string
	// DestroysData is mkfs_destroys_data.
	DestroysData bool
}

// ParseSpec reads a filesystem section.
func ParseSpec(cfg driver.Config) (*Spec, error) {
	s := &Spec{
		Type:    cfg.Manifest.Type(),
		Dev:     strings.TrimSpace(cfg.String("dev")),
		Mnt:     strings.TrimSpace(cfg.String("mnt")),
		MntOpt:  strings.TrimSpace(cfg.String("mnt_opt")),
		FSLabel: strings.TrimSpace(cfg.String("label")),
		MkfsDev: strings.TrimSpace(cfg.String("mkfs_dev")),
	}
	var err error
	if s.DestroysData, err = cfg.BoolOf("mkfs_destroys_data"); err != nil {
		return nil, err
	}
	if _, ok := maxLabel[s.Type]; !ok {
		return nil, fmt.Errorf("unsupported filesystem type %q: expected ext4, xfs or btrfs", s.Type)
	}
	switch {
	case strings.HasPrefix(s.Dev, "LABEL="):
		v := strings.TrimPrefix(s.Dev, "LABEL=")
		if v == "" {
			return nil, driver.KeywordErrorf("dev", "%q: empty label", s.Dev)
		}
		if s.FSLabel != "" && s.FSLabel != v {
			return nil, driver.KeywordErrorf("label", "%q differs from the one of dev %q", s.FSLabel, s.Dev)
		}
		s.FSLabel = v
	case strings.HasPrefix(s.Dev, "UUID="):
		s.UUID = strings.TrimPrefix(s.Dev, "UUID=")
		if s.UUID == "" {
			return nil, driver.KeywordErrorf("dev", "%q: empty uuid", s.Dev)
		}
	case filepath.IsAbs(s.Dev):
		s.Dev = filepath.Clean(s.Dev)
		if s.MkfsDev != "" {
			return nil, driver.KeywordErrorf("mkfs_dev", "only for a LABEL= or UUID= dev; dev is the path %s", s.Dev)
		}
	default:
		return nil, driver.KeywordErrorf("dev", "%q: expected an absolute device path, LABEL=<label> or UUID=<uuid>", s.Dev)
	}
	if s.MkfsDev != "" && !filepath.IsAbs(s.MkfsDev) {
		return nil, driver.KeywordErrorf("mkfs_dev", "%q: expected an absolute device path", s.MkfsDev)
	}
	if !filepath.IsAbs(s.Mnt) {
		return nil, driver.KeywordErrorf("mnt", "%q: expected an absolute path", s.Mnt)
	}
	s.Mnt = filepath.Clean(s.Mnt)
	if n := maxLabel[s.Type]; len(s.FSLabel) > n {
		return nil, driver.KeywordErrorf("label", "%q: %s labels are at most %d bytes", s.FSLabel, s.Type, n)
	}
	if v := cfg.String("mkfs_opt"); strings.TrimSpace(v) != "" {
		opts, err := shellwords.Split(v)
		if err != nil {
			return nil, driver.KeywordErrorf("mkfs_opt", "cannot split into words: %w", err)
		}
		s.MkfsOpt = opts
	}
	return s, nil
}

// Label is "<dev>@<mnt>", as the reference shows it.
func (s *Spec) Label() string { return s.Dev + "@" + s.Mnt }

// Provides names the mount point.
func (s *Spec) Provides() []string { return []string{s.Mnt} }

// Uses names the device path and the parent directory of the mount point
// (the scheduler maps it to the fs mounted above). A LABEL= or UUID= dev
// cannot be mapped to the disk resource that carries it before it exists:
// the fs is then ordered by group, as the reference does (all disks
// before all filesystems).
func (s *Spec) Uses() ([]string, resource.Ordering) {
	if !filepath.IsAbs(s.Dev) {
		return nil, resource.OrderByGroup
	}
	if s.Mnt == "/" {
		return []string{s.Dev}, resource.OrderByUses
	}
	return []string{s.Dev, filepath.Dir(s.Mnt)}, resource.OrderByUses
}
