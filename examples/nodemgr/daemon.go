package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/driver"
	_ "github.com/svckit/svckit/driver/all"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/internal/svccomp"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

type daemonFlags struct {
	fake     bool
	interval time.Duration
	grace    time.Duration
	lockWait time.Duration
	format   string
	verbose  bool
	sync     bool
	svcmgr   string
	haEtcd   string
	haTTL    time.Duration
}

// addDaemonCommands adds
//
//	nodemgr daemon run [--fake] [--interval D] [--shutdown-grace D]
//	nodemgr daemon status [--format text|json]
//	nodemgr daemon events
func addDaemonCommands(root *cobra.Command, g *globals, stdout io.Writer) {
	f := &daemonFlags{}
	daemon := &cobra.Command{
		Use:   "daemon",
		Short: "the node daemon: schedules, resource monitor, API",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return usagef("daemon: expected run, status or events")
		},
	}
	run := &cobra.Command{
		Use:   "run [--fake] [--interval D]",
		Short: "run the daemon in the foreground until SIGTERM (the node's and every <root>/etc service's tasks, the monitor, the API on <root>/var/daemon/api.sock)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkNode(); err != nil {
				return err
			}
			d, err := g.newDaemon(f, c.ErrOrStderr())
			if err != nil {
				return err
			}
			if f.haEtcd != "" {
				return g.runWithHA(c.Context(), d, f, c.ErrOrStderr())
			}
			return d.Run(c.Context())
		},
	}
	run.Flags().BoolVar(&f.fake, "fake", false, "run every resource on fake drivers (no host change), as svcmgr --fake")
	run.Flags().DurationVar(&f.interval, "interval", monitor.DefaultInterval, "the monitor pass of the services without monitor_schedule (whole seconds)")
	run.Flags().DurationVar(&f.grace, "shutdown-grace", monitor.DefaultShutdownGrace, "on SIGTERM, how long running tasks may finish before they are cancelled")
	run.Flags().DurationVar(&f.lockWait, "lock-wait", monitor.DefaultLockWait, "how long a task waits for a service's action lock before it is skipped")
	run.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log every event on stderr")
	run.Flags().BoolVar(&f.sync, "sync", true, "run sync#i0 (svcmgr sync nodes: the config to the service's other nodes) on its schedule, on the flex primary")
	run.Flags().StringVar(&f.haEtcd, "ha-etcd", os.Getenv("SVCKIT_HA_ETCD"), "etcd endpoints, comma-separated (env SVCKIT_HA_ETCD): run the flex high availability agent of every flex service (lease, self-fencing, failover of lost nodes' pods)")
	run.Flags().DurationVar(&f.haTTL, "ha-lease-ttl", 0, "with --ha-etcd: the node lease of every service, over its ha_lease_ttl (env SVCKIT_HA_LEASE_TTL)")
	run.Flags().StringVar(&f.svcmgr, "svcmgr", "", "svcmgr program for sync nodes (default: beside nodemgr, else on PATH)")
	status := &cobra.Command{
		Use:   "status",
		Short: "print what the running daemon knows: node tasks, services, their status and tasks",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			st, err := monitor.NewClient(monitor.SocketPath(g.root)).Status(c.Context())
			if err != nil {
				return fmt.Errorf("%w (is nodemgr daemon run running on --root %s?)", err, g.root)
			}
			if f.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			if f.format != "text" {
				return usagef("--format %q: expected text or json", f.format)
			}
			return writeDaemonStatus(stdout, st)
		},
	}
	status.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
	events := &cobra.Command{
		Use:   "events",
		Short: "follow the daemon's event stream (one JSON object per line)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			enc := json.NewEncoder(stdout)
			return monitor.NewClient(monitor.SocketPath(g.root)).Events(c.Context(), func(e monitor.Event) error { return enc.Encode(e) })
		},
	}
	daemon.AddCommand(run, status, events)
	root.AddCommand(daemon)
}

// daemonRegistry is the drivers of the daemon's services.
func daemonRegistry(f *daemonFlags) (*driver.Registry, error) {
	if !f.fake {
		return driver.Default(), nil
	}
	opts, err := fake.OptionsFromEnv()
	if err != nil {
		return nil, usagef("%v", err)
	}
	return fake.Replace(driver.Default(), opts), nil
}

func (g *globals) newDaemon(f *daemonFlags, stderr io.Writer) (*monitor.Daemon, error) {
	reg, err := daemonRegistry(f)
	if err != nil {
		return nil, err
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	opts := monitor.DaemonOptions{
		Root: g.root, Node: g.node, Registry: reg, NoTriggers: f.fake, NoHostActions: f.fake,
		Interval: f.interval, ShutdownGrace: f.grace, LockWait: f.lockWait,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		NodeRunners: map[string]monitor.NodeRunner{
			monitor.TaskCompliance: g.nodeComplianceAuto,
			monitor.TaskAsset:      g.selfRunner("pushasset"),
			monitor.TaskPackages:   g.selfRunner("pushpkg"),
			monitor.TaskDequeue:    g.selfRunner("dequeue", "actions"),
		},
		ServiceRunners: map[string]monitor.ServiceRunner{
			monitor.TaskCompliance: g.serviceComplianceAuto,
		},
	}
	if f.sync {
		progs, err := (&dequeueFlags{svcmgr: f.svcmgr}).programs()
		if err != nil {
			return nil, err
		}
		opts.ServiceRunners["sync"] = g.syncNodes(progs["svcmgr"], f.fake)
	}
	return monitor.NewDaemon(opts)
}

// rulesOrSkip is the node's rules file, or a skip when there is none (a
// node no collector export was installed on has no compliance to run).
func (g *globals) rulesOrSkip() (string, error) {
	p := filepath.Join(g.root, "var", "compliance", "rules.json")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return "", monitor.Skipped("no compliance rules (%s)", p)
	}
	return p, nil
}

// nodeComplianceAuto is `nodemgr compliance auto` in the daemon's
// process: check every module, fix the autofix ones.
func (g *globals) nodeComplianceAuto(ctx context.Context) (string, error) {
	if _, err := g.rulesOrSkip(); err != nil {
		return "", err
	}
	return g.selfRunner("compliance", "auto")(ctx)
}

// selfRunner runs a nodemgr command in this process, as the node, and
// returns its output; a non-zero exit is an error.
func (g *globals) selfRunner(args ...string) monitor.NodeRunner {
	return func(ctx context.Context) (string, error) {
		var out, errb bytes.Buffer
		argv := append([]string{"--root", g.root, "--node", g.node}, args...)
		code := run(ctx, argv, &out, &errb)
		text := strings.TrimSpace(out.String())
		if code != 0 {
			return text, fmt.Errorf("nodemgr %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errb.String()+" "+lastLine(text)))
		}
		return lastLine(text), nil
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// serviceComplianceAuto is the service's compliance auto (svccomp's
// engine), run by the daemon under the service's action lock.
func (g *globals) serviceComplianceAuto(ctx context.Context, s *svc.Service) (string, error) {
	if _, err := g.rulesOrSkip(); err != nil {
		return "", err
	}
	eng, err := svccomp.NewEngine(ctx, s, svccomp.Request{Action: "check"}, svccomp.Options{Root: g.root})
	if err != nil {
		return "", err
	}
	rep, err := eng.Run(ctx, compliance.Auto, compliance.Selection{})
	if err != nil {
		return "", err
	}
	if !rep.AllOK() {
		return "", errors.New("some modules are not ok")
	}
	return "every module ok", nil
}

// syncNodes runs `svcmgr -s SVC sync nodes` (its transport, its host key
// checks) with a time limit and a bounded output.
func (g *globals) syncNodes(svcmgr string, fakeDrivers bool) monitor.ServiceRunner {
	return func(ctx context.Context, s *svc.Service) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, defaultLimit)
		defer cancel()
		argv := []string{"--root", g.root, "--node", g.node, "-s", s.Name()}
		if fakeDrivers {
			argv = append(argv, "--fake")
		}
		argv = append(argv, "sync", "nodes")
		cmd := exec.CommandContext(ctx, svcmgr, argv...)
		out := &cappedBuffer{max: maxOutput}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = waitDelay
		err := cmd.Run()
		text := strings.TrimSpace(out.String())
		if err != nil {
			return "", fmt.Errorf("svcmgr sync nodes: %w: %s", err, lastLine(text))
		}
		return lastLine(text), nil
	}
}

func writeDaemonStatus(w io.Writer, st *monitor.NodeState) error {
	fmt.Fprintf(w, "node %s, daemon pid %d since %s, monitor interval %s\n", st.Node, st.PID, st.Started.Format(time.RFC3339), st.Interval)
	if st.NodeConf != "" {
		fmt.Fprintf(w, "node.conf: %s\n", st.NodeConf)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tTASK\tSCHEDULE\tLAST RUN\tRESULT\tNEXT\tMESSAGE")
	row := func(scope string, t monitor.TaskState) {
		last, next := "-", "-"
		if !t.LastRun.IsZero() {
			last = t.LastRun.Format(time.RFC3339)
		}
		if !t.Next.IsZero() {
			next = t.Next.Format(time.RFC3339)
		}
		res := t.Result
		if t.Running {
			res = "running"
		}
		msg := t.Message
		if len(msg) > 80 {
			msg = msg[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", scope, t.Name, t.Schedule, last, res, next, msg)
	}
	for _, t := range st.Tasks {
		row("node", t)
	}
	for _, s := range st.Services {
		for _, t := range s.Tasks {
			row(s.Name, t)
		}
	}
	tw.Flush()
	for _, s := range st.Services {
		switch {
		case s.LoadError != "":
			fmt.Fprintf(w, "%s: configuration refused: %s\n", s.Name, s.LoadError)
		case s.Status == nil:
			fmt.Fprintf(w, "%s: no status read yet\n", s.Name)
		default:
			fmt.Fprintf(w, "%s: avail %s, overall %s, read %s\n", s.Name, s.Status.Avail, s.Status.Overall, s.Updated.Format(time.RFC3339))
		}
	}
	return nil
}
