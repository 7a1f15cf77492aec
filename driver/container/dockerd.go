package container

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/shlex"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// DockerdRID is the rid of the private Docker daemon svc adds to a
// service whose DEFAULT sets docker_data_dir (and does not set
// docker_daemon_private = false). Its containers use it.
const DockerdRID = "container#dockerd"

// Dockerd is the manifest of container.dockerd, the private Docker daemon
// of a service. Its settings are the DEFAULT keywords docker_data_dir,
// docker_daemon_private, docker_daemon_args and dockerd_exe (svc declares
// them); the section itself has only the standard keywords.
var Dockerd = driver.Manifest{
	ID:   "container.dockerd",
	Text: "the private Docker daemon of the service (added by svc when DEFAULT sets docker_data_dir)",
	Spec: driver.SpecOf(ParseDockerdSpec),
}

// MaxSocketPath is the longest unix socket path the kernel takes
// (sun_path is 108 bytes with the terminating NUL).
const MaxSocketPath = 107

// ExecRootBase is where the private daemons keep their exec roots
// (containerd state and sockets): a short path, since the sockets under
// it must stay under MaxSocketPath whatever the service's var directory.
const ExecRootBase = "/run/svckit-dockerd"

// Daemon is where a service's Docker calls go.
type Daemon struct {
	// Private is true when the service runs its own daemon.
	Private bool
	// Host is the daemon's address for a Docker client
	// ("unix:///<vardir>/docker.sock"); "" for the environment's
	// (DOCKER_HOST or the default socket), and for a private daemon of a
	// service loaded without a var directory (fakes, planning): the real
	// drivers then refuse to act.
	Host string
}

// DaemonOf returns the daemon of the service of cfg: private when DEFAULT
// sets docker_data_dir and docker_daemon_private is not false, as in the
// reference.
func DaemonOf(cfg driver.Config) (Daemon, error) {
	dir := strings.TrimSpace(cfg.Defaults["docker_data_dir"])
	if dir == "" {
		return Daemon{}, nil
	}
	if v := strings.TrimSpace(cfg.Defaults["docker_daemon_private"]); v != "" {
		b, err := driver.ParseBool(v)
		if err != nil {
			return Daemon{}, driver.KeywordErrorf("docker_daemon_private", "%w", err)
		}
		if !b {
			return Daemon{}, nil
		}
	}
	sock, err := socketPath(cfg)
	if err != nil {
		return Daemon{}, err
	}
	if sock == "" {
		return Daemon{Private: true}, nil
	}
	return Daemon{Private: true, Host: "unix://" + sock}, nil
}

func socketPath(cfg driver.Config) (string, error) {
	if cfg.VarDir == "" {
		return "", nil
	}
	if !filepath.IsAbs(cfg.VarDir) {
		return "", driver.KeywordErrorf("docker_data_dir", "the private docker daemon needs an absolute var directory for its socket, have %q", cfg.VarDir)
	}
	sock := filepath.Join(cfg.VarDir, "docker.sock")
	if len(sock) > MaxSocketPath {
		// A unix socket path is at most 107 bytes: a service under a
		// long root gets its socket beside the exec roots instead.
		sock = filepath.Join(ExecRootBase, varDirHash(cfg.VarDir)+".sock")
	}
	return sock, nil
}

// varDirHash names a service's files under ExecRootBase: 12 hex digits of
// the sha256 of its var directory, one per service on a node.
func varDirHash(varDir string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(varDir)))
	return hex.EncodeToString(sum[:6])
}

// DockerdSpec is the private daemon of a service, parsed from DEFAULT.
type DockerdSpec struct {
	// DataRoot is docker_data_dir: images and container layers.
	DataRoot string
	// Exe is dockerd_exe.
	Exe string
	// Socket, Pidfile, LogFile and ConfigFile live in the service's var
	// directory (the socket in ExecRootBase when the var directory is too
	// long for a unix socket path).
	Socket, Pidfile, LogFile, ConfigFile, LockFile string
	// ExecRoot is a short directory under ExecRootBase named by a hash of
	// the var directory: one per service.
	ExecRoot string
	// Args is the whole dockerd argument list (without Exe), as the spec
	// makes it: the driver adjusts the bridge at start (see BridgeNone).
	Args []string
	// BridgeNone tells that Args holds "--bridge=none" as svckit's
	// default, not docker_daemon_args's: dockerd with the bridge disabled
	// deletes a link named docker0 in its network namespace, the host's
	// Docker's bridge; where one exists the driver drops the option and
	// the daemon attaches its (unused) default network to that bridge.
	BridgeNone   bool
	StartTimeout time.Duration
	StopTimeout  time.Duration
}

// Options of docker_daemon_args that svckit sets itself: the daemon must
// be the service's, on its socket and data root.
var ownedOptions = []string{"-H", "--host", "--data-root", "-g", "--graph", "-p", "--pidfile"}

// hasOption tells whether args set opt (as "opt", "opt=v").
func hasOption(args []string, opts ...string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		for _, o := range opts {
			if name == o {
				return true
			}
		}
	}
	return false
}

// ParseDockerdSpec reads the private daemon's settings from DEFAULT. The
// daemon does not change the host's network: unless docker_daemon_args
// sets them, it runs with --bridge=none --iptables=false --ip-masq=false
// --ip-forward=false (the reference lets dockerd make docker0 and its
// rules), the driver dropping --bridge=none where the host has a docker0
// (see DockerdSpec.BridgeNone).
func ParseDockerdSpec(cfg driver.Config) (*DockerdSpec, error) {
	dir := strings.TrimSpace(cfg.Defaults["docker_data_dir"])
	if dir == "" {
		return nil, driver.KeywordErrorf("docker_data_dir", "required by the private docker daemon: expected an absolute path")
	}
	if !filepath.IsAbs(dir) {
		return nil, driver.KeywordErrorf("docker_data_dir", "%q: expected an absolute path", dir)
	}
	d, err := DaemonOf(cfg)
	if err != nil {
		return nil, err
	}
	if !d.Private {
		return nil, driver.KeywordErrorf("docker_daemon_private", "is false: the service has no private docker daemon")
	}
	s := &DockerdSpec{
		DataRoot:     filepath.Clean(dir),
		Exe:          strings.TrimSpace(cfg.Defaults["dockerd_exe"]),
		StartTimeout: 60 * time.Second,
		StopTimeout:  30 * time.Second,
	}
	if d.Host != "" {
		s.Socket = strings.TrimPrefix(d.Host, "unix://")
		s.Pidfile = filepath.Join(cfg.VarDir, "docker.pid")
		s.LogFile = filepath.Join(cfg.VarDir, "dockerd.log")
		s.LockFile = filepath.Join(cfg.VarDir, "dockerd.lock")
	}
	if s.Exe == "" {
		s.Exe = "dockerd"
	}
	s.ExecRoot = filepath.Join(ExecRootBase, varDirHash(cfg.VarDir))
	extra, err := shlex.Split(cfg.Defaults["docker_daemon_args"])
	if err != nil {
		return nil, driver.KeywordErrorf("docker_daemon_args", "cannot split into words: %w", err)
	}
	for _, a := range extra {
		if strings.ContainsAny(a, "\n\x00") {
			return nil, driver.KeywordErrorf("docker_daemon_args", "an argument holds a newline or NUL")
		}
	}
	if hasOption(extra, ownedOptions...) {
		return nil, driver.KeywordErrorf("docker_daemon_args", "sets one of %s: svckit sets the socket, data root and pid file of the private daemon itself", strings.Join(ownedOptions, " "))
	}
	s.Args = []string{"--data-root", s.DataRoot, "-H", d.Host, "--pidfile", s.Pidfile}
	if d.Host == "" {
		s.Args = []string{"--data-root", s.DataRoot}
	}
	if !hasOption(extra, "--exec-root") {
		s.Args = append(s.Args, "--exec-root", s.ExecRoot)
	} else {
		s.ExecRoot = ""
	}
	if !hasOption(extra, "--config-file") && cfg.VarDir != "" {
		// The host daemon's /etc/docker/daemon.json (its data-root, its
		// hosts) would conflict with these flags.
		s.ConfigFile = filepath.Join(cfg.VarDir, "dockerd.json")
		s.Args = append(s.Args, "--config-file", s.ConfigFile)
	}
	if !hasOption(extra, "-b", "--bridge", "--bip") {
		s.Args = append(s.Args, "--bridge=none")
		s.BridgeNone = true
	}
	if !hasOption(extra, "--iptables") {
		s.Args = append(s.Args, "--iptables=false")
	}
	if !hasOption(extra, "--ip-masq") {
		s.Args = append(s.Args, "--ip-masq=false")
	}
	if !hasOption(extra, "--ip-forward") {
		// A daemon with a bridge would set net.ipv4.ip_forward.
		s.Args = append(s.Args, "--ip-forward=false")
	}
	s.Args = append(s.Args, extra...)
	return s, nil
}

// Label is "dockerd <data root>".
func (s *DockerdSpec) Label() string { return "dockerd " + s.DataRoot }

// Provides names nothing: containers use the daemon by its rid.
func (s *DockerdSpec) Provides() []string { return nil }

// Uses names the data root: the filesystem holding it mounts first and
// unmounts after the daemon stopped.
func (s *DockerdSpec) Uses() ([]string, resource.Ordering) {
	return []string{s.DataRoot}, resource.OrderByUses
}

// CommandLine is the daemon's command, for logs and dry runs.
func (s *DockerdSpec) CommandLine() string {
	return fmt.Sprintf("%s %s", s.Exe, strings.Join(s.Args, " "))
}
