package monitor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/schedule"
	"github.com/svckit/svckit/svc/store"
)

// Defaults of DaemonOptions.
const (
	DefaultInterval      = 10 * time.Second
	DefaultShutdownGrace = 10 * time.Second
	DefaultLockWait      = 5 * time.Second
)

// notServices are the files of <root>/etc that are no service
// configuration.
var notServices = []string{"node", "nodes", "svckit"}

// DaemonOptions configure a Daemon. Root and Node are required.
type DaemonOptions struct {
	// Root holds etc/<svc>.conf, etc/node.conf and var/.
	Root string
	// Node is this node's name.
	Node string
	// Registry holds the drivers the services load with (driver/fake's
	// Replace for a --fake daemon). Default driver.Default().
	Registry *driver.Registry
	// NoTriggers disables the services' pre_/post_ commands (fake runs).
	NoTriggers bool
	// Interval is the monitor pass of a service without monitor_schedule
	// (whole seconds, at least 1s), and the most the loop sleeps, so a
	// changed configuration is reloaded within it. Default 10s.
	Interval time.Duration
	// Now and Sleep are the clock; tests drive both. Defaults time.Now
	// and a timer.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Pass, when set, replaces the monitor pass of a service (Monitor's
	// Pass): it returns the status at the end of the pass, or nil for the
	// daemon to read it.
	Pass func(ctx context.Context, s *svc.Service) (*svc.StatusReport, error)
	// Monitor runs the monitor passes when Pass is nil. Default: a
	// Monitor on the daemon's clock, publishing on its event stream, whose
	// monitor_action is MonitorAction or Monitor.DefaultAction (reboot
	// and crash only when node.conf sets HostActionsKey).
	Monitor *Monitor
	// MonitorAction replaces the default Monitor's monitor_action (tests
	// inject it).
	MonitorAction func(ctx context.Context, s *svc.Service, action, reason string) error
	// NoHostActions refuses reboot and crash whatever node.conf says
	// (nodemgr daemon run --fake).
	NoHostActions bool
	// Frozen tells whether a service is frozen: its acting tasks
	// (compliance) are then skipped. Default: Service.Frozen (frozen when
	// unreadable).
	Frozen func(s *svc.Service) bool
	// NodeRunners run the node tasks (NodeTasks) by name; a task without
	// a runner is not scheduled.
	NodeRunners map[string]NodeRunner
	// ServiceRunners run the service tasks by name: TaskCompliance, and
	// "sync" for every sync resource (on the flex primary only). The
	// compliance runner runs holding the service's action lock (waiting
	// LockWait for it); sync, which changes the other nodes' configs,
	// does not. A task without a runner is not scheduled. The status and
	// monitor tasks are the daemon's own.
	ServiceRunners map[string]ServiceRunner
	// LockWait is how long an acting task waits for the service's lock
	// before it is skipped until its next run. Default 5s.
	LockWait time.Duration
	// ShutdownGrace is how long, once the daemon's context ends, running
	// tasks may finish before their context is cancelled; after as long
	// again Run returns whatever is left. Default 10s.
	ShutdownGrace time.Duration
	// Logger gets the daemon's log. Default: discarded.
	Logger *slog.Logger
}

// Daemon runs, for every service under <root>/etc and for the node, the
// scheduled tasks and the monitor, keeps their last status for the API,
// and publishes events and metrics. Run runs it; Step is one turn of its
// loop, for tests that drive the clock.
type Daemon struct {
	opts     DaemonOptions
	interval string // the monitor schedule of a service without one
	bus      *bus
	metrics  *metrics
	started  time.Time

	taskCtx    context.Context // cancelled at the end of the shutdown grace
	cancelTask context.CancelFunc
	wg         sync.WaitGroup

	mu       sync.Mutex
	services map[string]*serviceEntry
	node     *taskSet
	nodeConf NodeConf
	nodeErr  string
	inflight map[string]bool // "scope/task": a task never runs twice at once, across reloads
	ignored  map[string]bool // configurations reported as ignored
}

type serviceEntry struct {
	name     string
	file     string
	modTime  time.Time
	size     int64
	checksum string
	svc      *svc.Service
	loadErr  string
	tasks    *taskSet
	status   *svc.StatusReport
	updated  time.Time
	passTook time.Duration
}

type taskSet struct {
	scope string
	tasks map[string]*taskEntry
}

type taskEntry struct {
	task *schedule.Task
	def  string
	// last result, for the API
	result   string
	message  string
	duration time.Duration
}

// warned tells whether the ignored configuration name was reported
// already, and records it.
func (d *Daemon) warned(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ignored[name] {
		return true
	}
	d.ignored[name] = true
	return false
}

// NewDaemon checks the options; it does no I/O.
func NewDaemon(opts DaemonOptions) (*Daemon, error) {
	if opts.Root == "" {
		return nil, errors.New("daemon: Root is required")
	}
	if opts.Node == "" {
		return nil, errors.New("daemon: Node is required")
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Interval < time.Second || opts.Interval%time.Second != 0 {
		return nil, fmt.Errorf("daemon: interval %s: expected whole seconds, at least 1s", opts.Interval)
	}
	if opts.Registry == nil {
		opts.Registry = driver.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepContext
	}
	if opts.LockWait == 0 {
		opts.LockWait = DefaultLockWait
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{
		opts:     opts,
		interval: fmt.Sprintf("%ds", int(opts.Interval/time.Second)),
		bus:      newBus(),
		metrics:  newMetrics(),
		services: map[string]*serviceEntry{},
		inflight: map[string]bool{},
		ignored:  map[string]bool{},
	}
	d.taskCtx, d.cancelTask = context.WithCancel(context.Background())
	d.wireMonitor()
	return d, nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Emit publishes an event (the monitor's Options.Emit): restarts also
// count in the metrics.
func (d *Daemon) Emit(kind, service, rid, message string) {
	if kind == restartKind {
		d.metrics.restarts.WithLabelValues(service, rid).Inc()
	}
	d.opts.Logger.Info(message, "kind", kind, "service", service, "rid", rid)
	d.bus.publish(Event{Time: d.opts.Now(), Kind: kind, Service: service, RID: rid, Message: message})
}

// DaemonDir is <root>/var/daemon: the daemon's lock and API socket.
func DaemonDir(root string) string { return filepath.Join(root, "var", "daemon") }

// SocketPath is the API's unix socket of the daemon of root.
func SocketPath(root string) string { return filepath.Join(DaemonDir(root), "api.sock") }

// Run runs the daemon until ctx ends: it takes the daemon lock of the
// root (one daemon per root; the kernel releases it if the process dies),
// serves the API on SocketPath, and loops. On the end of ctx it stops
// scheduling, lets running tasks finish for ShutdownGrace, cancels them,
// waits as long again, and removes the socket.
func (d *Daemon) Run(ctx context.Context) error {
	dir := DaemonDir(d.opts.Root)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	fl := flock.New(filepath.Join(dir, "lock"))
	ok, err := fl.TryLock()
	if err != nil {
		return fmt.Errorf("daemon: lock %s: %w", fl.Path(), err)
	}
	if !ok {
		return fmt.Errorf("daemon: another daemon runs on %s (it holds %s)", d.opts.Root, fl.Path())
	}
	defer fl.Unlock()
	d.mu.Lock()
	d.started = d.opts.Now()
	d.mu.Unlock()
	d.Emit(EventDaemon, "", "", fmt.Sprintf("daemon started on %s, pid %d, interval %s", d.opts.Node, os.Getpid(), d.opts.Interval))
	// The first turn loads the services before the API answers, so that
	// its first answer lists them.
	wait := d.Step(ctx)
	srv, err := d.serve(SocketPath(d.opts.Root))
	if err != nil {
		d.cancelTask()
		d.wg.Wait()
		return err
	}
	for ctx.Err() == nil {
		if err := d.opts.Sleep(ctx, wait); err != nil {
			break
		}
		wait = d.Step(ctx)
	}
	d.Emit(EventDaemon, "", "", "daemon stopping")
	d.shutdown()
	d.bus.close()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.close(sctx)
	return nil
}

// shutdown waits for the running tasks: ShutdownGrace to finish, then
// cancelled, ShutdownGrace more to return.
func (d *Daemon) shutdown() {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	t := time.NewTimer(d.opts.ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	d.opts.Logger.Warn("shutdown: cancelling the running tasks", "running", d.Running())
	d.cancelTask()
	t.Reset(d.opts.ShutdownGrace)
	select {
	case <-done:
	case <-t.C:
		d.opts.Logger.Error("shutdown: tasks still running, leaving them", "running", d.Running())
	}
}

// Wait waits for the tasks started by Step to end.
func (d *Daemon) Wait() { d.wg.Wait() }

// Running lists the running tasks as "scope/task".
func (d *Daemon) Running() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Collect(maps.Keys(d.inflight))
	sort.Strings(out)
	return out
}

// Step is one turn of the loop at the clock's now: reload node.conf and
// the service configurations that changed, start every due task that is
// not running (each in its goroutine), and return how long to sleep
// before the next turn (until the next due task, at most Interval).
func (d *Daemon) Step(ctx context.Context) time.Duration {
	now := d.opts.Now()
	d.reload(ctx, now)
	d.mu.Lock()
	defer d.mu.Unlock()
	wait := d.opts.Interval
	launch := func(set *taskSet, svcEntry *serviceEntry) {
		if set == nil {
			return
		}
		for _, name := range slices.Sorted(maps.Keys(set.tasks)) {
			te := set.tasks[name]
			key := set.scope + "/" + name
			if d.inflight[key] {
				// Looked at again by a turn after it ends, within
				// Interval.
				continue
			}
			if run, err := te.task.ClaimDue(now); err == nil {
				d.inflight[key] = true
				d.wg.Add(1)
				go d.runTask(set, name, te, run, svcEntry)
				continue
			}
			if next, ok := te.task.Next(now); ok && next.Sub(now) < wait {
				wait = max(next.Sub(now), 0)
			}
		}
	}
	launch(d.node, nil)
	for _, name := range slices.Sorted(maps.Keys(d.services)) {
		e := d.services[name]
		launch(e.tasks, e)
	}
	// Never spin.
	return max(wait, 10*time.Millisecond)
}

// runTask runs a claimed task and releases it.
func (d *Daemon) runTask(set *taskSet, name string, te *taskEntry, run *schedule.Run, e *serviceEntry) {
	defer d.wg.Done()
	ctx := d.taskCtx
	begin := time.Now()
	var msg string
	var err error
	result := ResultOK
	if e == nil {
		msg, err = d.opts.NodeRunners[name](ctx)
	} else {
		msg, err = d.runServiceTask(ctx, e, name)
	}
	took := time.Since(begin)
	var skip *skipError
	switch {
	case errors.As(err, &skip):
		result, msg = ResultSkipped, skip.why
	case err != nil:
		result, msg = ResultError, err.Error()
	}
	if e != nil && e.svc != nil {
		msg = e.svc.Redact(msg)
	}
	if rerr := run.Release(context.WithoutCancel(ctx), err); rerr != nil {
		d.opts.Logger.Error("task: saving the last run", "scope", set.scope, "task", name, "error", rerr)
	}
	d.metrics.observeTask(set.scope, name, result, took, run.Start())
	d.mu.Lock()
	te.result, te.message, te.duration = result, msg, took
	delete(d.inflight, set.scope+"/"+name)
	d.mu.Unlock()
	if name != TaskMonitor || result != ResultOK {
		svcname := ""
		if e != nil {
			svcname = e.name
		}
		d.Emit(EventTask, svcname, "", fmt.Sprintf("%s %s: %s in %s: %s", set.scope, name, result, took.Round(time.Millisecond), msg))
	}
}

// skipError is a task that did not run (frozen service, lock held).
type skipError struct{ why string }

func (e *skipError) Error() string { return e.why }

func (d *Daemon) runServiceTask(ctx context.Context, e *serviceEntry, name string) (string, error) {
	d.mu.Lock()
	s := e.svc
	d.mu.Unlock()
	switch name {
	case TaskStatus:
		d.refreshStatus(ctx, e, s, nil, 0)
		return "status read", nil
	case TaskMonitor:
		begin := time.Now()
		var rep *svc.StatusReport
		var err error
		if d.opts.Pass != nil {
			rep, err = d.opts.Pass(ctx, s)
		}
		d.refreshStatus(ctx, e, s, rep, time.Since(begin))
		if err != nil {
			return "", err
		}
		return "pass done", nil
	}
	runnerName := name
	if strings.HasPrefix(name, "sync#") {
		runnerName = "sync"
	}
	runner := d.opts.ServiceRunners[runnerName]
	if d.opts.Frozen != nil && d.opts.Frozen(s) {
		return "", &skipError{"service frozen"}
	}
	if runnerName == "sync" && s.FlexPrimary() != "" && s.FlexPrimary() != s.Node() {
		return "", &skipError{"sync nodes runs on the flex primary " + s.FlexPrimary()}
	}
	// sync nodes changes the other nodes' configs, not this node's
	// resources: it does not hold the service's lock.
	if runnerName != "sync" {
		unlock, err := s.Lock(ctx, "daemon "+name, d.opts.LockWait)
		if err != nil {
			return "", &skipError{err.Error()}
		}
		defer unlock()
	}
	msg, err := runner(ctx, s)
	d.Emit(EventAction, e.name, "", fmt.Sprintf("%s done: %s", name, resultText(msg, err)))
	return msg, err
}

func resultText(msg string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return msg
}

// refreshStatus reads the status of every resource, keeps it for the API
// and the metrics, and publishes the resources that went down or up.
func (d *Daemon) refreshStatus(ctx context.Context, e *serviceEntry, s *svc.Service, rep *svc.StatusReport, passTook time.Duration) {
	if rep == nil {
		rep = s.Status(ctx)
	}
	now := d.opts.Now()
	d.mu.Lock()
	prev := e.status
	if e.svc == s {
		e.status, e.updated, e.passTook = rep, now, passTook
	}
	d.mu.Unlock()
	d.metrics.observeStatus(rep)
	if prev == nil {
		return
	}
	before := map[string]resource.Status{}
	for _, rs := range prev.Resources {
		before[rs.RID] = rs.Status
	}
	for _, rs := range rep.Resources {
		if rs.Disabled {
			continue
		}
		old, ok := before[rs.RID]
		switch {
		case !ok || old == rs.Status:
		case isUp(old) && !isUp(rs.Status):
			d.Emit(EventResourceDown, e.name, rs.RID, fmt.Sprintf("%s -> %s", old, rs.Status))
		case !isUp(old) && isUp(rs.Status):
			d.Emit(EventResourceUp, e.name, rs.RID, fmt.Sprintf("%s -> %s", old, rs.Status))
		}
	}
}

func isUp(st resource.Status) bool { return st == resource.Up || st == resource.StandbyUp }

// reload reads node.conf and the service configurations again, keeping
// what did not change. A configuration that does not load keeps the
// service running on its previous one (the error is in the API and the
// event stream).
func (d *Daemon) reload(ctx context.Context, now time.Time) {
	d.reloadNode(ctx, now)
	dir := filepath.Join(d.opts.Root, "etc")
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.opts.Logger.Error("reading the service configurations", "error", err)
		return
	}
	seen := map[string]bool{}
	for _, ent := range ents {
		name, ok := strings.CutSuffix(ent.Name(), ".conf")
		if !ok || ent.IsDir() || slices.Contains(notServices, name) || store.ValidServiceName(name) != nil {
			continue
		}
		if !ent.Type().IsRegular() {
			// A symbolic link could make the daemon parse, and show in
			// its load errors, a file from anywhere.
			if !d.warned(name) {
				d.Emit(EventConfig, name, "", fmt.Sprintf("%s: not a regular file, ignored", filepath.Join(dir, ent.Name())))
			}
			continue
		}
		seen[name] = true
		d.reloadService(ctx, now, name, filepath.Join(dir, ent.Name()))
	}
	d.mu.Lock()
	var gone []string
	for name := range d.services {
		if !seen[name] {
			gone = append(gone, name)
			delete(d.services, name)
		}
	}
	d.mu.Unlock()
	for _, name := range gone {
		d.metrics.forget(name)
		d.Emit(EventConfig, name, "", "configuration removed: service no longer handled")
	}
}

func (d *Daemon) reloadNode(ctx context.Context, now time.Time) {
	conf, err := ReadNodeConf(d.opts.Root)
	var defs map[string]string
	if err == nil {
		defs, err = nodeTaskDefs(d.opts.Root, conf)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.nodeErr != err.Error() {
			d.nodeErr = err.Error()
			d.Emit(EventConfig, "", "", "node.conf refused, keeping the previous node tasks: "+err.Error())
		}
		return
	}
	d.nodeErr = ""
	if d.node != nil && maps.Equal(conf, d.nodeConf) {
		return
	}
	d.nodeConf = conf
	for _, t := range NodeTasks {
		if d.opts.NodeRunners[t.Name] == nil || (t.Collector && !conf.HasCollector()) {
			delete(defs, t.Name)
		}
	}
	d.node = d.taskSet(ctx, now, "node", filepath.Join(d.opts.Root, "var", "node", "scheduler"), defs, d.node)
}

// taskSet builds the tasks of defs, keeping the entries whose definition
// did not change (their last runs, their last results).
func (d *Daemon) taskSet(ctx context.Context, now time.Time, scope, storeDir string, defs map[string]string, old *taskSet) *taskSet {
	set := &taskSet{scope: scope, tasks: map[string]*taskEntry{}}
	st := schedule.NewStore(storeDir)
	// Made now rather than at the first save: the service's var
	// directory then changes only when an action runs (CachedStatus).
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		d.opts.Logger.Error("task store", "scope", scope, "error", err)
	}
	for name, def := range defs {
		if old != nil {
			if te, ok := old.tasks[name]; ok && te.def == def {
				set.tasks[name] = te
				continue
			}
		}
		t, err := schedule.NewTask(name, def, schedule.TaskOptions{Node: d.opts.Node, Store: st})
		if err != nil {
			d.opts.Logger.Error("task refused", "scope", scope, "error", err)
			continue
		}
		if err := t.Restore(ctx, now); err != nil {
			// A damaged last-run file: the task runs as never run, and
			// its next run rewrites the file.
			d.opts.Logger.Warn("task: last run unreadable", "scope", scope, "error", err)
		}
		set.tasks[name] = &taskEntry{task: t, def: def}
	}
	return set
}

func (d *Daemon) reloadService(ctx context.Context, now time.Time, name, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	d.mu.Lock()
	e := d.services[name]
	d.mu.Unlock()
	if e != nil && e.modTime.Equal(fi.ModTime()) && e.size == fi.Size() {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	sum := store.Checksum(data)
	if e != nil && e.checksum == sum {
		d.mu.Lock()
		e.modTime, e.size = fi.ModTime(), fi.Size()
		d.mu.Unlock()
		return
	}
	s, err := svc.Load(ctx, path, svc.Options{Node: d.opts.Node, Svcname: name, Registry: d.opts.Registry, Root: d.opts.Root, NoTriggers: d.opts.NoTriggers})
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if e == nil {
			e = &serviceEntry{name: name, file: path}
			d.services[name] = e
		}
		e.modTime, e.size, e.checksum = fi.ModTime(), fi.Size(), sum
		e.loadErr = err.Error()
		d.Emit(EventConfig, name, "", "configuration refused, keeping the previous one: "+err.Error())
		return
	}
	var old *taskSet
	if e != nil {
		old = e.tasks
	} else {
		e = &serviceEntry{name: name, file: path}
		d.services[name] = e
	}
	e.modTime, e.size, e.checksum, e.loadErr, e.svc = fi.ModTime(), fi.Size(), sum, "", s
	defs := serviceTaskDefs(s, d.interval)
	for tn := range defs {
		runner := tn
		if strings.HasPrefix(tn, "sync#") {
			runner = "sync"
		}
		if tn != TaskStatus && tn != TaskMonitor && d.opts.ServiceRunners[runner] == nil {
			delete(defs, tn)
		}
	}
	e.tasks = d.taskSet(ctx, now, name, filepath.Join(s.VarDir(), "scheduler"), defs, old)
	d.Emit(EventConfig, name, "", "configuration loaded, sha256 "+store.Short(sum))
}
