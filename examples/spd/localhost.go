package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/moby/client"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/disk/loop"
	"github.com/svckit/svckit/resource"
)

// hostNode is what -real makes of one simulated node on this host, so that
// the seed's config runs unchanged with the real host drivers although
// every node shares one kernel and one mount table.
// Its factory wrappers rewrite, for this node only, what would collide
// between nodes or reach outside the run:
//
//   - the service's absolute paths (the form puts everything under
//     /<svcname>: mount points, docker_data_dir, the -v sources of the
//     containers) go under the node's directory, <root>/<svcname>/...;
//   - a disk.gce disk becomes a disk.loop: a sparse backing file in a
//     directory every node reaches (<dir>/san/<disk name>.img, the
//     "SAN": a migrated pod's disk is attached on its new node), linked
//     where udev names a GCE disk on the node (<root>/dev/disk/by-id/
//     google-<device name>), which is where the fs resources look;
//   - /dev paths of the fs resources go under <root>/dev, and a LABEL=
//     dev gets <node>-<run> as a suffix (every node's disk#00 is on this
//     host, and so may be another run's) and its mkfs_dev is the disk of
//     the same number;
//   - the service's private Docker daemon (container#dockerd, as the
//     seed's docker_data_dir asks) runs per node with its data root on
//     the node's fs#00 and its socket in the node's var directory, and
//     its start loads the stand-in images (see dockerd.go);
//   - the containers run local images standing in for the seed's (no
//     registry), never pull, and carry a label of the run; on the node's
//     private daemon they keep the seed's names (without one, the host's
//     daemon plays every node's and they are named <node>-<run>.<name>);
//   - ip.docker plugs the containers into br0 of the node's network
//     namespace (ipdev_netns), never the host's.
type hostNode struct {
	name string
	// id is <node>-<run>: what names the node's labels and containers,
	// unique on the host even when several runs share it.
	id string
	// root is the node's directory, the agent's root.
	root string
	// san holds the backing files of every node's disks.
	san string
	// svcRoot is the prefix of the service's own paths: /<svcname>.
	svcRoot string
	// netns is the path of the node's network namespace.
	netns string
	// images maps the config's images to the local ones.
	images map[string]string
	// runLabel is the label key=value every container of the run carries.
	runLabel string
	// pathRe finds the service's paths in shell text.
	pathRe *regexp.Regexp
	// loadImages puts the stand-in images into a private daemon of the
	// node (nil: the daemon starts with none); daemon records its starts.
	loadImages func(ctx context.Context, priv *client.Client) (int, error)
	daemon     privateDaemon
}

// newHostNode returns the adapter of node name in the run whose short
// token is run; root is the node's directory.
func newHostNode(name, run, root, san, svcRoot, netns string, images map[string]string, runLabel string) *hostNode {
	return &hostNode{name: name, id: name + "-" + run, root: root, san: san, svcRoot: svcRoot, netns: netns, images: images, runLabel: runLabel,
		// A word, or the part of a word after = or before :, that starts
		// with the service root.
		pathRe: regexp.MustCompile(`(^|[\s=])` + regexp.QuoteMeta(svcRoot) + `(/|:|\s|$)`)}
}

// LabelRun is the container label that names the run of this program.
const LabelRun = "com.svckit.example.spd.run"

// path maps a path of the service (under svcRoot) into the node's
// directory.
func (h *hostNode) path(rid, kw, p string) (string, error) {
	p = filepath.Clean(p)
	if p != h.svcRoot && !strings.HasPrefix(p, h.svcRoot+"/") {
		return "", fmt.Errorf("%s: %s %s: -real keeps a node's paths in its directory and maps only the service's own paths: expected a path under %s", rid, kw, p, h.svcRoot)
	}
	return filepath.Join(h.root, p), nil
}

// diskLink is where the node's udev would name the i-th disk of a disk.gce
// section: google-<device name>, as disk.gce waits for it.
func (h *hostNode) diskLink(cfg driver.Config) string {
	return disk.GCEDevicePath(filepath.Join(h.root, disk.GCEDevDir), disk.GCEDeviceName(cfg.Svcname, cfg.RID, 0))
}

// loopConfig turns the config of a disk.gce section into the config of a
// disk.loop standing in for it.
func (h *hostNode) loopConfig(cfg driver.Config) (driver.Config, error) {
	names := cfg.List("names")
	if len(names) != 1 {
		return cfg, fmt.Errorf("%s: names %q: -real stands one loop file in for one GCE disk: expected one name", cfg.RID, cfg.String("names"))
	}
	v := maps.Clone(cfg.Values)
	for _, k := range []string{"names", "gce_zone", "gce_project", "gce_instance", "gce_endpoint", "disk_type", "description", "image", "source_snapshot", "attach_timeout", "dev_dir"} {
		delete(v, k)
	}
	v["file"] = filepath.Join(h.san, names[0]+".img")
	v["link"] = h.diskLink(cfg)
	cfg.Values = v
	cfg.Manifest = disk.Loop
	return cfg, nil
}

// disk is the factory of disk.gce on the node: a real disk.loop.
func (h *hostNode) disk(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
	lc, err := h.loopConfig(cfg)
	if err != nil {
		return nil, err
	}
	return loop.New(ctx, lc)
}

// fs wraps the real fs factory f.
func (h *hostNode) fs(f driver.Factory) driver.Factory {
	return func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		v := maps.Clone(cfg.Values)
		mnt, err := h.path(cfg.RID, "mnt", v["mnt"])
		if err != nil {
			return nil, err
		}
		v["mnt"] = mnt
		dev := strings.TrimSpace(v["dev"])
		switch {
		case strings.HasPrefix(dev, "/dev/"):
			v["dev"] = filepath.Join(h.root, dev)
		case strings.HasPrefix(dev, "LABEL="):
			label := strings.TrimPrefix(dev, "LABEL=") + "-" + h.id
			v["dev"] = "LABEL=" + label
			if v["label"] != "" {
				v["label"] = label
			}
			if v["mkfs_dev"] == "" {
				if dc, ok := h.diskOf(cfg); ok {
					v["mkfs_dev"] = h.diskLink(dc)
				}
			}
		}
		if md := v["mkfs_dev"]; strings.HasPrefix(md, "/dev/") {
			v["mkfs_dev"] = filepath.Join(h.root, md)
		}
		cfg.Values = v
		return f(ctx, cfg)
	}
}

// diskOf returns the disk.gce section of the same number as the fs
// section (fs#00 and disk#00, as the spd form pairs them).
func (h *hostNode) diskOf(cfg driver.Config) (driver.Config, bool) {
	if cfg.Section == nil {
		return driver.Config{}, false
	}
	num, ok := strings.CutPrefix(cfg.RID, "fs#")
	if !ok {
		return driver.Config{}, false
	}
	dc, ok := cfg.Section("disk#" + num)
	if !ok || dc.Manifest.ID != disk.GCE.ID {
		return driver.Config{}, false
	}
	return dc, true
}

// containerConfig rewrites the config of a container.docker section.
func (h *hostNode) containerConfig(cfg driver.Config) (driver.Config, error) {
	v := maps.Clone(cfg.Values)
	img := strings.TrimSpace(v["run_image"])
	local, ok := h.images[img]
	if !ok {
		return cfg, fmt.Errorf("%s: run_image %s: -real runs local stand-ins of the seed's images only (no registry): expected one of %s", cfg.RID, img, strings.Join(slices.Sorted(maps.Keys(h.images)), ", "))
	}
	v["run_image"] = local
	v["pull"] = "never"
	root := filepath.Join(h.root, h.svcRoot)
	v["run_args"] = h.pathRe.ReplaceAllString(v["run_args"], "${1}"+root+"${2}") + " --label " + h.runLabel
	cfg.Values = v
	if d := cfg.Defaults["docker_data_dir"]; d != "" {
		dd, err := h.path(cfg.RID, "docker_data_dir", d)
		if err != nil {
			return cfg, err
		}
		cfg.Defaults = maps.Clone(cfg.Defaults)
		cfg.Defaults["docker_data_dir"] = dd
	}
	d, err := container.DaemonOf(cfg)
	if err != nil {
		return cfg, err
	}
	if !d.Private {
		// One daemon, the host's, plays every node's: the node and run
		// in the name keep them apart. On the node's private daemon
		// the container keeps the seed's name.
		v["name"] = h.id + "." + container.Name(cfg)
	}
	return cfg, nil
}

// container wraps the real container.docker factory f.
func (h *hostNode) container(f driver.Factory) driver.Factory {
	return func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		cc, err := h.containerConfig(cfg)
		if err != nil {
			return nil, err
		}
		return f(ctx, cc)
	}
}

// ipDocker wraps the real ip.docker factory f: br0 is the one of the
// node's namespace, and the container is found under its node name.
func (h *hostNode) ipDocker(f driver.Factory) driver.Factory {
	return func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		v := maps.Clone(cfg.Values)
		if v["ipdev_netns"] == "" {
			v["ipdev_netns"] = h.netns
		}
		cfg.Values = v
		if section := cfg.Section; section != nil {
			cfg.Section = func(rid string) (driver.Config, bool) {
				c, ok := section(rid)
				if ok && c.Manifest.ID == container.Docker.ID {
					if cc, err := h.containerConfig(c); err == nil {
						return cc, true
					}
				}
				return c, ok
			}
		}
		return f(ctx, cfg)
	}
}

// imageNames lists the local images, sorted, for the output.
func imageNames(m map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, " ")
}
