// Package monitor restarts what fails: a Monitor pass checks the status of
// every resource of a service, restarts the resources that should be up
// and are down (in dependency order, up to their restart keyword,
// restart_delay apart) and, when a monitored resource stays down, runs
// the service's monitor_action. The node daemon (nodemgr daemon run)
// calls Pass on every service at its monitor interval.
//
// The rules are the reference's daemon's (OpenSVC, daemon/monitor.py
// resources_orchestrator):
//
//   - A resource is restarted when it is down, stdby down or warn, not
//     disabled, not encapsulated, not a sync or a task, the service is not
//     frozen, and its intent on this node is up (the last operator action
//     on it was a start: svc.Service.Intent). A service whose actions never
//     recorded an intent counts as wanted up while its avail status is up,
//     as the reference adopts a running instance.
//   - A standby resource is restarted even when the service is stopped
//     (a stop leaves it up), unless a forced stop or an unprovision
//     recorded it down, at least 2 times.
//   - Retries count the restarts tried since the resource was last seen up:
//     a restart that brings it up, or a pass that sees it up, resets them.
//     They persist in the service's var directory (svc.Service.Restarts),
//     so that a restarted daemon goes on counting and print status shows
//     the restarts left.
//   - Once a resource's restarts are spent, a monitored one (monitor =
//     true) triggers the service's monitor_action, once per down episode;
//     another one is reported (event "restart_exhausted") and left down.
//
// svckit tries a resource's restarts within one pass, restart_delay apart
// (the reference spaces them by its monitor loop and the delay), so that
// "restart = 3" means three tries before the monitor_action, whatever the
// pass interval. The service lock is held only during each start, never
// while waiting.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// Event kinds passed to Options.Emit.
const (
	EventDown                = "down"                  // a resource wanted up was seen down
	EventRestart             = "restart"               // a restart is tried
	EventRestarted           = "restarted"             // a restart brought the resource up
	EventRestartFailed       = "restart_failed"        // a restart failed (the error in message)
	EventRestartExhausted    = "restart_exhausted"     // no restart left for a resource that is not monitored
	EventMonitorAction       = "monitor_action"        // the monitor_action ran
	EventMonitorActionFailed = "monitor_action_failed" // the monitor_action failed or was refused
	EventFrozen              = "frozen"                // a resource is down but the service is frozen
	EventUp                  = "up"                    // a resource seen down is up again (not by a restart)
)

// Options configure a Monitor.
type Options struct {
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Sleep waits for d or the end of ctx (a timer by default). It must
	// move Now by d: a pass waits a bounded number of times, and a
	// sleep that does not let the delay pass leaves the tries to the
	// next pass.
	Sleep func(ctx context.Context, d time.Duration) error
	// Action runs one word of monitor_action ("freezestop", "switch",
	// "reboot", "crash") for s; reason says which resource failed. Default:
	// Monitor.DefaultAction.
	Action func(ctx context.Context, s *svc.Service, action, reason string) error
	// Emit reports what happened (kind: one of the Event constants; rid
	// empty for the service). Default: nothing.
	Emit func(kind, svcname, rid, message string)
	// Logger logs the monitor's decisions. Default: slog.Default().
	Logger *slog.Logger
	// AllowHostActions lets the default Action reboot or crash the host
	// (the node setting the daemon reads from node.conf); otherwise these
	// are logged and refused.
	AllowHostActions bool
	// Switch hands the service to another node (the HA layer); without it
	// the default Action refuses switch.
	Switch func(ctx context.Context, s *svc.Service, reason string) error
	// MaxWait bounds the time one pass spends waiting for restart
	// delays: a restart due later is left to a later pass (the tries
	// and their times persist). 0: no bound, a pass tries every restart
	// of a resource before it returns.
	MaxWait time.Duration
	// LockTimeout is how long a restart waits for the service lock (an
	// operator's action). Default 0: it does not wait, and the pass tries
	// again later.
	LockTimeout time.Duration
}

// Monitor runs monitor passes. It is safe for concurrent use; passes of
// one service are serialized.
type Monitor struct {
	opts Options

	mu       sync.Mutex
	services map[string]*serviceState
}

// serviceState is what the monitor keeps of one service between passes.
type serviceState struct {
	mu       sync.Mutex
	loaded   bool
	restarts map[string]svc.RestartState
	// seen holds the rids reported down in this episode, so that "down"
	// and "frozen" are emitted once per episode, not at every pass.
	seen   map[string]bool
	frozen map[string]bool
	// adopted: no action recorded an intent, and a pass saw the service
	// up.
	adopted bool
}

// New returns a Monitor.
func New(opts Options) *Monitor {
	m := &Monitor{opts: opts, services: map[string]*serviceState{}}
	if m.opts.Now == nil {
		m.opts.Now = time.Now
	}
	if m.opts.Sleep == nil {
		m.opts.Sleep = sleep
	}
	if m.opts.Action == nil {
		m.opts.Action = m.DefaultAction
	}
	if m.opts.Emit == nil {
		m.opts.Emit = func(string, string, string, string) {}
	}
	if m.opts.Logger == nil {
		m.opts.Logger = slog.Default()
	}
	return m
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Report is what one pass saw and did.
type Report struct {
	Service string `json:"service"`
	Node    string `json:"node"`
	// Frozen: the pass acted on nothing.
	Frozen bool `json:"frozen,omitempty"`
	// Down lists the resources seen down that should be up, before any
	// restart.
	Down []string `json:"down,omitempty"`
	// Restarted lists the resources a restart brought up.
	Restarted []string `json:"restarted,omitempty"`
	// Tries counts the restarts tried in this pass, by rid.
	Tries map[string]int `json:"tries,omitempty"`
	// Failed holds the last restart error of the resources still down.
	Failed map[string]string `json:"failed,omitempty"`
	// Exhausted lists the resources with no restart left, still down.
	Exhausted []string `json:"exhausted,omitempty"`
	// MonitorAction is the monitor_action word that ran (or was tried
	// last), Reason why, ActionError its failure or refusal.
	MonitorAction string `json:"monitor_action,omitempty"`
	Reason        string `json:"reason,omitempty"`
	ActionError   string `json:"action_error,omitempty"`
	// Status is the service's status at the end of the pass.
	Status *svc.StatusReport `json:"status"`
	// Duration is the time the pass took (by Options.Now).
	Duration time.Duration `json:"duration_ns"`
}

// candidate is a resource the pass may restart.
type candidate struct {
	rid     string
	limit   int
	delay   time.Duration
	monitor bool
	standby bool
}

// Pass runs one monitor pass over s: status of every resource, restarts
// of what should be up and is down (ordered by the dependency graph),
// monitor_action after the restarts are exhausted. It returns an error
// only when it could not do its work (run state unreadable, context
// ended); restart failures are in the report.
func (m *Monitor) Pass(ctx context.Context, s *svc.Service) (rep Report, err error) {
	began := m.opts.Now()
	rep = Report{Service: s.Name(), Node: s.Node()}
	st := m.state(s)
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.loaded {
		r, err := s.Restarts()
		if err != nil {
			return rep, err
		}
		st.restarts, st.loaded = r, true
	}
	saved := maps.Clone(st.restarts)
	defer func() {
		rep.Duration = m.opts.Now().Sub(began)
	}()

	status := s.Status(ctx)
	rep.Status = status
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	intent, err := s.Intent()
	if err != nil {
		return rep, err
	}
	var frozen bool
	frozen, err = s.Frozen()
	if err != nil {
		return rep, err
	}
	rep.Frozen = frozen
	if !intent.Recorded && status.Avail == resource.Up {
		// Started before intents were recorded: adopted as wanted up
		// from now on, as the reference sets the local expect of an
		// instance it finds up.
		st.adopted = true
	}

	var cands []candidate
	keep := map[string]bool{} // the rids whose restart state still matters
	for _, rs := range status.Resources {
		if rs.Disabled || rs.Encap || isAccessory(rs.RID) {
			continue
		}
		if !needsRestart(rs.Status) {
			if _, ok := st.restarts[rs.RID]; ok || st.seen[rs.RID] {
				m.emit(EventUp, s, rs.RID, "up again")
				delete(st.restarts, rs.RID)
				delete(st.seen, rs.RID)
				delete(st.frozen, rs.RID)
			}
			continue
		}
		wanted := intent.Of(rs.RID) == svc.IntentUp ||
			rs.Standby && intent.Of(rs.RID) != svc.IntentDown ||
			!intent.Recorded && st.adopted
		if !wanted {
			continue
		}
		keep[rs.RID] = true
		if frozen {
			if !st.frozen[rs.RID] {
				st.frozen[rs.RID] = true
				m.emit(EventFrozen, s, rs.RID, fmt.Sprintf("%s but the service is frozen: left alone", rs.Status))
			}
			continue
		}
		delete(st.frozen, rs.RID)
		rep.Down = append(rep.Down, rs.RID)
		if !st.seen[rs.RID] {
			st.seen[rs.RID] = true
			m.emit(EventDown, s, rs.RID, rs.Status.String())
		}
		cands = append(cands, candidate{rid: rs.RID, limit: s.RestartLimit(rs.RID), delay: s.RestartDelay(rs.RID), monitor: rs.Monitor, standby: rs.Standby})
	}
	// An operator stopped it, the config dropped or disabled it: its
	// count starts over when it is wanted again.
	for rid := range st.restarts {
		if !keep[rid] {
			delete(st.restarts, rid)
			delete(st.seen, rid)
		}
	}
	if len(cands) > 0 {
		var refused bool
		refused, err = m.restart(ctx, s, st, cands, &rep)
		if err == nil && !refused {
			err = m.exhausted(ctx, s, st, cands, &rep)
		}
		if refused {
			// Frozen or stopped meanwhile: nothing more this pass.
			rep.Frozen, _ = s.Frozen()
		}
		if rep.Tries != nil || rep.MonitorAction != "" {
			rep.Status = s.Status(ctx)
		}
	}
	if !maps.EqualFunc(saved, st.restarts, func(a, b svc.RestartState) bool { return a == b }) {
		if serr := s.SaveRestarts(st.restarts); serr != nil && err == nil {
			err = serr
		}
	}
	return rep, err
}

// PassStatus runs Pass and returns the status at its end: the shape of
// the node daemon's pass hook (DaemonOptions.Pass).
func (m *Monitor) PassStatus(ctx context.Context, s *svc.Service) (*svc.StatusReport, error) {
	rep, err := m.Pass(ctx, s)
	return rep.Status, err
}

// restart tries the restarts of cands, in rounds: each round starts the
// candidates whose delay since their last try has passed, then the pass
// waits for the next candidate's delay. A due candidate brings back with
// it the candidates that depend on it (one start action, so the
// dependency graph orders them); independent ones start in separate
// actions, so that one failing does not hold back the others. Every
// round tries at least one restart and every wait precedes a round, so
// the loop is bounded by twice the sum of the limits.
func (m *Monitor) restart(ctx context.Context, s *svc.Service, st *serviceState, cands []candidate, rep *Report) (refused bool, err error) {
	down := map[string]candidate{}
	for _, c := range cands {
		down[c.rid] = c
	}
	var waited time.Duration
	rounds := 2
	for _, c := range cands {
		rounds += 2 * c.limit
	}
	for range rounds {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		now := m.opts.Now()
		var due []string
		var wait time.Duration = -1
		for rid, c := range down {
			r := st.restarts[rid]
			if r.Retries >= c.limit {
				continue
			}
			next := r.Last.Add(c.delay)
			if r.Last.IsZero() || !now.Before(next) {
				due = append(due, rid)
			} else if d := next.Sub(now); wait < 0 || d < wait {
				wait = d
			}
		}
		if len(due) == 0 {
			if wait < 0 {
				return false, nil
			}
			if m.opts.MaxWait > 0 && waited+wait > m.opts.MaxWait {
				return false, nil
			}
			if err := m.opts.Sleep(ctx, wait); err != nil {
				return false, err
			}
			waited += wait
			continue
		}
		for _, group := range m.groups(s, due, down) {
			refused, err := m.startRound(ctx, s, st, group, down, rep)
			if err != nil || refused {
				return refused, err
			}
		}
	}
	return false, nil
}

// groups splits due into start actions: each due resource that depends
// on no other due one, with the down resources that depend on it (what
// went down with it and waits for it: the containers on an fs, the
// address in a container), whatever their own restarts.
func (m *Monitor) groups(s *svc.Service, due []string, down map[string]candidate) [][]string {
	sort.Strings(due)
	dependents := map[string][]string{}
	dependent := map[string]bool{}
	for _, rid := range due {
		dependents[rid] = s.StartDependents([]string{rid})
		for _, d := range dependents[rid] {
			dependent[d] = true
		}
	}
	assigned := map[string]bool{}
	var out [][]string
	for _, root := range due {
		if dependent[root] {
			continue
		}
		group := []string{root}
		assigned[root] = true
		for _, rid := range dependents[root] {
			if _, isDown := down[rid]; isDown && !assigned[rid] {
				group = append(group, rid)
				assigned[rid] = true
			}
		}
		sort.Strings(group[1:]) // the root first
		out = append(out, group)
	}
	return out
}

// startRound starts due (a group: its root first). refused tells the
// pass to stop: the service no longer wants the monitor to act (frozen,
// stopped), or its lock is held by an operator's action.
func (m *Monitor) startRound(ctx context.Context, s *svc.Service, st *serviceState, due []string, down map[string]candidate, rep *Report) (refused bool, err error) {
	for _, rid := range due {
		r, limit := st.restarts[rid], down[rid].limit
		if r.Retries >= limit {
			m.emit(EventRestart, s, rid, "with "+due[0]+", which it depends on")
			continue
		}
		m.emit(EventRestart, s, rid, fmt.Sprintf("try %d of %d", r.Retries+1, limit))
	}
	noRollback := false
	res, aerr := s.Start(ctx, svc.ActionOptions{
		Selection:   svc.Selection{RIDs: due},
		Monitor:     true,
		Rollback:    &noRollback,
		LockTimeout: m.opts.LockTimeout,
		NoLockWait:  m.opts.LockTimeout == 0,
	})
	tried := map[string]string{}
	if res != nil {
		for _, step := range res.Steps {
			if step.Action == string(svc.Start) {
				tried[step.RID] = step.Error
			}
		}
	}
	if len(tried) == 0 && aerr != nil {
		// Nothing ran: the lock is held, or the service said no.
		if errors.Is(aerr, svc.ErrFrozen) || errors.Is(aerr, svc.ErrNotWanted) {
			m.opts.Logger.Info("monitor: restart refused", "service", s.Name(), "error", aerr)
			return true, nil
		}
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		m.opts.Logger.Warn("monitor: restart not run", "service", s.Name(), "rids", due, "error", aerr)
		if rep.Failed == nil {
			rep.Failed = map[string]string{}
		}
		for _, rid := range due {
			rep.Failed[rid] = aerr.Error()
		}
		return true, nil
	}
	now := m.opts.Now()
	if res != nil {
		// Not launched (what they use failed to start): they wait the
		// same delay, without a try counted.
		for _, rid := range res.NotRun {
			if r, ok := st.restarts[rid]; ok || down[rid].rid != "" {
				r.Last = now
				st.restarts[rid] = r
			}
		}
	}
	rids := slices.Sorted(maps.Keys(tried))
	for _, rid := range rids {
		msg := tried[rid]
		c, ok := down[rid]
		if !ok {
			continue // an ip of a selected container, not down
		}
		r := st.restarts[rid]
		r.Retries++
		r.Last = now
		st.restarts[rid] = r
		if rep.Tries == nil {
			rep.Tries = map[string]int{}
		}
		rep.Tries[rid]++
		up := msg == "" && m.isUp(ctx, s, rid)
		if up {
			m.emit(EventRestarted, s, rid, fmt.Sprintf("up after %d tries", r.Retries))
			rep.Restarted = append(rep.Restarted, rid)
			delete(st.restarts, rid)
			delete(st.seen, rid)
			delete(down, rid)
			delete(rep.Failed, rid)
			continue
		}
		if msg == "" {
			msg = "started but still not up"
		}
		if rep.Failed == nil {
			rep.Failed = map[string]string{}
		}
		rep.Failed[rid] = msg
		m.emit(EventRestartFailed, s, rid, fmt.Sprintf("try %d of %d: %s", r.Retries, c.limit, msg))
	}
	return false, nil
}

func (m *Monitor) isUp(ctx context.Context, s *svc.Service, rid string) bool {
	r, ok := s.Resource(rid)
	if !ok {
		return false
	}
	st, err := r.Status(ctx)
	return err == nil && st.IsUp()
}

// exhausted handles the candidates still down with no restart left: the
// monitor_action for monitored ones (once per down episode), an event for
// the others.
func (m *Monitor) exhausted(ctx context.Context, s *svc.Service, st *serviceState, cands []candidate, rep *Report) error {
	var reasons []string
	for _, c := range cands {
		if slices.Contains(rep.Restarted, c.rid) {
			continue
		}
		r := st.restarts[c.rid]
		if r.Retries < c.limit {
			continue // tries left for a later pass (lock held, refused)
		}
		if m.isUp(ctx, s, c.rid) {
			delete(st.restarts, c.rid)
			continue
		}
		rep.Exhausted = append(rep.Exhausted, c.rid)
		if r.Acted {
			continue
		}
		r.Acted = true
		st.restarts[c.rid] = r
		why := fmt.Sprintf("%s down after %d restarts", c.rid, r.Retries)
		if !c.monitor {
			m.emit(EventRestartExhausted, s, c.rid, why+": not monitored, left down")
			continue
		}
		reasons = append(reasons, why)
	}
	if len(reasons) == 0 {
		return nil
	}
	reason := strings.Join(reasons, "; ")
	rep.Reason = reason
	words := s.MonitorAction()
	if len(words) == 0 {
		m.opts.Logger.Warn("monitor: monitored resource down, monitor_action none", "service", s.Name(), "reason", reason)
		m.emit(EventMonitorActionFailed, s, "", "monitor_action none: "+reason)
		return nil
	}
	var errs []error
	for _, w := range words {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.MonitorAction = w
		m.opts.Logger.Warn("monitor: monitor_action", "service", s.Name(), "action", w, "reason", reason)
		err := m.opts.Action(ctx, s, w, reason)
		if err == nil {
			m.emit(EventMonitorAction, s, "", w+": "+reason)
			rep.ActionError = ""
			return nil
		}
		m.opts.Logger.Error("monitor: monitor_action failed or refused", "service", s.Name(), "action", w, "reason", reason, "error", s.Redact(err.Error()))
		errs = append(errs, fmt.Errorf("%s: %w", w, err))
		rep.ActionError = errors.Join(errs...).Error()
		m.emit(EventMonitorActionFailed, s, "", fmt.Sprintf("%s: %v (%s)", w, err, reason))
	}
	return nil
}

// ErrRefused is wrapped by the default Action's refusals: a host action
// the node does not allow, a switch without an HA layer.
var ErrRefused = errors.New("monitor action refused")

// DefaultAction runs one monitor_action word: freezestop freezes then
// stops the service; switch calls Options.Switch (refused without it);
// reboot and crash act on the host through the kernel's sysrq trigger
// when Options.AllowHostActions, else they are refused. A frozen service
// is refused everything, as the reference's toc.
func (m *Monitor) DefaultAction(ctx context.Context, s *svc.Service, action, reason string) error {
	frozen, err := s.Frozen()
	if err != nil {
		return err
	}
	if frozen {
		return fmt.Errorf("service %s is frozen: %w", s.Name(), ErrRefused)
	}
	switch action {
	case "none":
		return nil
	case "freezestop":
		opts := svc.ActionOptions{LockTimeout: m.opts.LockTimeout, NoLockWait: m.opts.LockTimeout == 0}
		if err := s.Freeze(ctx, opts); err != nil {
			return err
		}
		_, err := s.Stop(ctx, opts)
		return err
	case "switch":
		if m.opts.Switch == nil {
			return fmt.Errorf("switch of %s: no HA layer on this node to hand the service to another node (monitor.Options.Switch): %w", s.Name(), ErrRefused)
		}
		return m.opts.Switch(ctx, s, reason)
	case "reboot", "crash":
		if !m.opts.AllowHostActions {
			return fmt.Errorf("%s of the host for %s: not allowed on this node (monitor.Options.AllowHostActions, set from node.conf): %w", action, s.Name(), ErrRefused)
		}
		return hostAction(action)
	}
	return fmt.Errorf("unknown monitor_action %q: expected one of %s", action, strings.Join(svc.MonitorActions, ", "))
}

// hostAction reboots or crashes the host at once through sysrq, as the
// reference does: no clean stop, so that the host stops writing to
// shared disks before another node takes them.
func hostAction(action string) error {
	key := "b"
	if action == "crash" {
		key = "c"
	}
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/kernel/sysrq", []byte("1"), 0); err != nil {
		return fmt.Errorf("%s: enable sysrq: %w", action, err)
	}
	if err := os.WriteFile("/proc/sysrq-trigger", []byte(key), 0); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}

func (m *Monitor) emit(kind string, s *svc.Service, rid, msg string) {
	m.opts.Emit(kind, s.Name(), rid, s.Redact(msg))
}

func (m *Monitor) state(s *svc.Service) *serviceState {
	key := s.VarDir()
	if key == "" {
		key = "name:" + s.Name()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.services[key]
	if !ok {
		st = &serviceState{restarts: map[string]svc.RestartState{}, seen: map[string]bool{}, frozen: map[string]bool{}}
		m.services[key] = st
	}
	return st
}

// needsRestart: the statuses the reference restarts.
func needsRestart(st resource.Status) bool {
	switch st.Final() {
	case resource.Down, resource.StandbyDown, resource.Warn:
		return true
	}
	return false
}

// isAccessory: syncs and tasks are not restarted (the reference's
// restart keyword applies to startable sections only).
func isAccessory(rid string) bool {
	return slices.Contains([]string{"sync", "task"}, resource.Group(rid))
}
