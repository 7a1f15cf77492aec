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
// The values of -e variables whose name contains PASSWORD, SECRET, TOKEN
// or KEY never appear in logs or errors.
package docker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/shlex"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/resource/secret"
)

func init() { driver.Register(ctr.Docker, New) }

// Labels set on every container the driver creates.
const (
	LabelService = "com.svckit.svcname"
	LabelRID     = "com.svckit.rid"
)

// Container is a container.docker resource.
type Container struct {
	resource.Base
	name         string
	image        string
	spec         *runSpec
	cmd          []string
	pull         string
	stopTimeout  time.Duration
	startTimeout time.Duration
	uses         []string

	mu     sync.Mutex
	cli    *client.Client
	lastID string // the container id seen last, for the label
}

var (
	_ resource.Provisioner   = (*Container)(nil)
	_ resource.Unprovisioner = (*Container)(nil)
	_ resource.User          = (*Container)(nil)
)

// New is the container.docker factory. It parses run_args and
// run_command; it does not talk to the daemon.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	c := &Container{
		Base:         cfg.Base(),
		name:         ctr.Name(cfg),
		image:        strings.TrimSpace(cfg.String("run_image")),
		pull:         cfg.String("pull"),
		stopTimeout:  cfg.Duration("stop_timeout", 10*time.Second),
		startTimeout: cfg.Duration("start_timeout", 30*time.Second),
	}
	if c.image == "" {
		return nil, fmt.Errorf("%s: run_image: expected an image reference", cfg.RID)
	}
	switch c.pull {
	case "":
		c.pull = "missing"
	case "missing", "always", "never":
	default:
		return nil, fmt.Errorf("%s: pull %q: expected missing, always or never", cfg.RID, c.pull)
	}
	args, err := shlex.Split(cfg.String("run_args"))
	if err != nil {
		return nil, fmt.Errorf("%s: run_args: %w", cfg.RID, err)
	}
	c.spec, err = parseRunArgs(args)
	if err != nil {
		return nil, fmt.Errorf("%s: run_args: %w", cfg.RID, err)
	}
	if c.spec.name != "" && c.spec.name != c.name {
		return nil, fmt.Errorf("%s: run_args: --name %s differs from the container name %s: set the name keyword instead", cfg.RID, c.spec.name, c.name)
	}
	if v := strings.TrimSpace(cfg.String("run_command")); v != "" {
		if c.cmd, err = shlex.Split(v); err != nil {
			return nil, fmt.Errorf("%s: run_command: %w", cfg.RID, err)
		}
	}
	if c.spec.config.Labels == nil {
		c.spec.config.Labels = map[string]string{}
	}
	c.spec.config.Labels[LabelService] = cfg.Svcname
	c.spec.config.Labels[LabelRID] = cfg.RID
	for _, b := range c.spec.host.Binds {
		if src, _, _ := strings.Cut(b, ":"); filepath.IsAbs(src) {
			c.uses = append(c.uses, filepath.Clean(src))
		}
	}
	for _, m := range c.spec.host.Mounts {
		if m.Type == mount.TypeBind && filepath.IsAbs(m.Source) {
			c.uses = append(c.uses, filepath.Clean(m.Source))
		}
	}
	if d := strings.TrimSpace(cfg.Defaults["docker_data_dir"]); d != "" && filepath.IsAbs(d) {
		c.uses = append(c.uses, filepath.Clean(d))
	}
	return c, nil
}

// Name is the container name.
func (c *Container) Name() string { return c.name }

// Image is the configured image.
func (c *Container) Image() string { return c.image }

// Label is "<short id>@<image>" once the container was seen, else
// "<name>@<image>".
func (c *Container) Label() string {
	c.mu.Lock()
	id := c.lastID
	c.mu.Unlock()
	if id == "" {
		return c.name + "@" + c.image
	}
	return shortID(id) + "@" + c.image
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Uses names the host sources of the binds (-v, --mount type=bind) and
// docker_data_dir: the
// filesystems that hold them start first.
func (c *Container) Uses() ([]string, resource.Ordering) {
	return c.uses, resource.OrderByUses
}

func (c *Container) client() (*client.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cli != nil {
		return c.cli, nil
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
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
	res, err := cli.ContainerInspect(ctx, c.name, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", c.name, err)
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
	if err != nil {
		return resource.Undef, err
	}
	if in == nil {
		return resource.Down, nil
	}
	if in.State == nil {
		return resource.Undef, fmt.Errorf("%s: no state in inspect data", c.name)
	}
	switch {
	case in.State.Restarting:
		return resource.Warn, fmt.Errorf("%s is restarting (exit code %d)", c.name, in.State.ExitCode)
	case in.State.Running:
		if in.Config != nil && in.Config.Image != c.image {
			return resource.Warn, fmt.Errorf("%s runs image %s, not run_image %s: remove it to recreate", c.name, in.Config.Image, c.image)
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
	if c.pull != "always" {
		_, err := cli.ImageInspect(ctx, c.image)
		if err == nil {
			return nil
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("inspect image %s: %w", c.image, err)
		}
		if c.pull == "never" {
			return fmt.Errorf("image %s is not present and pull = never", c.image)
		}
	}
	if resource.IsDryRun(ctx) {
		log.Info("would pull", "image", c.image)
		return nil
	}
	log.Info("pulling", "image", c.image)
	res, err := cli.ImagePull(ctx, c.image, client.ImagePullOptions{})
	if err != nil {
		return fmt.Errorf("pull %s: %w", c.image, err)
	}
	defer res.Close()
	if err := res.Wait(ctx); err != nil {
		return fmt.Errorf("pull %s: %w", c.image, err)
	}
	log.Info("pulled", "image", c.image)
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
func (c *Container) Unprovision(ctx context.Context) error {
	in, err := c.inspect(ctx)
	if err != nil {
		return resource.Errorf(c.ID, "unprovision", "%w", err)
	}
	if in == nil {
		return nil
	}
	if in.State != nil && in.State.Running {
		return resource.Errorf(c.ID, "unprovision", "%s is running: stop it first", c.name)
	}
	if resource.IsDryRun(ctx) {
		resource.Logger(ctx).Info("would remove the container", "rid", c.ID, "name", c.name)
		return nil
	}
	cli, err := c.client()
	if err != nil {
		return resource.Errorf(c.ID, "unprovision", "%w", err)
	}
	if _, err := cli.ContainerRemove(ctx, in.ID, client.ContainerRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return resource.Errorf(c.ID, "unprovision", "remove %s: %w", c.name, err)
	}
	c.mu.Lock()
	c.lastID = ""
	c.mu.Unlock()
	resource.Logger(ctx).Info("container removed", "rid", c.ID, "name", c.name)
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
		log.Info("already running", "name", c.name, "id", shortID(in.ID))
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
		cfg := c.spec.config
		cfg.Image = c.image
		if c.cmd != nil {
			cfg.Cmd = c.cmd
		}
		host := c.spec.host
		log.Info("creating", "name", c.name, "image", c.image, "env", secret.RedactEnv(cfg.Env),
			"binds", host.Binds, "network", string(host.NetworkMode), "cmd", secret.RedactArgs(cfg.Cmd))
		if resource.IsDryRun(ctx) {
			return nil
		}
		res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: c.name, Config: &cfg, HostConfig: &host})
		if err != nil {
			return resource.Errorf(c.ID, "start", "create %s: %w", c.name, err)
		}
		for _, w := range res.Warnings {
			log.Warn("create warning", "name", c.name, "warning", w)
		}
		id = res.ID
		c.mu.Lock()
		c.lastID = id
		c.mu.Unlock()
	}
	if resource.IsDryRun(ctx) {
		log.Info("would start", "name", c.name)
		return nil
	}
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return resource.Errorf(c.ID, "start", "start %s: %w", c.name, err)
	}
	if err := c.waitRunning(ctx); err != nil {
		return resource.Errorf(c.ID, "start", "%w", err)
	}
	log.Info("running", "name", c.name, "id", shortID(id))
	return nil
}

// settle is how long a container must keep running before start calls it
// started: a process that dies at once (bad command, missing file) shows
// as running for a moment, and start should report its exit, not success.
const settle = 300 * time.Millisecond

// waitRunning polls inspect until the container has run for settle, has
// exited, or start_timeout passed.
func (c *Container) waitRunning(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.startTimeout+settle)
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
			return fmt.Errorf("%s vanished after start", c.name)
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
			msg := fmt.Sprintf("%s exited with code %d", c.name, st.ExitCode)
			if st.Error != "" {
				msg += ": " + st.Error
			}
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not running after %s", c.name, c.startTimeout)
		case <-tick.C:
		}
	}
}

// Stop stops the container, killing it after stop_timeout, and keeps it.
func (c *Container) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", c.ID)
	in, err := c.inspect(ctx)
	if err != nil {
		return resource.Errorf(c.ID, "stop", "%w", err)
	}
	if in == nil || in.State == nil || !in.State.Running {
		log.Info("not running", "name", c.name)
		return nil
	}
	if resource.IsDryRun(ctx) {
		log.Info("would stop", "name", c.name, "timeout", c.stopTimeout)
		return nil
	}
	cli, err := c.client()
	if err != nil {
		return resource.Errorf(c.ID, "stop", "%w", err)
	}
	secs := int(c.stopTimeout.Round(time.Second) / time.Second)
	if _, err := cli.ContainerStop(ctx, in.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
		return resource.Errorf(c.ID, "stop", "stop %s: %w", c.name, err)
	}
	if in, err = c.inspect(ctx); err != nil {
		return resource.Errorf(c.ID, "stop", "%w", err)
	}
	if in != nil && in.State != nil && in.State.Running {
		return resource.Errorf(c.ID, "stop", "%s still runs after stop", c.name)
	}
	log.Info("stopped", "name", c.name)
	return nil
}
