package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/shlex"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// defaultDevDir is where disk.gce attaches disks under their device name.
const defaultDevDir = "/dev/disk/by-id"

// build makes the fake of one section, with the label, the provided and
// used names of the real driver. It does no I/O.
func build(cfg driver.Config) (*Resource, error) {
	r := &Resource{
		Base:    cfg.Base(),
		node:    cfg.Nodename,
		svcname: cfg.Svcname,
		varDir:  cfg.VarDir,
	}
	if r.Driver == "" {
		return nil, fmt.Errorf("%s: the config has no driver manifest", cfg.RID)
	}
	id := cfg.Manifest.ID
	switch {
	case id == "disk.gce":
		names := cfg.List("names")
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: names: expected at least one disk name", cfg.RID)
		}
		r.label = "gce volumes " + strings.Join(names, " ")
		dir := defaultDevDir
		if _, ok := cfg.Manifest.Keyword("dev_dir"); ok {
			if d := cfg.String("dev_dir"); d != "" {
				dir = d
			}
		}
		r.provides = make([]string, 0, len(names))
		for i := range names {
			r.provides = append(r.provides, filepath.Join(dir, fmt.Sprintf("google-%s.%d", cfg.DeviceName(), i)))
		}
		r.order = resource.OrderByUses
	case id == "disk.loop":
		file := cfg.String("file")
		if file == "" {
			return nil, fmt.Errorf("%s: file: expected the path of the backing file", cfg.RID)
		}
		r.label = "loop " + file
		r.provides = absPaths(file)
		if _, ok := cfg.Manifest.Keyword("link"); ok {
			r.provides = append(r.provides, absPaths(cfg.String("link"))...)
		}
		r.order = resource.OrderByUses
	case cfg.Manifest.Group() == "fs":
		dev, mnt := cfg.String("dev"), cfg.String("mnt")
		if dev == "" || mnt == "" {
			return nil, fmt.Errorf("%s: dev and mnt: expected a device and a mount point", cfg.RID)
		}
		r.label = dev + "@" + mnt
		r.provides = absPaths(mnt)
		r.uses, r.order = fsUses(dev, mnt)
	case id == "ip.gce":
		r.label = "gce ip " + cfg.String("ipname") + "@" + cfg.String("ipdev")
		r.order = resource.OrderByUses
	case id == "ip.docker":
		crid := cfg.String("container_rid")
		if crid == "" {
			return nil, fmt.Errorf("%s: container_rid: expected the rid of the container resource", cfg.RID)
		}
		ccfg := driver.Config{Svcname: cfg.Svcname, RID: crid}
		if cfg.Section != nil {
			c, ok := cfg.Section(crid)
			if !ok {
				return nil, fmt.Errorf("%s: container_rid: %s is not a section of service %s", cfg.RID, crid, cfg.Svcname)
			}
			if c.Manifest.ID != "" && c.Manifest.Group() != "container" {
				return nil, fmt.Errorf("%s: container_rid: %s is a %s resource, expected a container", cfg.RID, crid, c.Manifest.ID)
			}
			ccfg = c
		}
		r.label = cfg.String("ipname") + "@" + cfg.String("ipdev") + "@" + ContainerID(ccfg.Svcname, ccfg.RID)[:12]
		r.uses, r.order = []string{"rid:" + crid}, resource.OrderByUses
		r.netnsOf = crid
	case cfg.Manifest.Group() == "ip":
		r.label = cfg.String("ipname") + "@" + cfg.String("ipdev")
		r.order = resource.OrderByUses
	case cfg.Manifest.Group() == "container":
		uses, err := containerUses(cfg.String("run_args"), cfg.Defaults["docker_data_dir"])
		if err != nil {
			// No value in the message: run_args may hold passwords.
			return nil, fmt.Errorf("%s: run_args: %w", cfg.RID, err)
		}
		r.containerID = ContainerID(cfg.Svcname, cfg.RID)
		r.label = r.containerID[:12] + "@" + cfg.String("run_image")
		r.uses, r.order = uses, resource.OrderByUses
	case cfg.Manifest.Group() == "sync":
		targets := cfg.List("target")
		if len(targets) == 0 {
			targets = []string{"nodes"}
		}
		sort.Strings(targets)
		r.label = "rsync svc config to " + strings.Join(targets, ", ")
		r.order = resource.OrderByUses
		// The reference never starts a sync in a service start: a sync
		// with nothing to report is up (the seed's sync#i0).
		r.initiallyUp = true
	default:
		// A driver svckit does not know: ordered by group, unless Replace
		// learns its uses from the program's own driver.
		r.label = "fake " + id
	}
	return r, nil
}

// ContainerID returns the id of the fake container of rid in service
// svcname: 64 hex digits, the same in every process. Labels show its first
// 12 digits, as docker does.
func ContainerID(svcname, rid string) string {
	sum := sha256.Sum256([]byte("svckit fake container\x00" + svcname + "\x00" + rid))
	return hex.EncodeToString(sum[:])
}

func absPaths(l ...string) []string {
	out := []string{}
	for _, p := range l {
		if filepath.IsAbs(p) {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}

// fsUses returns what an fs needs: its device when it is a path, and the
// directory its mount point lives in (the fs mounted there, if any). A
// LABEL= or UUID= device can be any disk of the service: the fs is then
// ordered by group.
func fsUses(dev, mnt string) ([]string, resource.Ordering) {
	if !filepath.IsAbs(dev) {
		return nil, resource.OrderByGroup
	}
	uses := absPaths(dev)
	if m := filepath.Clean(mnt); filepath.IsAbs(m) && m != "/" {
		uses = append(uses, filepath.Dir(m))
	}
	return uses, resource.OrderByUses
}

// containerUses returns the host paths of the bind mounts of docker run
// options, and the docker data directory.
func containerUses(runArgs, dataDir string) ([]string, error) {
	uses := absPaths(dataDir)
	words, err := shlex.Split(runArgs)
	if err != nil {
		return nil, fmt.Errorf("cannot split into words: %w", err)
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var spec, mount string
		switch {
		case w == "-v" || w == "--volume":
			if i+1 < len(words) {
				i++
				spec = words[i]
			}
		case strings.HasPrefix(w, "--volume="):
			spec = strings.TrimPrefix(w, "--volume=")
		case strings.HasPrefix(w, "-v") && len(w) > 2 && !strings.HasPrefix(w, "--"):
			spec = strings.TrimPrefix(strings.TrimPrefix(w, "-v"), "=")
		case w == "--mount":
			if i+1 < len(words) {
				i++
				mount = words[i]
			}
		case strings.HasPrefix(w, "--mount="):
			mount = strings.TrimPrefix(w, "--mount=")
		}
		if spec != "" {
			// src:dst[:opts]; a src that is not absolute is a named volume.
			src, _, _ := strings.Cut(spec, ":")
			uses = append(uses, absPaths(src)...)
		}
		if mount != "" {
			uses = append(uses, bindSource(mount)...)
		}
	}
	return uses, nil
}

// bindSource returns the host path of a --mount type=bind,source=... spec.
func bindSource(spec string) []string {
	bind, src := false, ""
	for _, f := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "type":
			bind = v == "bind"
		case "source", "src":
			src = v
		}
	}
	if !bind {
		return nil
	}
	return absPaths(src)
}
