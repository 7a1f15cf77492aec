package container

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/types/mount"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/internal/shellwords"
	"github.com/svckit/svckit/resource"
)

// Labels set on every container of a service.
const (
	LabelService = "com.svckit.svcname"
	LabelRID     = "com.svckit.rid"
)

// DockerSpec is a container.docker section, parsed: the create call's
// configuration from run_args (with the service labels), the command, and
// what the container uses on the host.
type DockerSpec struct {
	// Name is the container name (see Name).
	Name  string
	Image string
	// Run is run_args, parsed; Run.Config.Labels holds LabelService and
	// LabelRID.
	Run *RunSpec
	// Command is run_command split into words; nil for the image's own.
	Command      []string
	Pull         string // missing, always or never
	StopTimeout  time.Duration
	StartTimeout time.Duration
	// Daemon is where the container lives: the service's private daemon
	// when DEFAULT sets docker_data_dir, else the environment's.
	Daemon Daemon
	uses   []string
}

// ParseDockerSpec reads a container.docker section. Errors never quote
// run_args: it may hold passwords.
func ParseDockerSpec(cfg driver.Config) (*DockerSpec, error) {
	s := &DockerSpec{Name: Name(cfg), Image: strings.TrimSpace(cfg.String("run_image"))}
	if s.Image == "" {
		return nil, driver.KeywordErrorf("run_image", "expected an image reference")
	}
	var err error
	if s.Pull, err = cfg.OneOf("pull"); err != nil {
		return nil, err
	}
	if s.StopTimeout, err = cfg.DurationOf("stop_timeout"); err != nil {
		return nil, err
	}
	if s.StartTimeout, err = cfg.DurationOf("start_timeout"); err != nil {
		return nil, err
	}
	args, err := shellwords.Split(cfg.String("run_args"))
	if err != nil {
		return nil, driver.KeywordErrorf("run_args", "cannot split into words: %w", err)
	}
	if s.Run, err = ParseRunArgs(args); err != nil {
		return nil, &driver.KeywordError{Keyword: "run_args", Err: err}
	}
	if s.Run.Name != "" && s.Run.Name != s.Name {
		return nil, driver.KeywordErrorf("run_args", "--name %s differs from the container name %s: set the name keyword instead", s.Run.Name, s.Name)
	}
	if v := strings.TrimSpace(cfg.String("run_command")); v != "" {
		if s.Command, err = shellwords.Split(v); err != nil {
			return nil, driver.KeywordErrorf("run_command", "cannot split into words: %w", err)
		}
	}
	if s.Run.Config.Labels == nil {
		s.Run.Config.Labels = map[string]string{}
	}
	s.Run.Config.Labels[LabelService] = cfg.Svcname
	s.Run.Config.Labels[LabelRID] = cfg.RID
	for _, b := range s.Run.Host.Binds {
		if src, _, _ := strings.Cut(b, ":"); filepath.IsAbs(src) {
			s.uses = append(s.uses, filepath.Clean(src))
		}
	}
	for _, m := range s.Run.Host.Mounts {
		if m.Type == mount.TypeBind && filepath.IsAbs(m.Source) {
			s.uses = append(s.uses, filepath.Clean(m.Source))
		}
	}
	if d := strings.TrimSpace(cfg.Defaults["docker_data_dir"]); filepath.IsAbs(d) {
		s.uses = append(s.uses, filepath.Clean(d))
	}
	if s.Daemon, err = DaemonOf(cfg); err != nil {
		return nil, err
	}
	if s.Daemon.Private {
		s.uses = append(s.uses, "rid:"+DockerdRID)
	}
	return s, nil
}

// Label is "<name>@<image>"; the driver shows the short container id
// instead of the name once it has seen the container, as the reference
// does.
func (s *DockerSpec) Label() string { return s.Name + "@" + s.Image }

// Provides names nothing.
func (s *DockerSpec) Provides() []string { return nil }

// Uses names the host sources of the binds (-v, --mount type=bind) and
// docker_data_dir: the filesystems that hold them start first; and the
// private daemon (DockerdRID) when the service has one.
func (s *DockerSpec) Uses() ([]string, resource.Ordering) {
	return append([]string(nil), s.uses...), resource.OrderByUses
}
