// Package dockerd is the container.dockerd driver: the private Docker
// daemon of a service whose DEFAULT sets docker_data_dir, as the
// reference's docker_daemon_private. svc adds it to such a service as
// container#dockerd; the service's containers (container.docker) and
// their addresses (ip.docker) talk to its socket.
//
// Import it for its side effect of registering "container.dockerd"
// (driver/all does):
//
//	import _ "github.com/svckit/svckit/driver/container/dockerd"
//
// The daemon runs as
//
//	dockerd --data-root <docker_data_dir> -H unix://<vardir>/docker.sock
//	  --pidfile <vardir>/docker.pid --exec-root /run/svckit-dockerd/<hash>
//	  --config-file <vardir>/dockerd.json --bridge=none --iptables=false
//	  --ip-masq=false --ip-forward=false <docker_daemon_args>
//
// in its own session, its output appended to <vardir>/dockerd.log. The
// exec root is short because containerd's sockets live under it. The
// network options keep the host's network untouched (no bridge made, no
// iptables rule, no forwarding sysctl) unless docker_daemon_args sets
// them; the config file keeps the host daemon's /etc/docker/daemon.json
// out. dockerd with --bridge=none deletes the link docker0 of its network
// namespace, the host Docker's bridge (and its containers' network with
// it): where the host has a docker0, the daemon starts without
// --bridge=none and shares that bridge, unchanged, and a
// docker_daemon_args that disables the bridge is refused there.
//
// Start reuses a daemon already serving this service (its pidfile names
// a live dockerd of this pidfile and the socket answers) and never starts
// a second one: a file lock serializes starts, and a live daemon that does
// not answer yet is waited for. A pidfile or socket is removed only when
// no process holds it. Start waits until the daemon answers Ping, at most
// StartTimeout, and a failure quotes the end of its log. Stop leaves a
// daemon that still runs containers (as the reference does), else sends
// TERM, then KILL after StopTimeout.
package dockerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/internal/atomicfile"
	"github.com/svckit/svckit/internal/filelock"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(ctr.Dockerd, New) }

// ErrNotRunning is the error of a call to a private daemon that is not
// running: no socket, or nothing listening on it.
var ErrNotRunning = errors.New("the private docker daemon is not running")

// Client returns a Docker client of d: its socket for a private daemon,
// else the environment's (DOCKER_HOST or the default socket).
func Client(d ctr.Daemon) (*client.Client, error) {
	if !d.Private {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
		return cli, nil
	}
	if d.Host == "" {
		return nil, fmt.Errorf("the service has a private docker daemon but no var directory for its socket: load it with a var directory")
	}
	cli, err := client.New(client.WithHost(d.Host))
	if err != nil {
		return nil, fmt.Errorf("docker client of %s: %w", d.Host, err)
	}
	return cli, nil
}

// CheckRunning returns an error wrapping ErrNotRunning when d is a
// private daemon whose socket nobody serves, nil otherwise. Drivers call
// it on a failed call to say why, rather than report a connection error.
func CheckRunning(d ctr.Daemon) error {
	if !d.Private || d.Host == "" {
		return nil
	}
	sock := strings.TrimPrefix(d.Host, "unix://")
	if socketAnswers(sock) {
		return nil
	}
	return fmt.Errorf("%w (socket %s)", ErrNotRunning, sock)
}

// socketAnswers tells whether something accepts connections on sock.
func socketAnswers(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Daemon is a container.dockerd resource.
type Daemon struct {
	resource.Base
	ctr.DockerdSpec

	mu     sync.Mutex
	exited map[int]chan struct{} // daemons this process started, closed when they exit
}

var _ resource.User = (*Daemon)(nil)

// New is the container.dockerd factory. It parses DEFAULT; no I/O.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := ctr.ParseDockerdSpec(cfg)
	if err != nil {
		return nil, err
	}
	return &Daemon{Base: cfg.Base(), DockerdSpec: *s, exited: map[int]chan struct{}{}}, nil
}

func (d *Daemon) check() error {
	if d.Socket == "" {
		return fmt.Errorf("the service was loaded without a var directory: the private daemon has no socket path")
	}
	return nil
}

// Label is "dockerd <data root>", plus the pid when it runs.
func (d *Daemon) Label() string {
	if pid, ok := d.livePid(); ok {
		return fmt.Sprintf("dockerd %s pid %d", d.DataRoot, pid)
	}
	return d.DockerdSpec.Label()
}

// readPid returns the pid of the pidfile, 0 when absent or malformed.
func (d *Daemon) readPid() int {
	b, err := os.ReadFile(d.Pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// ours tells whether pid is a live process whose command line names this
// daemon's pidfile: a dockerd of this service, not a recycled pid.
func (d *Daemon) ours(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// A zombie holds nothing.
		if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
			return false
		}
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i, a := range args {
		if a == "--pidfile="+d.Pidfile || (a == "--pidfile" && i+1 < len(args) && args[i+1] == d.Pidfile) {
			return true
		}
	}
	return false
}

// livePid returns the pid of this service's daemon when one runs.
func (d *Daemon) livePid() (int, bool) {
	if d.Pidfile == "" {
		return 0, false
	}
	pid := d.readPid()
	return pid, d.ours(pid)
}

func (d *Daemon) ping(ctx context.Context) error {
	cli, err := Client(ctr.Daemon{Private: true, Host: "unix://" + d.Socket})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return err
}

// Status is up when the daemon of the pidfile runs and answers, warn when
// it runs and does not answer, down otherwise.
func (d *Daemon) Status(ctx context.Context) (resource.Status, error) {
	if err := d.check(); err != nil {
		return resource.Undef, err
	}
	pid, ok := d.livePid()
	if !ok {
		return resource.Down, nil
	}
	if err := d.ping(ctx); err != nil {
		return resource.Warn, fmt.Errorf("dockerd pid %d does not answer on %s: %w", pid, d.Socket, err)
	}
	return resource.Up, nil
}

// lock takes the service's daemon lock (a flock), waiting for ctx.
func (d *Daemon) lock(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(d.LockFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return filelock.Wait(ctx, f, 50*time.Millisecond)
}

// Start starts the daemon, or reuses the one running for this service.
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.check(); err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	log := resource.Logger(ctx).With("rid", d.ID)
	args, note, err := startArgs(d.Args, d.BridgeNone, hostHasLink)
	if err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	cmdline := d.Exe + " " + strings.Join(args, " ")
	if resource.IsDryRun(ctx) {
		if pid, ok := d.livePid(); ok {
			log.Info("dockerd already runs", "pid", pid)
		} else {
			log.Info("would start", "cmd", cmdline)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(d.Pidfile), 0o700); err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	defer unlock()
	if pid, ok := d.livePid(); ok {
		// Ours: reuse it, waiting when it is still starting.
		if err := d.waitReady(ctx, pid, nil); err != nil {
			return resource.Errorf(d.ID, "start", "%w", err)
		}
		log.Info("dockerd already runs", "pid", pid, "socket", d.Socket)
		return nil
	}
	if err := d.cleanStale(ctx); err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	if err := d.killOrphanContainerd(ctx); err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	d.killOrphanShims(ctx)
	if err := d.unmountLeftovers(ctx); err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	if err := d.prepare(); err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	if note != "" {
		log.Info(note)
	}
	pid, exited, err := d.spawn(args, cmdline)
	if err != nil {
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	log.Info("dockerd started", "pid", pid, "cmd", cmdline)
	if err := d.waitReady(ctx, pid, exited); err != nil {
		if _, ok := d.livePid(); ok || d.alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return resource.Errorf(d.ID, "start", "%w", err)
	}
	log.Info("dockerd answers", "pid", pid, "socket", d.Socket)
	return nil
}

func (d *Daemon) alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// cleanStale removes a pidfile and a socket that no process holds.
func (d *Daemon) cleanStale(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", d.ID)
	if _, err := os.Stat(d.Pidfile); err == nil {
		// livePid said no live dockerd of this pidfile holds it.
		log.Warn("removing a stale pidfile", "pidfile", d.Pidfile, "pid", d.readPid())
		if err := os.Remove(d.Pidfile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if _, err := os.Lstat(d.Socket); err == nil {
		if socketAnswers(d.Socket) {
			return fmt.Errorf("%s answers but no dockerd of pidfile %s runs: another process serves the service's socket; stop it first", d.Socket, d.Pidfile)
		}
		log.Warn("removing a stale socket", "socket", d.Socket)
		if err := os.Remove(d.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// killOrphanContainerd stops the containerd a killed daemon of this
// service left behind (its pid file in the exec root, its command line
// naming the exec root): it holds the metadata database, and the new
// daemon's containerd would wait for it until dockerd gives up.
func (d *Daemon) killOrphanContainerd(ctx context.Context) error {
	if d.ExecRoot == "" {
		return nil
	}
	pidfile := filepath.Join(d.ExecRoot, "containerd", "containerd.pid")
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(d.ExecRoot+"/")) {
		// Gone, dying (a killed process, not yet reaped, has no command
		// line), or another process has the pid. dockerd would take a
		// pid that still answers signal 0 for a running containerd and
		// wait for it in vain: its pid file goes.
		if syscall.Kill(pid, 0) == nil {
			resource.Logger(ctx).With("rid", d.ID).Warn("removing the pid file of a dead containerd", "pidfile", pidfile, "pid", pid)
			if err := os.Remove(pidfile); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	resource.Logger(ctx).With("rid", d.ID).Warn("stopping the containerd of a dead dockerd", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		if i == 50 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the containerd (pid %d) of a dead dockerd does not stop", pid)
}

// killOrphanShims kills the container shims a killed daemon of this
// service left (their -address is in the exec root) and the containers
// they run: a new daemon without live-restore would stop those
// containers anyway, and its containerd waits for their shims.
func (d *Daemon) killOrphanShims(ctx context.Context) {
	if d.ExecRoot == "" {
		return
	}
	addr := []byte("\x00-address\x00" + filepath.Join(d.ExecRoot, "containerd", "containerd.sock") + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	parent := map[int]int{}
	var shims []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 {
				if f := strings.Fields(string(st[i+1:])); len(f) > 1 {
					parent[pid], _ = strconv.Atoi(f[1])
				}
			}
		}
		if cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(append(cmd, 0), addr) {
			shims = append(shims, pid)
		}
	}
	log := resource.Logger(ctx).With("rid", d.ID)
	for _, shim := range shims {
		for pid, pp := range parent {
			if pp == shim {
				log.Warn("killing a container of a dead dockerd", "pid", pid, "shim", shim)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		log.Warn("killing a container shim of a dead dockerd", "pid", shim)
		_ = syscall.Kill(shim, syscall.SIGKILL)
	}
}

// unmountLeftovers unmounts what a dead daemon left mounted at and under
// the data root and under its exec root (dockerd binds the data root onto itself and mounts its
// layers below it; a clean exit undoes that, a KILL does not). Called only
// when no daemon of this service runs. The first mount exactly at the data
// root whose root is the filesystem's own is kept: it may be the
// service's filesystem mounted there.
func (d *Daemon) unmountLeftovers(ctx context.Context) error {
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	var drop []string
	keptAt := false
	for _, m := range mounts {
		switch {
		case m.MountPoint == d.DataRoot && !keptAt && !d.isBindOfSelf(m, mounts):
			keptAt = true
		case m.MountPoint == d.DataRoot || strings.HasPrefix(m.MountPoint, d.DataRoot+"/"):
			drop = append(drop, m.MountPoint)
		case d.ExecRoot != "" && strings.HasPrefix(m.MountPoint, d.ExecRoot+"/"):
			// Sandbox network namespaces bound under the exec root.
			drop = append(drop, m.MountPoint)
		}
	}
	for i := len(drop) - 1; i >= 0; i-- {
		resource.Logger(ctx).With("rid", d.ID).Warn("unmounting what a dead dockerd left mounted", "mount", drop[i])
		if err := unix.Unmount(drop[i], unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", drop[i], err)
		}
	}
	return nil
}

// isBindOfSelf tells whether m, mounted at the data root, is dockerd's
// bind of the data root onto itself: its parent mount is the same
// filesystem mounted above the data root.
func (d *Daemon) isBindOfSelf(m mountinfo.Mount, all []mountinfo.Mount) bool {
	for _, o := range all {
		if o.ID == m.Parent && o.Major == m.Major && o.Minor == m.Minor && o.MountPoint != m.MountPoint {
			// Its parent is the same filesystem mounted above: a bind.
			return strings.HasPrefix(d.DataRoot, strings.TrimSuffix(o.MountPoint, "/")+"/")
		}
	}
	return false
}

// prepare makes the data root, the exec root and the config file.
func (d *Daemon) prepare() error {
	if err := os.MkdirAll(d.DataRoot, 0o710); err != nil {
		return fmt.Errorf("data root: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(d.Socket), 0o700); err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}
	if d.ExecRoot != "" {
		if err := os.MkdirAll(d.ExecRoot, 0o700); err != nil {
			return fmt.Errorf("exec root: %w", err)
		}
	}
	if d.ConfigFile != "" {
		if err := atomicfile.Write(d.ConfigFile, []byte("{}\n"), 0o600); err != nil {
			return fmt.Errorf("daemon config: %w", err)
		}
	}
	return nil
}

// maxLog is the size past which the log is rotated at start (one old
// copy kept as dockerd.log.1).
const maxLog = 8 << 20

// DefaultBridge is the name of the bridge that dockerd deletes at start
// when its own bridge is disabled (--bridge=none): moby removes the link
// of that name in its network namespace, whoever made it.
const DefaultBridge = "docker0"

// hostHasLink tells whether a network link of that name exists in this
// process's network namespace, the one the daemon starts in.
func hostHasLink(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// startArgs returns the arguments the daemon starts with. dockerd with
// its bridge disabled deletes the link DefaultBridge of its network
// namespace: the host's Docker bridge, and with it the network of the
// host daemon's containers. Where that link exists, svckit's default
// --bridge=none (bridgeNone) is dropped, the daemon attaching its default
// network to the existing bridge without changing it (no address, no
// iptables rule, no forwarding: the other defaults), and a bridge that
// docker_daemon_args disables is refused.
func startArgs(args []string, bridgeNone bool, hasLink func(string) bool) ([]string, string, error) {
	if !bridgeDisabled(args) || !hasLink(DefaultBridge) {
		return args, "", nil
	}
	if !bridgeNone {
		return nil, "", fmt.Errorf("docker_daemon_args disables the bridge (-b none), with which dockerd deletes the host's %s bridge, and %s exists here (the host's Docker: its containers would lose their network): drop the option", DefaultBridge, DefaultBridge)
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		if a != "--bridge=none" {
			out = append(out, a)
		}
	}
	return out, fmt.Sprintf("the host has a %s bridge: the daemon shares it rather than run with --bridge=none, with which dockerd would delete it", DefaultBridge), nil
}

// bridgeDisabled tells whether args disable dockerd's bridge: -b or
// --bridge none, with or without "=".
func bridgeDisabled(args []string) bool {
	for i, a := range args {
		name, v, eq := strings.Cut(a, "=")
		if name != "-b" && name != "--bridge" {
			continue
		}
		if !eq && i+1 < len(args) {
			v = args[i+1]
		}
		if v == "none" {
			return true
		}
	}
	return false
}

func (d *Daemon) spawn(args []string, cmdline string) (int, chan struct{}, error) {
	exe, err := exec.LookPath(d.Exe)
	if err != nil {
		return 0, nil, fmt.Errorf("dockerd_exe: %w", err)
	}
	if st, err := os.Stat(d.LogFile); err == nil && st.Size() > maxLog {
		_ = os.Rename(d.LogFile, d.LogFile+".1")
	}
	logf, err := os.OpenFile(d.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "svckit: %s starting %s\n", time.Now().UTC().Format(time.RFC3339), cmdline)
	// Not CommandContext: the daemon outlives the action (and this
	// process); its own session keeps it out of our process group's
	// signals.
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start %s: %w", exe, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reaps it
	d.mu.Lock()
	d.exited[pid] = exited
	d.mu.Unlock()
	return pid, exited, nil
}

// waitReady waits until the daemon answers Ping, it exits (exited, when
// this process started it), or StartTimeout passes.
func (d *Daemon) waitReady(ctx context.Context, pid int, exited chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, d.StartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = d.ping(ctx); last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("dockerd pid %d exited before answering on %s; end of %s:\n%s", pid, d.Socket, d.LogFile, d.logTail())
		case <-ctx.Done():
			return fmt.Errorf("dockerd pid %d does not answer on %s after %s (%v); end of %s:\n%s", pid, d.Socket, d.StartTimeout, last, d.LogFile, d.logTail())
		case <-tick.C:
			if exited == nil && !d.alive(pid) {
				return fmt.Errorf("dockerd pid %d died before answering; end of %s:\n%s", pid, d.LogFile, d.logTail())
			}
		}
	}
}

// logTail returns the error lines and the last lines of the daemon's
// log since its last start (at most 64 KiB read, 20 lines kept): the
// last lines alone are often the retries of a client.
func (d *Daemon) logTail() string {
	f, err := os.Open(d.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const n = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, n))
	text := string(b)
	if i := strings.LastIndex(text, "svckit: "); i >= 0 {
		text = text[i:]
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var keep []string
	for i, l := range lines {
		last := i >= len(lines)-8
		if last || strings.Contains(l, "level=error") || strings.Contains(l, "level=fatal") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 20 {
		keep = keep[len(keep)-20:]
	}
	return strings.Join(keep, "\n")
}

// Stop stops the daemon when it runs no container any more.
func (d *Daemon) Stop(ctx context.Context) error {
	if err := d.check(); err != nil {
		return resource.Errorf(d.ID, "stop", "%w", err)
	}
	log := resource.Logger(ctx).With("rid", d.ID)
	pid, ok := d.livePid()
	if !ok {
		log.Info("dockerd not running")
		// A killed daemon leaves its mounts under the data root: they
		// would keep the filesystem from unmounting next.
		if err := d.unmountLeftovers(ctx); err != nil {
			return resource.Errorf(d.ID, "stop", "%w", err)
		}
		return nil
	}
	if running, err := d.runningContainers(ctx); err != nil {
		log.Warn("cannot list the daemon's containers: stopping it anyway", "err", err)
	} else if len(running) > 0 {
		log.Info("dockerd kept: containers still run on it", "pid", pid, "containers", strings.Join(running, " "))
		return nil
	}
	if resource.IsDryRun(ctx) {
		log.Info("would stop dockerd", "pid", pid)
		return nil
	}
	log.Info("stopping dockerd", "pid", pid)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return resource.Errorf(d.ID, "stop", "signal dockerd pid %d: %w", pid, err)
	}
	if !d.waitGone(ctx, pid, d.StopTimeout) {
		log.Warn("dockerd did not stop: killing it", "pid", pid, "after", d.StopTimeout)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if !d.waitGone(ctx, pid, 10*time.Second) {
			return resource.Errorf(d.ID, "stop", "dockerd pid %d still runs after KILL", pid)
		}
	}
	if err := d.unmountLeftovers(ctx); err != nil {
		return resource.Errorf(d.ID, "stop", "%w", err)
	}
	// dockerd removes them on a clean exit; not after a KILL.
	for _, p := range []string{d.Pidfile, d.Socket} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("cannot remove", "path", p, "err", err)
		}
	}
	log.Info("dockerd stopped", "pid", pid)
	return nil
}

// waitGone waits until pid is no dockerd of this service, at most timeout.
func (d *Daemon) waitGone(ctx context.Context, pid int, timeout time.Duration) bool {
	d.mu.Lock()
	exited := d.exited[pid]
	d.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		if exited != nil {
			select {
			case <-exited:
				return true
			default:
			}
		} else if !d.ours(pid) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningContainers lists the names of the containers running on the
// daemon.
func (d *Daemon) runningContainers(ctx context.Context) ([]string, error) {
	cli, err := Client(ctr.Daemon{Private: true, Host: "unix://" + d.Socket})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range res.Items {
		name := c.ID
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		names = append(names, name)
	}
	return names, nil
}

// CopyImage copies the images refs from the daemon of src to the daemon of
// dst (docker save | docker load, streamed): how a private daemon, which
// starts with no image, gets one where there is no registry.
func CopyImage(ctx context.Context, src, dst *client.Client, refs ...string) error {
	save, err := src.ImageSave(ctx, refs)
	if err != nil {
		return fmt.Errorf("save %s: %w", strings.Join(refs, " "), err)
	}
	defer save.Close()
	load, err := dst.ImageLoad(ctx, save, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load %s: %w", strings.Join(refs, " "), err)
	}
	defer load.Close()
	// The answer is a JSON stream; an error in it is a failed load.
	b, err := io.ReadAll(io.LimitReader(load, 1<<20))
	if err != nil {
		return fmt.Errorf("load %s: %w", strings.Join(refs, " "), err)
	}
	if bytes.Contains(b, []byte(`"errorDetail"`)) || bytes.Contains(b, []byte(`"error"`)) {
		return fmt.Errorf("load %s: %s", strings.Join(refs, " "), strings.TrimSpace(string(b)))
	}
	return nil
}
