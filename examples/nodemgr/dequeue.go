package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/svckit/svckit/examples/collector/client"
	"github.com/svckit/svckit/svc/store"
)

// Exit codes reported for what did not run as asked (the shell's
// conventions, so that the collector's pages read them alike).
const (
	exitRefused  = 126 // not allowed: never started
	exitNotFound = 127 // the program could not be started
	exitTimeout  = 124 // killed at --timeout
)

// Bounds of one dequeue run.
const (
	maxOutput    = 64 << 10 // what the collector keeps of an output
	maxRounds    = 10       // dequeues in one run, in case actions keep arriving
	waitDelay    = 5 * time.Second
	defaultLimit = 10 * time.Minute
)

// queuedAction is the collector's action as the node needs it.
type queuedAction struct {
	ID      int64    `json:"id"`
	Service string   `json:"svc_name"`
	Argv    []string `json:"argv"`
	// Attempt is the collector's claim number: the report names it, so
	// that a report arriving after the lease ran out and another process
	// claimed the action again is refused.
	Attempt int64 `json:"attempt"`
}

// nameRE is what a moduleset or module name may be: the collector's
// names, no option, no path, no shell character.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// The allow-list: the verbs an action may name, as word sequences.
var (
	svcmgrVerbs = [][]string{
		{"start"}, {"stop"}, {"print", "status"}, {"print", "config"}, {"validate", "config"}, {"pull"},
		{"compliance", "check"}, {"compliance", "fix"}, {"compliance", "fixable"},
	}
	nodemgrVerbs = [][]string{
		{"pushasset"}, {"pushpkg"},
		{"compliance", "check"}, {"compliance", "fix"}, {"compliance", "fixable"},
	}
)

// refusal is why an action is not run.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// allowed checks an action against the allow-list and returns the
// program (svcmgr or nodemgr) and the arguments to run it with. The
// arguments are the action's words after the program's name, checked
// word by word: a verb of the list, then only the options the list
// names with values of the expected shape. The node's --root and --node
// come first and an action cannot set them.
func allowed(a queuedAction) (string, []string, error) {
	if len(a.Argv) == 0 {
		return "", nil, refuse("empty command")
	}
	prog, rest := a.Argv[0], a.Argv[1:]
	var verbs [][]string
	var out []string
	switch prog {
	case "svcmgr":
		if len(rest) < 2 || rest[0] != "-s" {
			return "", nil, refuse("svcmgr: expected svcmgr -s SVC VERB")
		}
		if err := store.ValidServiceName(rest[1]); err != nil {
			return "", nil, refuse("svcmgr -s: %v", err)
		}
		if a.Service != "" && a.Service != rest[1] {
			return "", nil, refuse("svcmgr -s %s: the action is for service %s", rest[1], a.Service)
		}
		out = append(out, "-s", rest[1])
		rest = rest[2:]
		verbs = svcmgrVerbs
	case "nodemgr":
		if a.Service != "" {
			return "", nil, refuse("nodemgr: an action for service %s runs svcmgr", a.Service)
		}
		verbs = nodemgrVerbs
	default:
		return "", nil, refuse("program %q: expected svcmgr or nodemgr", prog)
	}
	var verb []string
	for _, v := range verbs {
		if len(rest) >= len(v) && slices.Equal(rest[:len(v)], v) && len(v) > len(verb) {
			verb = v
		}
	}
	if verb == nil {
		return "", nil, refuse("%s: verb %q is not allowed (allowed: %s)", prog, strings.Join(rest, " "), verbList(verbs))
	}
	out = append(out, verb...)
	rest = rest[len(verb):]
	comp := verb[0] == "compliance"
	for i := 0; i < len(rest); i++ {
		opt := rest[i]
		switch {
		case opt == "--format":
		case comp && (opt == "--moduleset" || opt == "--module"):
		case comp && opt == "--dry-run":
			out = append(out, opt)
			continue
		default:
			return "", nil, refuse("%s %s: option %q is not allowed", prog, strings.Join(verb, " "), opt)
		}
		if i+1 >= len(rest) {
			return "", nil, refuse("%s: %s needs a value", prog, opt)
		}
		v := rest[i+1]
		i++
		if opt == "--format" {
			if v != "text" && v != "json" {
				return "", nil, refuse("%s: --format %q: expected text or json", prog, v)
			}
		} else {
			for _, n := range strings.Split(v, ",") {
				if !nameRE.MatchString(n) {
					return "", nil, refuse("%s: %s %q: expected names of letters, digits, '.', '_', '-'", prog, opt, v)
				}
			}
		}
		out = append(out, opt, v)
	}
	return prog, out, nil
}

func verbList(verbs [][]string) string {
	var s []string
	for _, v := range verbs {
		s = append(s, strings.Join(v, " "))
	}
	return strings.Join(s, ", ")
}

// cappedBuffer keeps the first max bytes written and counts the rest.
type cappedBuffer struct {
	b       []byte
	max     int
	dropped int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.max - len(c.b)
	if room > len(p) {
		room = len(p)
	}
	c.b = append(c.b, p[:room]...)
	c.dropped += len(p) - room
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	if c.dropped > 0 {
		return string(c.b) + fmt.Sprintf("\n[%d more bytes dropped]", c.dropped)
	}
	return string(c.b)
}

type dequeueFlags struct {
	timeout time.Duration
	svcmgr  string
}

// programs locates svcmgr and nodemgr: nodemgr is this program, svcmgr
// --svcmgr, else the svcmgr beside this program, else on PATH.
func (f *dequeueFlags) programs() (map[string]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("dequeue: this program's path: %w", err)
	}
	svcmgr := f.svcmgr
	if svcmgr == "" {
		svcmgr = filepath.Join(filepath.Dir(self), "svcmgr")
		if _, err := os.Stat(svcmgr); err != nil {
			if p, err := exec.LookPath("svcmgr"); err == nil {
				svcmgr = p
			}
		}
	}
	return map[string]string{"nodemgr": self, "svcmgr": svcmgr}, nil
}

func addDequeueCommand(root *cobra.Command, g *globals, stdout io.Writer) {
	f := &dequeueFlags{}
	dequeue := &cobra.Command{
		Use:   "dequeue",
		Short: "dequeue this node's actions from the collector",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return usagef("dequeue: expected dequeue actions")
		},
	}
	actions := &cobra.Command{
		Use:   "actions",
		Short: "claim this node's queued actions, run the allowed ones, report every result (stdin is ignored)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if f.timeout <= 0 {
				return usagef("--timeout %v: expected a positive duration", f.timeout)
			}
			if err := g.checkNode(); err != nil {
				return err
			}
			api, err := g.nodeCollector()
			if err != nil {
				return err
			}
			progs, err := f.programs()
			if err != nil {
				return err
			}
			return g.dequeueActions(c.Context(), api, progs, f.timeout, stdout)
		},
	}
	actions.Flags().DurationVar(&f.timeout, "timeout", defaultLimit, "time limit of each action")
	actions.Flags().StringVar(&f.svcmgr, "svcmgr", "", "svcmgr program (default: beside nodemgr, else on PATH)")
	dequeue.AddCommand(actions)
	root.AddCommand(dequeue)
}

// dequeueActions claims and runs the queue until it is empty (at most
// maxRounds dequeues). Every claimed action is reported, refused ones
// too; a report that fails is an error of the run after the others.
func (g *globals) dequeueActions(ctx context.Context, api *client.API, progs map[string]string, timeout time.Duration, stdout io.Writer) error {
	var errs []error
	for range maxRounds {
		var ans struct {
			Data []queuedAction `json:"data"`
		}
		if err := api.Call(ctx, "POST", "/actions/dequeue", nil, &ans); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if len(ans.Data) == 0 {
			break
		}
		for _, a := range ans.Data {
			res := g.runAction(ctx, a, progs, timeout)
			res["output"] = api.Redact(res["output"].(string))
			res["reason"] = api.Redact(res["reason"].(string))
			if a.Attempt > 0 {
				res["attempt"] = a.Attempt
			}
			line := fmt.Sprintf("action %d (%s): %s, exit %d", a.ID, api.Redact(strings.Join(a.Argv, " ")), res["status"], res["exit_code"])
			if r := res["reason"].(string); r != "" {
				line += ": " + r
			}
			fmt.Fprintln(stdout, line)
			if err := api.Call(ctx, "POST", fmt.Sprintf("/actions/%d/result", a.ID), res, nil); err != nil {
				errs = append(errs, fmt.Errorf("action %d: report: %w", a.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// runAction runs one allowed action with exec (no shell), no stdin, a
// time limit and a bounded output, and returns its report.
func (g *globals) runAction(ctx context.Context, a queuedAction, progs map[string]string, timeout time.Duration) map[string]any {
	prog, args, err := allowed(a)
	if err != nil {
		return map[string]any{"status": "refused", "exit_code": exitRefused, "output": "", "reason": err.Error()}
	}
	full := append([]string{"--root", g.root, "--node", g.node}, args...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, progs[prog], full...)
	out := &cappedBuffer{max: maxOutput}
	// Stdin is /dev/null: under a socket unit it would be the
	// collector's connection, which carries no command.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, out, out
	// Its own process group, killed whole at the timeout: a svcmgr
	// action's children (resource drivers) do not outlive it holding the
	// output pipe.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return map[string]any{"status": "done", "exit_code": exitTimeout, "output": out.String(), "reason": fmt.Sprintf("killed after --timeout %v", timeout)}
	case err == nil:
		return map[string]any{"status": "done", "exit_code": 0, "output": out.String(), "reason": ""}
	case errors.As(err, &ee):
		return map[string]any{"status": "done", "exit_code": ee.ExitCode(), "output": out.String(), "reason": ""}
	default:
		return map[string]any{"status": "done", "exit_code": exitNotFound, "output": out.String(), "reason": fmt.Sprintf("%s: %v", prog, err)}
	}
}
