package schedule

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

var (
	// ErrRunning is returned by Claim when a run of the task is in progress.
	ErrRunning = errors.New("a run is in progress")
	// ErrNotDue is returned by ClaimDue when the schedule does not allow a
	// run now.
	ErrNotDue = errors.New("not due")
)

// TaskOptions tune NewTask.
type TaskOptions struct {
	// Node is the node's name; with the task's name it seeds the "~"
	// spread (see Seed), so that nodes spread out.
	Node string
	// Store, if set, keeps the last runs across restarts: Restore reads
	// them, Release writes them.
	Store *Store
}

// Task is a named schedule, its last runs, and whether a run is in
// progress. Its methods are safe for concurrent use, and a task never runs
// twice at once: a run is claimed (ClaimDue, Claim) and released.
type Task struct {
	name  string
	sched *Schedule
	store *Store

	saveMu      sync.Mutex // orders the store's writes
	mu          sync.Mutex
	last        time.Time
	lastSuccess time.Time
	running     bool
}

// NewTask parses definition for the task name (a name CheckTaskName
// accepts). It does no I/O: call Restore to read the last runs back.
func NewTask(name, definition string, opts TaskOptions) (*Task, error) {
	if err := CheckTaskName(name); err != nil {
		return nil, err
	}
	s, err := Parse(definition, Options{Seed: Seed(opts.Node, name)})
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", name, err)
	}
	return &Task{name: name, sched: s, store: opts.Store}, nil
}

// Name is the task's name.
func (t *Task) Name() string { return t.name }

// Schedule is the task's parsed definition.
func (t *Task) Schedule() *Schedule { return t.sched }

// Restore reads the last runs from the store (nothing without one). A last
// run after now (the clock went back, or a record written by another clock)
// is taken as a run at now, so that the task waits one interval, not until
// that future time.
func (t *Task) Restore(ctx context.Context, now time.Time) error {
	if t.store == nil {
		return nil
	}
	r, err := t.store.Load(ctx, t.name)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last, t.lastSuccess = r.LastRun, r.LastSuccess
	if t.last.After(now) {
		t.last = now
	}
	if t.lastSuccess.After(now) {
		t.lastSuccess = now
	}
	return nil
}

// LastRun is when the last run started (zero if none), whatever its
// result, as the reference counts intervals from the start of a run.
func (t *Task) LastRun() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// LastSuccess is when the last successful run started.
func (t *Task) LastSuccess() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastSuccess
}

// Running reports whether a run is claimed and not yet released.
func (t *Task) Running() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running
}

// Due reports whether the schedule allows a run at now and none is in
// progress.
func (t *Task) Due(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.running && t.sched.Due(now, t.last)
}

// Next is the first instant at or after now at which the schedule allows a
// run, given the last run; false if it never will (see Schedule.Next).
func (t *Task) Next(now time.Time) (time.Time, bool) {
	t.mu.Lock()
	last := t.last
	t.mu.Unlock()
	return t.sched.Next(now, last)
}

// ClaimDue claims a run at now if the schedule allows one (ErrNotDue
// otherwise) and none is in progress (ErrRunning otherwise), in one step,
// so that two callers racing on a due task get one run between them.
func (t *Task) ClaimDue(now time.Time) (*Run, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running {
		return nil, fmt.Errorf("task %s: %w", t.name, ErrRunning)
	}
	if !t.sched.Due(now, t.last) {
		return nil, fmt.Errorf("task %s at %s: %w", t.name, now.Format(time.RFC3339), ErrNotDue)
	}
	t.running = true
	return &Run{task: t, start: now}, nil
}

// Claim claims a run at now whatever the schedule says (an operator's
// manual run), unless one is in progress (ErrRunning).
func (t *Task) Claim(now time.Time) (*Run, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running {
		return nil, fmt.Errorf("task %s: %w", t.name, ErrRunning)
	}
	t.running = true
	return &Run{task: t, start: now}, nil
}

// Run is a claimed run of a task; Release ends it.
type Run struct {
	task     *Task
	start    time.Time
	released bool // guarded by task.mu
}

// Start is the instant the run was claimed at.
func (r *Run) Start() time.Time { return r.start }

// Release ends the run: the last run becomes its start (and the last
// success too when runErr is nil), the task can be claimed again, and the
// store, if any, records it. The in-memory state is updated even when the
// store fails, whose error is returned. Releasing twice is an error.
func (r *Run) Release(ctx context.Context, runErr error) error {
	t := r.task
	t.mu.Lock()
	if r.released {
		t.mu.Unlock()
		return fmt.Errorf("task %s: run of %s already released", t.name, r.start.Format(time.RFC3339))
	}
	r.released = true
	t.running = false
	t.last = r.start
	if runErr == nil {
		t.lastSuccess = r.start
	}
	t.mu.Unlock()
	if t.store == nil {
		return nil
	}
	// Saved outside t.mu, so that a slow disk never blocks Due or Next;
	// saveMu orders the writes and each writes the state current when it
	// runs, so the file never ends older than memory.
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	t.mu.Lock()
	rec := Record{Task: t.name, LastRun: t.last, LastSuccess: t.lastSuccess}
	t.mu.Unlock()
	return t.store.Save(ctx, rec)
}
