package svc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/svckit/svckit/internal/atomicfile"
	"github.com/svckit/svckit/resource"
)

// The run state of a service on a node lives in its var directory, one
// file per writer so that none rewrites another's: intent.json (written
// by actions, under the service lock), frozen (freeze and thaw, under
// the lock), restarts.json (the resource monitor).
const (
	intentFile   = "intent.json"
	frozenFile   = "frozen"
	restartsFile = "restarts.json"
)

// Intent values: what an operator's last action asked of a resource on
// this node.
const (
	IntentUp   = "up"
	IntentDown = "down"
)

// ErrFrozen is wrapped by the refusal of a monitor action (ActionOptions.
// Monitor) on a frozen service.
var ErrFrozen = errors.New("service frozen")

// ErrNotWanted is wrapped by the refusal of a monitor action on a
// resource an operator stopped (its intent is not up).
var ErrNotWanted = errors.New("resource not wanted up")

// Intent is what the actions on this node asked of each resource: start
// and provision record "up" once they succeed, stop and unprovision
// "down" before they run (an operator who stops a resource wants it down
// even when the stop fails); a stop without force leaves the standby
// resources up, and their intent as it was. The resource monitor restarts only what is
// wanted up, so that it never fights an operator.
type Intent struct {
	// Resources maps a rid to IntentUp or IntentDown; a rid no action
	// named is absent.
	Resources map[string]string `json:"resources"`
	Updated   time.Time         `json:"updated"`
	// Recorded is false when no action ever recorded an intent here (a
	// service started before svckit recorded intents, or never started).
	Recorded bool `json:"-"`
}

// Of returns the intent of rid: IntentUp, IntentDown, or "" when no
// action named it.
func (in Intent) Of(rid string) string { return in.Resources[rid] }

// Intent returns what the actions on this node asked of the resources.
func (s *Service) Intent() (Intent, error) {
	var in Intent
	ok, err := s.readRunFile(intentFile, &in)
	if err != nil {
		return Intent{}, err
	}
	in.Recorded = ok
	if in.Resources == nil {
		in.Resources = map[string]string{}
	}
	return in, nil
}

// beforeAction runs under the lock, before the plan runs: it refuses a
// monitor action the service no longer wants, and records the intent of
// a stop.
func (s *Service) beforeAction(action Action, opts ActionOptions, res *Result) error {
	if opts.Monitor {
		frozen, err := s.Frozen()
		if err != nil {
			return err
		}
		if frozen {
			return fmt.Errorf("service %s on %s: %s by the monitor: %w (thaw it to let the monitor act)", s.name, s.node, action, ErrFrozen)
		}
		if action.forward() {
			in, err := s.Intent()
			if err != nil {
				return err
			}
			for _, rid := range planRIDs(res.Plan) {
				if r, ok := s.Resource(rid); ok && r.Flags().Standby && in.Of(rid) != IntentDown {
					continue
				}
				if in.Recorded && in.Of(rid) != IntentUp {
					return fmt.Errorf("service %s on %s: %s of %s by the monitor: %w (its last action was %q)", s.name, s.node, action, rid, ErrNotWanted, in.Of(rid))
				}
			}
		}
		return nil
	}
	switch action {
	case Stop, StopContainer:
		rids := planRIDs(res.Plan)
		if !opts.Force {
			// A stop leaves the standby resources up (stopOne): they are
			// not stopped, so not wanted down.
			rids = slices.DeleteFunc(rids, func(rid string) bool {
				r, ok := s.Resource(rid)
				return ok && r.Flags().Standby
			})
		}
		return s.recordIntent(rids, IntentDown)
	case Unprovision:
		return s.recordIntent(planRIDs(res.Plan), IntentDown)
	}
	return nil
}

// afterAction records the intent of a start that succeeded. The
// monitor's own starts record nothing: they restore what was wanted.
func (s *Service) afterAction(action Action, opts ActionOptions, res *Result) error {
	if opts.Monitor || !action.forward() {
		return nil
	}
	return s.recordIntent(planRIDs(res.Plan), IntentUp)
}

func planRIDs(plan [][]string) []string {
	var out []string
	for _, wave := range plan {
		out = append(out, wave...)
	}
	return out
}

func (s *Service) recordIntent(rids []string, intent string) error {
	in, err := s.Intent()
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		// A damaged record must not block an operator: it starts over
		// (the monitor then restarts only what actions name from now on).
		in, err = Intent{Resources: map[string]string{}}, nil
	}
	if err != nil {
		return err
	}
	for _, rid := range rids {
		in.Resources[rid] = intent
	}
	in.Updated = time.Now().UTC()
	return s.writeRunFile(intentFile, in)
}

// frozenFlag is the content of the frozen flag file.
type frozenFlag struct {
	Since time.Time `json:"since"`
	Node  string    `json:"node"`
}

// Frozen tells whether the service is frozen on this node: the resource
// monitor then starts, restarts and acts on nothing of it. Operators may
// still run actions.
func (s *Service) Frozen() (bool, error) {
	// The file's existence is the flag (a hand-made empty one counts);
	// its content only says since when.
	if s.varDir == "" {
		return false, nil
	}
	root, err := os.OpenRoot(s.varDir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("service %s: %w", s.name, err)
	}
	defer root.Close()
	_, err = root.Lstat(frozenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("service %s: frozen flag: %w", s.name, err)
	}
	return true, nil
}

// maxRunFile bounds the run state files read: they hold a few lines per
// resource.
const maxRunFile = 4 << 20

// Freeze marks the service frozen on this node, under the service lock
// (opts says how long to wait for it), so that a monitor action already
// running ends before Freeze returns and none starts after.
func (s *Service) Freeze(ctx context.Context, opts ActionOptions) error {
	return s.setFrozen(ctx, opts, true)
}

// Thaw lets the resource monitor act on the service again.
func (s *Service) Thaw(ctx context.Context, opts ActionOptions) error {
	return s.setFrozen(ctx, opts, false)
}

func (s *Service) setFrozen(ctx context.Context, opts ActionOptions, frozen bool) error {
	name := "thaw"
	if frozen {
		name = "freeze"
	}
	if opts.DryRun || resource.IsDryRun(ctx) {
		return nil
	}
	timeout, err := s.lockTimeout(Action(name), opts)
	if err != nil {
		return err
	}
	unlock, err := s.lock(ctx, name, timeout)
	if err != nil {
		return err
	}
	defer unlock()
	if frozen {
		return s.writeRunFile(frozenFile, frozenFlag{Since: time.Now().UTC(), Node: s.node})
	}
	root, err := os.OpenRoot(s.varDir)
	if err != nil {
		return fmt.Errorf("service %s: thaw: %w", s.name, err)
	}
	defer root.Close()
	if err := root.Remove(frozenFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("service %s: thaw: %w", s.name, err)
	}
	return nil
}

// RestartState is what the resource monitor remembers of a resource it
// saw down: the restarts it tried since the resource was last seen up.
type RestartState struct {
	// Retries counts the restarts tried since the resource was last
	// seen up (a restart that brings it up resets it, as the reference's
	// daemon does).
	Retries int `json:"retries"`
	// Last is when the last restart was tried: the next waits for
	// restart_delay after it.
	Last time.Time `json:"last,omitzero"`
	// Acted is set once the monitor_action ran (or was refused) for this
	// down episode: it runs once until the resource is seen up again.
	Acted bool `json:"acted,omitempty"`
}

// Restarts returns the monitor's restart state of the resources it saw
// down, by rid (print status shows the restarts left).
func (s *Service) Restarts() (map[string]RestartState, error) {
	m := map[string]RestartState{}
	if _, err := s.readRunFile(restartsFile, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// SaveRestarts replaces the monitor's restart state (the monitor is its
// only writer; an empty map removes the file).
func (s *Service) SaveRestarts(m map[string]RestartState) error {
	if len(m) == 0 {
		if s.varDir == "" {
			return nil
		}
		root, err := os.OpenRoot(s.varDir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("service %s: save restarts: %w", s.name, err)
		}
		defer root.Close()
		if err := root.Remove(restartsFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("service %s: save restarts: %w", s.name, err)
		}
		return nil
	}
	return s.writeRunFile(restartsFile, m)
}

// RestartLimit is the number of restarts the monitor tries for rid: its
// restart keyword, at least 2 for a standby resource (as the reference).
func (s *Service) RestartLimit(rid string) int {
	n := s.restartKeyword(rid)
	if r, ok := s.Resource(rid); ok && r.Flags().Standby && n < 2 {
		n = 2
	}
	return n
}

// restartKeyword is the restart keyword of rid, as written.
func (s *Service) restartKeyword(rid string) int {
	cfg, ok := s.section(rid)
	if !ok {
		return 0
	}
	return int(cfg.Int("restart"))
}

// RestartDelay is the restart_delay of rid.
func (s *Service) RestartDelay(rid string) time.Duration {
	cfg, ok := s.section(rid)
	if !ok {
		return 0
	}
	return cfg.Duration("restart_delay")
}

// MonitorAction returns the words of DEFAULT's monitor_action: the
// action then its fallbacks; none for "none".
func (s *Service) MonitorAction() []string {
	var out []string
	for _, w := range strings.Fields(s.keywords["monitor_action"]) {
		if w != "none" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// readRunFile decodes name of the var directory into v; false when the
// file does not exist.
func (s *Service) readRunFile(name string, v any) (bool, error) {
	if s.varDir == "" {
		return false, nil
	}
	root, err := os.OpenRoot(s.varDir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("service %s: %w", s.name, err)
	}
	defer root.Close()
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("service %s: read %s: %w", s.name, name, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxRunFile {
		return false, fmt.Errorf("service %s: %s in %s: expected a regular file of at most %d bytes", s.name, name, s.varDir, maxRunFile)
	}
	f, err := root.Open(name)
	if err != nil {
		return false, fmt.Errorf("service %s: read %s: %w", s.name, name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRunFile+1))
	if err != nil {
		return false, fmt.Errorf("service %s: read %s: %w", s.name, name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("service %s: %s in %s: %w", s.name, name, s.varDir, err)
	}
	return true, nil
}

func (s *Service) writeRunFile(name string, v any) error {
	if s.varDir == "" {
		return fmt.Errorf("service %s: no var directory to record %s (set Options.Root or Options.VarDir)", s.name, name)
	}
	if err := os.MkdirAll(s.varDir, 0o755); err != nil {
		return fmt.Errorf("service %s: %w", s.name, err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("service %s: %s: %w", s.name, name, err)
	}
	root, err := os.OpenRoot(s.varDir)
	if err != nil {
		return fmt.Errorf("service %s: %w", s.name, err)
	}
	defer root.Close()
	if err := atomicfile.WriteFileIn(root, name, append(b, '\n'), 0o644, atomicfile.Keep); err != nil {
		return fmt.Errorf("service %s: record %s: %w", s.name, name, err)
	}
	return nil
}

// StartDependents returns the resources whose start waits, directly or
// through others, for one of rids in the start graph of the whole
// service (what they use, the container of an ip.docker,
// start_requires): what a restart of rids must restart too when it went
// down with them (an fs and the containers on it, a container and the
// address in its network namespace). rids themselves are left out.
func (s *Service) StartDependents(rids []string) []string {
	g := s.startGraph(s.resources, SchedulerGraph)
	dependents := make([][]int, len(g.res))
	for i, deps := range g.deps {
		for _, j := range deps {
			dependents[j] = append(dependents[j], i)
		}
	}
	seen := make([]bool, len(g.res))
	var queue []int
	for i, r := range g.res {
		if slices.Contains(rids, r.RID()) {
			seen[i] = true
			queue = append(queue, i)
		}
	}
	var out []string
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, d := range dependents[i] {
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
				out = append(out, g.res[d].RID())
			}
		}
	}
	sort.Strings(out)
	return out
}
