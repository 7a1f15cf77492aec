package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/resource"
)

// privateDaemon is what -real knows of a node's private Docker daemon
// (container#dockerd): its config as the node runs it, and how long each
// of its starts took.
type privateDaemon struct {
	mu     sync.Mutex
	cfg    *driver.Config
	starts []daemonStart
}

// daemonStart is one start of a node's private daemon: the daemon's own
// start (or reuse) and the load of the stand-in images it lacked.
type daemonStart struct {
	Start, Load time.Duration
	Loaded      int
}

// config returns the node's daemon config, false before the node loaded
// the service.
func (p *privateDaemon) config() (driver.Config, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg == nil {
		return driver.Config{}, false
	}
	return *p.cfg, true
}

// Starts returns the starts recorded so far.
func (p *privateDaemon) Starts() []daemonStart {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.starts)
}

// dockerdConfig maps the daemon's data root (docker_data_dir) into the
// node's directory, as the containers' and the filesystems' paths.
func (h *hostNode) dockerdConfig(cfg driver.Config) (driver.Config, error) {
	d := cfg.Defaults["docker_data_dir"]
	if d == "" {
		return cfg, nil
	}
	dd, err := h.path(cfg.RID, "docker_data_dir", d)
	if err != nil {
		return cfg, err
	}
	cfg.Defaults = maps.Clone(cfg.Defaults)
	cfg.Defaults["docker_data_dir"] = dd
	return cfg, nil
}

// dockerd wraps the real container.dockerd factory f: the node's data
// root, and a start that loads the stand-in images into the daemon.
func (h *hostNode) dockerd(f driver.Factory) driver.Factory {
	return func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		dc, err := h.dockerdConfig(cfg)
		if err != nil {
			return nil, err
		}
		r, err := f(ctx, dc)
		if err != nil {
			return nil, err
		}
		d, ok := r.(*dockerd.Daemon)
		if !ok {
			return nil, fmt.Errorf("%s: -real wraps the container.dockerd driver, got a %T", cfg.RID, r)
		}
		h.daemon.mu.Lock()
		h.daemon.cfg = &dc
		h.daemon.mu.Unlock()
		return &standInDaemon{Daemon: d, node: h}, nil
	}
}

// standInDaemon is a node's private daemon whose start also loads the
// stand-in images it lacks (this host has no registry, and the containers
// never pull): docker save from the host's daemon, docker load into this
// one, as `svcmgr -s spdsvc01 docker load -i FILE` does by hand.
type standInDaemon struct {
	*dockerd.Daemon
	node *hostNode
}

// Start starts the daemon (or reuses it), then loads the images.
func (d *standInDaemon) Start(ctx context.Context) error {
	t0 := time.Now()
	if err := d.Daemon.Start(ctx); err != nil {
		return err
	}
	if resource.IsDryRun(ctx) || d.node.loadImages == nil {
		return nil
	}
	ds := daemonStart{Start: time.Since(t0)}
	cli, err := dockerd.Client(ctr.Daemon{Private: true, Host: "unix://" + d.Socket})
	if err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	defer cli.Close()
	t1 := time.Now()
	if ds.Loaded, err = d.node.loadImages(ctx, cli); err != nil {
		return resource.Errorf(d.ID, "start", "load the stand-in images into %s: %w", d.Socket, err)
	}
	ds.Load = time.Since(t1)
	if ds.Loaded > 0 {
		resource.Logger(ctx).Info("stand-in images loaded", "rid", d.ID, "images", ds.Loaded, "socket", d.Socket)
	}
	d.node.daemon.mu.Lock()
	d.node.daemon.starts = append(d.node.daemon.starts, ds)
	d.node.daemon.mu.Unlock()
	return nil
}

// loadImages copies the stand-in images that priv lacks from the host's
// daemon (docker save | docker load, streamed) and returns how many.
func (r *realHost) loadImages(ctx context.Context, priv *client.Client) (int, error) {
	var missing []string
	for _, ref := range slices.Sorted(maps.Values(r.images)) {
		if slices.Contains(missing, ref) {
			continue
		}
		_, err := priv.ImageInspect(ctx, ref)
		switch {
		case cerrdefs.IsNotFound(err):
			missing = append(missing, ref)
		case err != nil:
			return 0, fmt.Errorf("inspect %s: %w", ref, err)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	if err := dockerd.CopyImage(ctx, r.cli, priv, missing...); err != nil {
		return 0, err
	}
	return len(missing), nil
}

// daemonReport is what checkDaemons found on one node's private daemon.
type daemonReport struct {
	Driver, Root string
	Running      int
	Images       int
}

// checkDaemon checks node h's private daemon: it answers on its socket,
// its data root is the node's docker_data_dir, it runs the containers of
// the run and holds the stand-in images.
func (r *realHost) checkDaemon(ctx context.Context, h *hostNode) (daemonReport, error) {
	cfg, ok := h.daemon.config()
	if !ok {
		return daemonReport{}, fmt.Errorf("%s: no private daemon: the service did not load container#dockerd", h.name)
	}
	spec, err := ctr.ParseDockerdSpec(cfg)
	if err != nil {
		return daemonReport{}, err
	}
	cli, err := dockerd.Client(ctr.Daemon{Private: true, Host: "unix://" + spec.Socket})
	if err != nil {
		return daemonReport{}, err
	}
	defer cli.Close()
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return daemonReport{}, fmt.Errorf("%s: private daemon on %s: %w", h.name, spec.Socket, err)
	}
	rep := daemonReport{Driver: info.Info.Driver, Root: info.Info.DockerRootDir}
	if rep.Root != spec.DataRoot {
		return rep, fmt.Errorf("%s: the private daemon's data root is %s, expected %s", h.name, rep.Root, spec.DataRoot)
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", r.run)})
	if err != nil {
		return rep, err
	}
	rep.Running = len(list.Items)
	for _, ref := range r.images {
		if _, err := cli.ImageInspect(ctx, ref); err == nil {
			rep.Images++
		}
	}
	return rep, nil
}

// stopDaemon is the end of a run on node h: it removes the run's
// containers from the node's private daemon when it still answers, stops
// the daemon (a killed one's mounts under the data root are unmounted),
// and removes its exec root when nothing is mounted below it. The data
// root is left to the filesystem it is on. It returns the number of
// containers removed.
func (r *realHost) stopDaemon(ctx context.Context, h *hostNode) (int, error) {
	cfg, ok := h.daemon.config()
	if !ok {
		return 0, nil
	}
	res, err := dockerd.New(ctx, cfg)
	if err != nil {
		return 0, err
	}
	d := res.(*dockerd.Daemon)
	removed := 0
	var errs []error
	if dockerd.CheckRunning(ctr.Daemon{Private: true, Host: "unix://" + d.Socket}) == nil {
		cli, err := dockerd.Client(ctr.Daemon{Private: true, Host: "unix://" + d.Socket})
		if err != nil {
			return 0, err
		}
		defer cli.Close()
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", r.run)})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: list the run's containers: %w", h.name, err))
		}
		for _, c := range list.Items {
			if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("%s: remove container %s: %w", h.name, c.ID, err))
				continue
			}
			removed++
		}
	}
	if err := d.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", h.name, err))
	}
	if st, _ := d.Status(ctx); st != resource.Down {
		errs = append(errs, fmt.Errorf("%s: the private daemon is %s after its stop", h.name, st))
	} else if d.ExecRoot != "" {
		// dockerd keeps its exec root (as /var/run/docker): a run would
		// leave one per node.
		mounted, err := mountedUnder(d.ExecRoot)
		if err != nil {
			errs = append(errs, err)
		} else if !mounted {
			if err := os.RemoveAll(d.ExecRoot); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return removed, errors.Join(errs...)
}

// mountedUnder tells whether something is mounted at or below dir.
func mountedUnder(dir string) (bool, error) {
	mounts, err := mountinfo.Read()
	if err != nil {
		return false, err
	}
	for _, m := range mounts {
		if m.MountPoint == dir || strings.HasPrefix(m.MountPoint, dir+"/") {
			return true, nil
		}
	}
	return false, nil
}
