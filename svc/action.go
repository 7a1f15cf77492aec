package svc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/svckit/svckit/resource"
)

// Action names a service action.
type Action string

const (
	Start          Action = "start"
	Stop           Action = "stop"
	Provision      Action = "provision"
	Unprovision    Action = "unprovision"
	StartContainer Action = "startcontainer"
	StopContainer  Action = "stopcontainer"
)

// Actions lists the actions Do accepts.
var Actions = []Action{Start, Stop, Provision, Unprovision, StartContainer, StopContainer}

// ActionOptions say how an action runs.
type ActionOptions struct {
	Selection
	// DryRun computes and returns the plan, and changes nothing: no driver
	// action and no trigger runs; a dry-run unprovision asks the resources
	// that can tell what they would delete or keep (Result.PlanDetails),
	// which only reads. A context marked by resource.WithDryRun means the
	// same: there is one dry run, whichever way it is asked for (compliance
	// reads both the same way).
	DryRun bool
	// LockTimeout is how long to wait for another action of the same
	// service to finish. Default 30s; negative is an error.
	LockTimeout time.Duration
	// NoLockWait fails at once when another action holds the lock
	// (svcmgr --waitlock 0), whatever LockTimeout says.
	NoLockWait bool
	// Scheduler overrides the service's scheduler keyword ("graph" or
	// "groups").
	Scheduler string
	// MaxParallel overrides the service's max_parallel keyword (0: keep).
	MaxParallel int
	// Force also stops standby (always_on) resources, and makes unprovision
	// delete what the service did not create (a backing file or a disk that
	// existed before provision): resource.WithForce.
	Force bool
	// Rollback overrides the service's rollback keyword when set.
	Rollback *bool
	// Monitor marks an action of the resource monitor (the daemon), not
	// of an operator: under the lock it is refused with ErrFrozen on a
	// frozen service, and with ErrNotWanted when a selected resource
	// (standby ones aside) is no longer wanted up (an operator stopped it
	// since the monitor looked). An operator may act on a frozen service,
	// as in the reference.
	Monitor bool
}

// Step is what happened to one resource in an action.
type Step struct {
	RID      string        `json:"rid"`
	Action   string        `json:"action"`
	Result   string        `json:"result"` // done, failed, skipped, rolled back
	Reason   string        `json:"reason,omitempty"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// Result reports an action.
type Result struct {
	Service   string     `json:"service"`
	Node      string     `json:"node"`
	Action    Action     `json:"action"`
	DryRun    bool       `json:"dry_run,omitempty"`
	Scheduler string     `json:"scheduler"`
	Plan      [][]string `json:"plan"`
	// PlanDetails says, in the plan of a dry-run unprovision, what each
	// resource would delete or keep (paths, disk names), by rid.
	PlanDetails map[string][]string `json:"plan_details,omitempty"`
	Steps       []Step              `json:"steps"`
	RolledBack  []string            `json:"rolled_back,omitempty"`
	NotRun      []string            `json:"not_run,omitempty"`
	Duration    time.Duration       `json:"duration_ns"`
	Error       string              `json:"error,omitempty"`

	// graph is the dependency graph the action ran (not in JSON).
	graph *graph
}

// CriticalPath returns the longest chain of dependencies of the action's
// graph, each resource weighing weight(rid), with the rids of that chain
// in run order. With weight the time each resource's part takes, it is the
// lower bound of the action's wall time, whatever the concurrency. With
// the groups scheduler, the chain runs through the group barriers. A
// Result that did not come from Do (decoded from JSON) has no graph: 0,
// nil.
func (r *Result) CriticalPath(weight func(rid string) time.Duration) (time.Duration, []string) {
	if r == nil || r.graph == nil {
		return 0, nil
	}
	return r.graph.criticalPath(weight)
}

// ActionError is the failure of an action: what failed and what was
// rolled back.
type ActionError struct {
	Service    string
	Action     Action
	Failed     map[string]error
	RolledBack []string
	Rollback   error
}

func (e *ActionError) Error() string {
	rids := make([]string, 0, len(e.Failed))
	for rid := range e.Failed {
		rids = append(rids, rid)
	}
	sort.Strings(rids)
	var parts []string
	for _, rid := range rids {
		parts = append(parts, e.Failed[rid].Error())
	}
	msg := fmt.Sprintf("%s %s failed: %s", e.Service, e.Action, strings.Join(parts, "; "))
	switch {
	case len(e.RolledBack) > 0:
		msg += fmt.Sprintf("; rolled back: %s", strings.Join(e.RolledBack, " "))
	case e.Action == Start || e.Action == Provision:
		msg += "; nothing rolled back"
	}
	if e.Rollback != nil {
		msg += fmt.Sprintf("; rollback failed: %v", e.Rollback)
	}
	return msg
}

func (e *ActionError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}

func (s *Service) scheduler(opts ActionOptions) string {
	if opts.Scheduler != "" {
		return opts.Scheduler
	}
	if v := s.keywords["scheduler"]; v != "" {
		return v
	}
	return SchedulerGraph
}

// maxParallel is the bound on concurrent resource actions, 0 for none.
// A negative bound is an error rather than "no limit": the user meant a
// limit, and a cloud API or a Docker daemon would not get it.
func (s *Service) maxParallel(opts ActionOptions) (int, error) {
	if opts.MaxParallel < 0 {
		return 0, fmt.Errorf("max parallel %d: expected 0 (the service's max_parallel) or a positive number", opts.MaxParallel)
	}
	if opts.MaxParallel > 0 {
		return opts.MaxParallel, nil
	}
	v := strings.TrimSpace(s.keywords["max_parallel"])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("service %s: max_parallel = %s: expected 0 (no limit) or a positive number", s.name, v)
	}
	return n, nil
}

// Start starts the selected resources in dependency order.
func (s *Service) Start(ctx context.Context, opts ActionOptions) (*Result, error) {
	return s.Do(ctx, Start, opts)
}

// Stop stops the selected resources in reverse dependency order.
func (s *Service) Stop(ctx context.Context, opts ActionOptions) (*Result, error) {
	return s.Do(ctx, Stop, opts)
}

// Provision creates what the selected resources manage, then starts them,
// in start order: a filesystem is made on a disk that is attached.
func (s *Service) Provision(ctx context.Context, opts ActionOptions) (*Result, error) {
	return s.Do(ctx, Provision, opts)
}

// Unprovision stops the selected resources and deletes what they manage.
func (s *Service) Unprovision(ctx context.Context, opts ActionOptions) (*Result, error) {
	return s.Do(ctx, Unprovision, opts)
}

// Do runs action on the selected resources: it plans the graph, takes
// the service lock, runs the plan, and rolls back a failed start (see
// rollback).
func (s *Service) Do(ctx context.Context, action Action, opts ActionOptions) (*Result, error) {
	begin := time.Now()
	ctx = s.redactingContext(ctx)
	opts.DryRun = opts.DryRun || resource.IsDryRun(ctx)
	res := &Result{Service: s.name, Node: s.node, Action: action, DryRun: opts.DryRun, Scheduler: s.scheduler(opts)}
	fail := func(err error) (*Result, error) {
		err = s.redactError(err)
		res.Error = err.Error()
		res.Duration = time.Since(begin)
		return res, err
	}
	g, limit, err := s.plan(action, opts, res)
	if err != nil {
		return fail(err)
	}
	if opts.DryRun {
		if action == Unprovision {
			res.PlanDetails = s.planUnprovision(ctx, res.Plan, opts)
		}
		res.Duration = time.Since(begin)
		return res, nil
	}
	timeout, err := s.lockTimeout(action, opts)
	if err != nil {
		return fail(err)
	}
	unlock, err := s.lock(ctx, string(action), timeout)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	if err := s.beforeAction(action, opts, res); err != nil {
		return fail(err)
	}

	steps := &stepLog{res: res}
	forward := action.forward()
	var changed []resource.Resource // resources this action brought up
	errs, notRun := g.run(ctx, limit, func(ctx context.Context, r resource.Resource) error {
		did, err := s.runOne(ctx, action, r, opts, steps.record)
		if did && forward {
			steps.mu.Lock()
			changed = append(changed, r)
			steps.mu.Unlock()
		}
		return err
	})
	res.NotRun = notRun
	if len(errs) == 0 {
		if err := s.afterAction(action, opts, res); err != nil {
			return fail(err)
		}
		res.Duration = time.Since(begin)
		return res, nil
	}
	for rid, err := range errs {
		errs[rid] = s.redactError(err)
	}
	aerr := &ActionError{Service: s.name, Action: action, Failed: errs}
	rollback := s.Rollback()
	if opts.Rollback != nil {
		rollback = *opts.Rollback
	}
	if forward && rollback && len(changed) > 0 {
		s.rollback(ctx, changed, res.Scheduler, limit, steps, aerr)
		res.RolledBack = aerr.RolledBack
	}
	return fail(aerr)
}

// forward tells whether the action brings resources up (a failure then
// rolls back what it started).
func (a Action) forward() bool { return a == Start || a == Provision || a == StartContainer }

// plan selects the resources of action, builds its graph and fills
// res.Plan; limit is the number of resources run at once.
func (s *Service) plan(action Action, opts ActionOptions, res *Result) (g *graph, limit int, err error) {
	if res.Scheduler != SchedulerGraph && res.Scheduler != SchedulerGroups {
		return nil, 0, fmt.Errorf("scheduler %q: expected graph or groups", res.Scheduler)
	}
	if limit, err = s.maxParallel(opts); err != nil {
		return nil, 0, err
	}
	selected, err := s.Select(opts.Selection)
	if err != nil {
		return nil, 0, err
	}
	switch action {
	case StartContainer, StopContainer:
		selected = s.withContainerIPs(selected)
		if len(selected) == 0 {
			return nil, 0, fmt.Errorf("service %s on %s: %s selects no container", s.name, s.node, opts.Selection)
		}
	case Stop:
		// As in the reference, stopping the service leaves its syncs up:
		// they replicate what the service is, not what it runs. Naming
		// them with --rid, or --force, stops them.
		if len(opts.RIDs) == 0 && !opts.Force {
			selected = withoutAccessories(selected)
			if len(selected) == 0 {
				return nil, 0, fmt.Errorf("service %s on %s: %s selects only syncs, which stop leaves up: name them with --rid or use --force", s.name, s.node, opts.Selection)
			}
		}
	case Start, Provision, Unprovision:
	default:
		return nil, 0, fmt.Errorf("unknown action %q: expected one of %v", action, Actions)
	}
	if action.forward() {
		g = s.startGraph(selected, res.Scheduler)
	} else {
		g = s.stopGraph(selected, res.Scheduler)
	}
	if res.Plan, err = g.waves(); err != nil {
		return nil, 0, err
	}
	res.graph = g
	return g, limit, nil
}

// lockTimeout is how long action waits for the service lock.
func (s *Service) lockTimeout(action Action, opts ActionOptions) (time.Duration, error) {
	switch {
	case opts.NoLockWait:
		return 0, nil
	case opts.LockTimeout < 0:
		return 0, fmt.Errorf("service %s: %s: lock timeout %s: expected a duration of 0 or more", s.name, action, opts.LockTimeout)
	case opts.LockTimeout == 0:
		return 30 * time.Second, nil
	}
	return opts.LockTimeout, nil
}

// stepLog collects the steps of an action from concurrent runs.
type stepLog struct {
	mu  sync.Mutex
	res *Result
}

func (l *stepLog) record(st Step) {
	l.mu.Lock()
	l.res.Steps = append(l.res.Steps, st)
	l.mu.Unlock()
}

// rollback stops, in stop order, the resources a failed start brought
// up, as the reference does unless rollback = false. It runs to the end
// even when ctx is cancelled: a half-started service left up is worse
// than a late return. What it stopped and how it failed go to aerr.
func (s *Service) rollback(ctx context.Context, changed []resource.Resource, scheduler string, limit int, steps *stepLog, aerr *ActionError) {
	rb := s.stopGraph(changed, scheduler)
	rbErrs, _ := rb.run(context.WithoutCancel(ctx), limit, func(ctx context.Context, r resource.Resource) error {
		t0 := time.Now()
		resource.Report(ctx, resource.Event{Node: s.node, RID: r.RID(), Action: "rollback", Phase: resource.Started})
		err := r.Stop(ctx)
		st := Step{RID: r.RID(), Action: "stop", Result: string(resource.RolledBack), Start: t0, Duration: time.Since(t0)}
		ev := resource.Event{Node: s.node, RID: r.RID(), Action: "rollback", Phase: resource.RolledBack, Duration: st.Duration}
		if err != nil {
			st.Result, st.Error = string(resource.Failed), s.Redact(err.Error())
			ev.Phase, ev.Error = resource.Failed, st.Error
		} else {
			steps.mu.Lock()
			aerr.RolledBack = append(aerr.RolledBack, r.RID())
			steps.mu.Unlock()
		}
		resource.Report(ctx, ev)
		steps.record(st)
		return err
	})
	sort.Strings(aerr.RolledBack)
	if len(rbErrs) > 0 {
		aerr.Rollback = s.redactError(errors.Join(mapErrors(rbErrs)...))
	}
}

// redactedError is an error whose text had secrets of the configuration
// in it (a driver quoting a command line): Error gives the text with them
// masked; Unwrap keeps the chain for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError returns err, or err with its secrets masked when its text
// holds any: errors leave the package as safe to print as status.
func (s *Service) redactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := s.Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

func mapErrors(m map[string]error) []error {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]error, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func withoutAccessories(l []resource.Resource) []resource.Resource {
	var out []resource.Resource
	for _, r := range l {
		if !accessoryGroups[resource.Group(r.RID())] {
			out = append(out, r)
		}
	}
	return out
}

// withContainerIPs keeps the containers of sel and adds the ips plumbed
// into them, so that startcontainer leaves the containers reachable.
func (s *Service) withContainerIPs(sel []resource.Resource) []resource.Resource {
	var out []resource.Resource
	picked := map[string]bool{}
	for _, r := range sel {
		if resource.Group(r.RID()) == "container" {
			out = append(out, r)
			picked[r.RID()] = true
		}
	}
	for _, r := range s.resources {
		if c := s.containerRID(r); c != "" && picked[c] && !r.Flags().Disabled {
			out = append(out, r)
		}
	}
	sortResources(out)
	return out
}

// runOne runs one resource's part of action. did tells whether it
// changed the resource (for rollback).
func (s *Service) runOne(ctx context.Context, action Action, r resource.Resource, opts ActionOptions, record func(Step)) (did bool, err error) {
	rid := r.RID()
	t0 := time.Now()
	step := Step{RID: rid, Action: string(action), Start: t0}
	report := func(p resource.Phase, d time.Duration, e error) {
		ev := resource.Event{Node: s.node, RID: rid, Action: string(action), Phase: p, Duration: d}
		if e != nil {
			ev.Error = s.Redact(e.Error())
		}
		resource.Report(ctx, ev)
	}
	finish := func(result, reason string, e error) {
		step.Duration = time.Since(t0)
		step.Result, step.Reason = result, reason
		if e != nil {
			step.Error = s.Redact(e.Error())
		}
		record(step)
	}
	report(resource.Started, 0, nil)
	switch action {
	case Start, StartContainer:
		did, err = s.startOne(ctx, r)
	case Stop, StopContainer:
		did, err = s.stopOne(ctx, r, opts.Force)
	case Provision:
		did, err = s.provisionOne(ctx, r)
	case Unprovision:
		did, err = s.unprovisionOne(ctx, r, opts.Force)
	}
	d := time.Since(t0)
	switch {
	case err != nil && r.Flags().Optional:
		resource.Logger(ctx).Warn("optional resource failed", "rid", rid, "action", action, "error", s.Redact(err.Error()))
		report(resource.Failed, d, err)
		finish(string(resource.Failed), "optional: the action goes on", err)
		return did, nil
	case err != nil:
		report(resource.Failed, d, err)
		finish(string(resource.Failed), "", err)
		return did, err
	case !did:
		report(resource.Skipped, d, nil)
		finish(string(resource.Skipped), "already in the wanted state", nil)
	default:
		report(resource.Done, d, nil)
		finish(string(resource.Done), "", nil)
	}
	return did, nil
}

func (s *Service) startOne(ctx context.Context, r resource.Resource) (bool, error) {
	if st, err := r.Status(ctx); err == nil && st.IsUp() {
		return false, nil
	}
	if err := s.trigger(ctx, r, "pre_start"); err != nil {
		return false, err
	}
	if err := r.Start(ctx); err != nil {
		return false, wrapAction(r, "start", err)
	}
	return true, s.trigger(ctx, r, "post_start")
}

func (s *Service) stopOne(ctx context.Context, r resource.Resource, force bool) (bool, error) {
	if r.Flags().Standby && !force {
		return false, nil
	}

	if st, err := r.Status(ctx); err == nil && (st.Final() == resource.Down || st.Final() == resource.StandbyDown || st == resource.NotApplicable) {
		return false, nil
	}
	if err := s.trigger(ctx, r, "pre_stop"); err != nil {
		return false, err
	}
	if err := r.Stop(ctx); err != nil {
		return false, wrapAction(r, "stop", err)
	}
	return true, s.trigger(ctx, r, "post_stop")
}

func (s *Service) provisionOne(ctx context.Context, r resource.Resource) (bool, error) {
	did := false
	if p, ok := r.(resource.Provisioner); ok {
		need := true
		if c, ok := r.(resource.ProvisionChecker); ok {
			done, err := c.Provisioned(ctx)
			if err != nil {
				return false, wrapAction(r, "provisioned", err)
			}
			need = !done
		}
		if need {
			if err := s.trigger(ctx, r, "pre_provision"); err != nil {
				return false, err
			}
			if err := p.Provision(ctx); err != nil {
				return false, wrapAction(r, "provision", err)
			}
			did = true
		}
	}
	started, err := s.startOne(ctx, r)
	if err != nil {
		return did || started, err
	}
	// post_provision runs once the resource is up (a filesystem mounted),
	// since it typically creates directories inside it.
	if did {
		if err := s.trigger(ctx, r, "post_provision"); err != nil {
			return true, err
		}
	}
	return did || started, nil
}

func (s *Service) unprovisionOne(ctx context.Context, r resource.Resource, force bool) (bool, error) {
	stopped, err := s.stopOne(ctx, r, true)
	if err != nil {
		return stopped, err
	}
	u, ok := r.(resource.Unprovisioner)
	if !ok {
		return stopped, nil
	}
	if err := u.Unprovision(resource.WithForce(ctx, force)); err != nil {
		return stopped, wrapAction(r, "unprovision", err)
	}
	return true, nil
}

func wrapAction(r resource.Resource, action string, err error) error {
	var re *resource.Error
	if errors.As(err, &re) {
		return err
	}
	return &resource.Error{RID: r.RID(), Action: action, Err: err}
}

// TriggerGrace is how long a cancelled trigger's process group has
// between SIGTERM and SIGKILL.
const TriggerGrace = 2 * time.Second

// trigger runs the pre_/post_ command of r named kw through a shell, with
// its output logged (redacted).
func (s *Service) trigger(ctx context.Context, r resource.Resource, kw string) error {
	cmd := strings.TrimSpace(s.configs[r.RID()].Values[kw])
	if cmd == "" {
		return nil
	}
	log := resource.Logger(ctx).With("rid", r.RID(), "trigger", kw)
	if s.noTriggers {
		log.Info("trigger skipped (triggers disabled)", "command", s.Redact(cmd))
		return nil
	}
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = append(c.Environ(), "OPENSVC_SVCNAME="+s.name, "OPENSVC_RID="+r.RID(), "OPENSVC_NODENAME="+s.node)
	// The shell and every child it starts share a process group of
	// their own: cancellation signals the group, not only /bin/sh (a
	// "sleep 12; echo x" would otherwise hold the action 12 s).
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGTERM) }
	c.WaitDelay = TriggerGrace
	out, err := c.CombinedOutput()
	if c.Process != nil {
		// No child outlives the action: what ignored TERM, or was left
		// in the background, is killed with the group.
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			log.Info(s.Redact(line))
		}
	}
	if err != nil {
		return &resource.Error{RID: r.RID(), Action: kw, Err: fmt.Errorf("%s: %w", s.Redact(cmd), err)}
	}
	return nil
}
