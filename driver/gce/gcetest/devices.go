package gcetest

import (
	"context"
	"maps"
	"path/filepath"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/resource"
)

// UseDevDir rewires the disk.gce driver of reg for a simulated node whose
// udev directory is dir (Instance.SetDevDir): a disk.gce section that
// keeps the default dev_dir attaches its disks there. The config stays the
// one a real node reads, byte for byte. The disks then provide paths under
// dir, which an fs naming /dev/disk/by-id/... does not use: see
// UseDevDirForFS. It wraps whatever factory reg holds, real or fake.
func UseDevDir(reg *driver.Registry, dir string) {
	if d, ok := reg.Lookup(disk.GCE.ID); ok {
		reg.Replace(d.Manifest, withValue(d.New, "dev_dir", func(v string) (string, bool) {
			return dir, v == "" || filepath.Clean(v) == disk.GCEDevDir
		}))
	}
}

// UseDevDirForFS rewires the fs drivers of reg to go with UseDevDir: an
// fs whose dev is under disk.GCEDevDir names the same device under dir,
// so that the scheduler orders each fs after its disk (and its stop
// before the detach), as on a real node. Its label then shows the path
// under dir.
func UseDevDirForFS(reg *driver.Registry, dir string) {
	for _, id := range reg.IDs() {
		d, ok := reg.Lookup(id)
		if !ok {
			continue
		}
		switch {
		case d.Manifest.Group() == "fs":
			reg.Replace(d.Manifest, withValue(d.New, "dev", func(v string) (string, bool) {
				rest, ok := strings.CutPrefix(v, disk.GCEDevDir+"/")
				return filepath.Join(dir, rest), ok
			}))
		}
	}
}

// withValue gives f the section with keyword name rewritten by to when it
// says so.
func withValue(f driver.Factory, name string, to func(string) (string, bool)) driver.Factory {
	return func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		v, _ := cfg.Lookup(name)
		if nv, ok := to(v); ok {
			cfg.Values = maps.Clone(cfg.Values)
			if cfg.Values == nil {
				cfg.Values = map[string]string{}
			}
			cfg.Values[name] = nv
		}
		return f(ctx, cfg)
	}
}
