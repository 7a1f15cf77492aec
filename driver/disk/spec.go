package disk

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// GCEDevDir is where udev names the GCE disks attached to an instance:
// google-<device name>.
const GCEDevDir = "/dev/disk/by-id"

// GCEDevicePath returns where udev shows a GCE disk attached under
// deviceName, in dir (GCEDevDir on a real instance).
func GCEDevicePath(dir, deviceName string) string {
	return filepath.Join(dir, "google-"+deviceName)
}

// GCEDeviceName returns the device name disk.gce attaches the i-th disk
// of section rid of service svcname under: <svcname>.<rid with # as
// .>.<i> ("spdsvc01.disk.01.0").
func GCEDeviceName(svcname, rid string, i int) string {
	return svcname + "." + strings.ReplaceAll(rid, "#", ".") + "." + strconv.Itoa(i)
}

// GCESpec is a disk.gce section, parsed.
type GCESpec struct {
	Names []string
	// Size is the size of each disk created at provision, 0 when unset.
	Size           int64
	DiskType       string
	Description    string
	Image          string
	SourceSnapshot string
	AttachTimeout  time.Duration
	DevDir         string
	svcname, rid   string
}

// ParseGCESpec reads a disk.gce section. The location keywords (gce_zone,
// gce_project, gce_instance, gce_endpoint) are read by driver/gce.
func ParseGCESpec(cfg driver.Config) (*GCESpec, error) {
	s := &GCESpec{
		Names:          cfg.List("names"),
		DiskType:       cfg.String("disk_type"),
		Description:    cfg.String("description"),
		Image:          cfg.String("image"),
		SourceSnapshot: cfg.String("source_snapshot"),
		DevDir:         strings.TrimSpace(cfg.String("dev_dir")),
		svcname:        cfg.Svcname,
		rid:            cfg.RID,
	}
	if len(s.Names) == 0 {
		return nil, driver.KeywordErrorf("names", "expected one or more disk names")
	}
	var err error
	if s.Size, err = cfg.SizeOf("size"); err != nil {
		return nil, err
	}
	if s.AttachTimeout, err = cfg.DurationOf("attach_timeout"); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(s.DevDir) {
		return nil, driver.KeywordErrorf("dev_dir", "%q: expected an absolute path", s.DevDir)
	}
	s.DevDir = filepath.Clean(s.DevDir)
	return s, nil
}

// Label is "gce volumes <names>", as the reference prints it.
func (s *GCESpec) Label() string { return "gce volumes " + strings.Join(s.Names, " ") }

// DeviceName is the device name of the i-th disk.
func (s *GCESpec) DeviceName(i int) string { return GCEDeviceName(s.svcname, s.rid, i) }

// DevicePath is where udev shows the i-th disk once attached.
func (s *GCESpec) DevicePath(i int) string { return GCEDevicePath(s.DevDir, s.DeviceName(i)) }

// Provides names the device nodes of the disks.
func (s *GCESpec) Provides() []string {
	out := make([]string, len(s.Names))
	for i := range s.Names {
		out[i] = s.DevicePath(i)
	}
	return out
}

// Uses names nothing: a cloud disk depends on no other resource.
func (s *GCESpec) Uses() ([]string, resource.Ordering) { return nil, resource.OrderByUses }

// LoopSpec is a disk.loop section, parsed.
type LoopSpec struct {
	// File is the backing file, a clean absolute path.
	File string
	// Size is the size of the file created at provision, 0 when unset.
	Size int64
	// Link is the path start points to the attached /dev/loopN, "" for
	// none.
	Link string
}

// ParseLoopSpec reads a disk.loop section.
func ParseLoopSpec(cfg driver.Config) (*LoopSpec, error) {
	s := &LoopSpec{File: strings.TrimSpace(cfg.String("file")), Link: strings.TrimSpace(cfg.String("link"))}
	if !filepath.IsAbs(s.File) {
		return nil, driver.KeywordErrorf("file", "%q: expected an absolute path", s.File)
	}
	s.File = filepath.Clean(s.File)
	if s.Link != "" {
		if !filepath.IsAbs(s.Link) {
			return nil, driver.KeywordErrorf("link", "%q: expected an absolute path", s.Link)
		}
		s.Link = filepath.Clean(s.Link)
	}
	var err error
	if s.Size, err = cfg.SizeOf("size"); err != nil {
		return nil, err
	}
	return s, nil
}

// Label is "loop <file>".
func (s *LoopSpec) Label() string { return "loop " + s.File }

// Provides names the link, the stable path of the attached device.
func (s *LoopSpec) Provides() []string {
	if s.Link == "" {
		return nil
	}
	return []string{s.Link}
}

// Uses names the backing file: the scheduler starts the fs that holds it
// first.
func (s *LoopSpec) Uses() ([]string, resource.Ordering) {
	return []string{s.File}, resource.OrderByUses
}
