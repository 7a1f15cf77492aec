// Package docker is the container.docker driver: a Docker container
// managed through the Engine API (github.com/moby/moby/client).
//
// Import it for its side effect of registering "container.docker":
//
//	import _ "github.com/svckit/svckit/driver/container/docker"
//
// run_args holds docker run options, split with shell quoting
// (github.com/google/shlex) and mapped to the create call; an option the
// driver does not know is an error of the factory naming the rid, the
// keyword and the option (never a silently dropped setting). --rm is
// refused: a managed container outlives stop. The container is named
// after the name keyword, default "<svcname>.<rid with # as .>"; a --name
// in run_args must agree with it, since ip.docker finds the container by
// that name.
//
// Start creates the container when it does not exist (pulling the image
// only when it is absent and pull allows it), starts it and waits until it
// runs. Stop stops it, with stop_timeout before the kill, and keeps it:
// the next start restarts the same container. Unprovision removes it.
//
// When DEFAULT sets docker_data_dir, every call goes to the service's
// private daemon (container#dockerd, package dockerd); with that daemon
// down the container is down and its status says the daemon is not
// running. Stop of a container whose daemon is not running has nothing to
// stop; unprovision fails saying so (unless forced) rather than leave the
// container in the data root unsaid.
//
// The values of -e variables whose name contains PASSWORD, SECRET, TOKEN
// or KEY never appear in logs or errors.
package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/resource/secret"
)

func init() { driver.Register(ctr.Docker, New) }

// Labels set on every container the driver creates.
const (
	LabelService = ctr.LabelService
	LabelRID     = ctr.LabelRID
)

// Container is a container.docker resource: the spec, and the docker API
// at action time.
type Container struct {
	resource.Base
	ctr.DockerSpec

	mu     sync.Mutex
	cli    *client.Client
	lastID string // the container id seen last, for the label
}

var (
	_ resource.Provisioner   = (*Container)(nil)
	_ resource.Unprovisioner = (*Container)(nil)
	_ resource.User          = (*Container)(nil)
)

// New is the container.docker factory. It parses the section; it does
// not talk to the daemon.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := ctr.ParseDockerSpec(cfg)
	if err != nil {
		return nil, err
	}
	return &Container{Base: cfg.Base(), DockerSpec: *s}, nil
}

// Label is "<short id>@<image>" once the container was seen, else
// "<name>@<image>".
func (c *Container) Label() string {
	c.mu.Lock()
	id := c.lastID
	c.mu.Unlock()
	if id == "" {
		return c.DockerSpec.Label()
	}
	return shortID(id) + "@" + c.Image
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func (c *Container) client() (*client.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cli != nil {
		return c.cli, nil
	}
	cli, err := dockerd.Client(c.Daemon)
	if err != nil {
		return nil, err
	}
	c.cli = cli
	return cli, nil
}

// inspect returns the container, or nil when it does not exist.
func (c *Container) inspect(ctx context.Context) (*container.InspectResponse, error) {
	cli, err := c.client()
	if err != nil {
		return nil, err
	}
	res, err := cli.ContainerInspect(ctx, c.Name, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		if derr := dockerd.CheckRunning(c.Daemon); derr != nil {
			return nil, derr
		}
		return nil, fmt.Errorf("inspect %s: %w", c.Name, err)
	}
	c.mu.Lock()
	c.lastID = res.Container.ID
	c.mu.Unlock()
	return &res.Container, nil
}

// Status is up when the container runs, warn when it restarts or runs
// another image than run_image, down otherwise.
func (c *Container) Status(ctx context.Context) (resource.Status, error) {
	in, err := c.inspect(ctx)
	if errors.Is(err, dockerd.ErrNotRunning) {
		// The container cannot run without its daemon: down, saying
		// why, as information (the reference's status_log at level
		// info): a stopped service, its daemon included, is down, not
		// warn.
		return resource.Down, resource.Note(err)
	}
	if err != nil {
		return resource.Undef, err
	}
	if in == nil {
		return resource.Down, nil
	}
	if in.State == nil {
		return resource.Undef, fmt.Errorf("%s: no state in inspect data", c.Name)
	}
	switch {
	case in.State.Restarting:
		return resource.Warn, fmt.Errorf("%s is restarting (exit code %d)", c.Name, in.State.ExitCode)
	case in.State.Running:
		if in.Config != nil && in.Config.Image != c.Image {
			return resource.Warn, fmt.Errorf("%s runs image %s, not run_image %s: remove it to recreate", c.Name, in.Config.Image, c.Image)
		}
		return resource.Up, nil
	}
	return resource.Down, nil
}

// ensureImage makes the image present as the pull policy says.
func (c *Container) ensureImage(ctx context.Context) error {
	cli, err := c.client()
	if err != nil {
		return err
	}
	log := resource.Logger(ctx).With("rid", c.ID)
	if c.Pull != "always" {
		_, err := cli.ImageInspect(ctx, c.Image)
		if err == nil {
			return nil
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("inspect image %s: %w", c.Image, err)
		}
		if c.Pull == "never" {
			return fmt.Errorf("image %s is not present and pull = never", c.Image)
		}
	}
	if resource.IsDryRun(ctx) {
		log.Info("would pull", "image", c.Image)
		return nil
	}
	log.Info("pulling", "image", c.Image)
	res, err := cli.ImagePull(ctx, c.Image, client.ImagePullOptions{})
	if err != nil {
		return fmt.Errorf("pull %s: %w", c.Image, err)
	}
	defer res.Close()
	if err := res.Wait(ctx); err != nil {
		return fmt.Errorf("pull %s: %w", c.Image, err)
	}
	log.Info("pulled", "image", c.Image)
	return nil
}

// Provision makes the image present (pull policy applies).
func (c *Container) Provision(ctx context.Context) error {
	if err := c.ensureImage(ctx); err != nil {
		return resource.Errorf(c.ID, "provision", "%w", err)
	}
	return nil
}

// Unprovision removes the container (not its image, not the bind sources).
// A running container is not removed: stop it first.
//
// With the service's private daemon down the container cannot be removed:
// it stays in the daemon's data root, and unprovision fails saying so and
// how to go on (start the daemon, or --force to leave the container
// there), where the reference skips it silently. It never starts the
// daemon itself: over an unmounted filesystem that would make a new,
// empty data root and report success.
func (c *Container) Unprovision(ctx context.Context) error {
	in, err := c.inspect(ctx)
	if errors.Is(err, dockerd.ErrNotRunning) {
		if resource.IsForced(ctx) {
			resource.Logger(ctx).Warn("not removed: its private docker daemon is not running (--force: left in its data root)", "rid", c.ID, "name", c.Name)
			return nil
		}
		return resource.Errorf(c.ID, "unprovision", "%s: %w: the container stays in the daemon's data root; start the daemon (start --rid %s, once the filesystem holding docker_data_dir is mounted) and unprovision again, or unprovision --force to leave it there",
			c.Name, err, ctr.DockerdRID)
	}
	if err != nil {
		return resource.Errorf(c.ID, "unprovision", "%w", err)
	}
	if in == nil {
		return nil
	}
	if in.State != nil && in.State.Running {
		return resource.Errorf(c.ID, "unprovision", "%s is running: stop it first", c.Name)
	}
	if resource.IsDryRun(ctx) {
		resource.Logger(ctx).Info("would remove the container", "rid", c.ID, "name", c.Name)
		return nil
	}
	cli, err := c.client()
	if err != nil {
		return resource.Errorf(c.ID, "unprovision", "%w", err)
	}
	if _, err := cli.ContainerRemove(ctx, in.ID, client.ContainerRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return resource.Errorf(c.ID, "unprovision", "remove %s: %w", c.Name, err)
	}
	c.mu.Lock()
	c.lastID = ""
	c.mu.Unlock()
	resource.Logger(ctx).Info("container removed", "rid", c.ID, "name", c.Name)
	return nil
}

// Start creates the container when missing, starts it and waits until it
// runs.
func (c *Container) Start(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", c.ID)
	in, err := c.inspect(ctx)
	if err != nil {
		return resource.Errorf(c.ID, "start", "%w", err)
	}
	if in != nil && in.State != nil && in.State.Running {
		log.Info("already running", "name", c.Name, "id", shortID(in.ID))
		return nil
	}
	cli, err := c.client()
	if err != nil {
		return resource.Errorf(c.ID, "start", "%w", err)
	}
	id := ""
	if in != nil {
		id = in.ID
	} else {
		if err := c.ensureImage(ctx); err != nil {
			return resource.Errorf(c.ID, "start", "%w", err)
		}
		cfg := c.Run.Config
		cfg.Image = c.Image
		if c.Command != nil {
			cfg.Cmd = c.Command
		}
		host := c.Run.Host
		log.Info("creating", "name", c.Name, "image", c.Image, "env", secret.RedactEnv(cfg.Env),
			"binds", host.Binds, "network", string(host.NetworkMode), "cmd", secret.RedactArgs(cfg.Cmd))
		if resource.IsDryRun(ctx) {
			return nil
		}
		res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: c.Name, Config: &cfg, HostConfig: &host})
		if err != nil {
			return resource.Errorf(c.ID, "start", "create %s: %w", c.Name, err)
		}
		for _, w := range res.Warnings {
			log.Warn("create warning", "name", c.Name, "warning", w)
		}
		id = res.ID
		c.mu.Lock()
		c.lastID = id
		c.mu.Unlock()
	}
	if resource.IsDryRun(ctx) {
		log.Info("would start", "name", c.Name)
		return nil
	}
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return resource.Errorf(c.ID, "start", "start %s: %w", c.Name, err)
	}
	if err := c.waitRunning(ctx); err != nil {
		return resource.Errorf(c.ID, "start", "%w", err)
	}
	log.Info("running", "name", c.Name, "id", shortID(id))
	return nil
}

// settle is how long a container must keep running before start calls it
// started: a process that dies at once (bad command, missing file) shows
// as running for a moment, and start should report its exit, not success.
const settle = 300 * time.Millisecond

// waitRunning polls inspect until the container has run for settle, has
// exited, or start_timeout passed.
func (c *Container) waitRunning(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.StartTimeout+settle)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var since time.Time
	for {
		in, err := c.inspect(ctx)
		if err != nil {
			return err
		}
		if in == nil {
			return fmt.Errorf("%s vanished after start", c.Name)
		}
		st := in.State
		switch {
		case st == nil:
		case st.Running && !st.Restarting:
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= settle {
				return nil
			}
		case st.Status == container.StateExited || st.Status == container.StateDead:
			msg := fmt.Sprintf("%s exited with code %d", c.Name, st.ExitCode)
			if st.Error != "" {
				msg += ": " + st.Error
			}
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not running after %s", c.Name, c.StartTimeout)
		case <-tick.C:
		}
	}
}

// Stop stops the container, killing it after stop_timeout, and keeps it.
func (c *Container) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", c.ID)
	in, err := c.inspect(ctx)
	if errors.Is(err, dockerd.ErrNotRunning) {
		log.Info("not running: its private docker daemon is not running", "name", c.Name)
		return nil
	}
	if err != nil {
		return resource.Errorf(c.ID, "stop", "%w", err)
	}
	if in == nil || in.State == nil || !in.State.Running {
		log.Info("not running", "name", c.Name)
		return nil
	}
	if resource.IsDryRun(ctx) {
		log.Info("would stop", "name", c.Name, "timeout", c.StopTimeout)
		return nil
	}
	cli, err := c.client()
	if err != nil {
		return resource.Errorf(c.ID, "stop", "%w", err)
	}
	secs := int(c.StopTimeout.Round(time.Second) / time.Second)
	if _, err := cli.ContainerStop(ctx, in.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
		return resource.Errorf(c.ID, "stop", "stop %s: %w", c.Name, err)
	}
	if in, err = c.inspect(ctx); err != nil {
		return resource.Errorf(c.ID, "stop", "%w", err)
	}
	if in != nil && in.State != nil && in.State.Running {
		return resource.Errorf(c.ID, "stop", "%s still runs after stop", c.Name)
	}
	log.Info("stopped", "name", c.Name)
	return nil
}
