package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	_ "github.com/svckit/svckit/driver/all"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

// exitError carries the exit code of a failure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

type globals struct {
	root, node, svcname, format string
	rids, subsets               []string
	tags, scheduler             string
	fake, dryRun, showSecrets   bool
	force                       bool
	cancelOnEOF                 bool
	waitlock                    time.Duration
	maxParallel                 int
	stdin                       io.Reader
	stdout, stderr              io.Writer
	cl                          clusterFlags
}

const defaultRoot = "/opt/svckit"

func run(args []string, stdout, stderr io.Writer) int {
	g := &globals{stdin: os.Stdin, stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "svcmgr:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown command or flag) are usage errors.
	return 2
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "svcmgr -s SVC ACTION",
		Short:         "Run the actions of a svckit service on this node",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Names and durations that reach paths, peers and locks are
		// checked once, before any command runs.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkGlobals(); err != nil {
				return err
			}
			if g.cancelOnEOF {
				// The SSH transport keeps stdin open while it waits: its
				// end (a timeout, a cancelled cluster action, a lost
				// connection) cancels this command's action.
				ctx, cancel := context.WithCancel(cmd.Context())
				cmd.SetContext(ctx)
				go func() {
					_, _ = io.Copy(io.Discard, g.stdin)
					cancel()
				}()
			}
			return nil
		},
	}
	defRoot := os.Getenv("SVCKIT_ROOT")
	if defRoot == "" {
		defRoot = defaultRoot
	}
	host, _ := os.Hostname()
	host = nodename.FromHost(host)
	f := root.PersistentFlags()
	f.StringVar(&g.root, "root", defRoot, "the directory holding etc/<svc>.conf and var/<svc>/ (env SVCKIT_ROOT)")
	f.StringVar(&g.node, "node", host, "the name of this node")
	f.StringVarP(&g.svcname, "service", "s", "", "the service name")
	f.BoolVar(&g.fake, "fake", false, "run every resource on fake drivers (no host change)")
	f.StringSliceVar(&g.rids, "rid", nil, "resource ids, group names or globs (comma separated)")
	f.StringVar(&g.tags, "tags", "", "tag expression: ',' is OR, '+' is AND (sm+pod01,db)")
	f.StringSliceVar(&g.subsets, "subsets", nil, "subset names (comma separated)")
	f.BoolVar(&g.dryRun, "dry-run", false, "print the plan and change nothing")
	f.StringVar(&g.format, "format", "text", "output format: text or json")
	f.DurationVar(&g.waitlock, "waitlock", 30*time.Second, "how long to wait for another action of the service (0: do not wait)")
	f.StringVar(&g.scheduler, "scheduler", "", "graph or groups (default: the service's scheduler keyword)")
	f.IntVar(&g.maxParallel, "max-parallel", 0, "the most resource actions at once (default: the service's max_parallel)")
	f.BoolVar(&g.force, "force", false, "also stop standby (always_on) resources; unprovision: also delete what this service did not create (backing files, disks that existed before provision); run cluster-wide commands from a node that is not the flex primary; push over a newer store version; migrate when nodes run different configs")
	f.BoolVarP(&g.cl.cluster, "cluster", "c", false, "run on every node of the service (from the flex primary)")
	f.BoolVar(&g.cl.rollback, "rollback", true, "undo what a failed start or provision started (default: the service's rollback keyword)")
	f.StringVar(&g.cl.storeURL, "store", "", "the config store: dir:PATH, etcd://HOST:PORT[/PREFIX] or https://COLLECTOR/init/rest/api (env SVCKIT_STORE, or [store] url in <root>/etc/svckit.conf)")
	f.StringVar(&g.cl.haEtcd, "ha-etcd", os.Getenv("SVCKIT_HA_ETCD"), "etcd endpoints of the flex HA, comma-separated (env SVCKIT_HA_ETCD): print status --cluster adds its view (nodes alive or lost, lease age, primary, pods per node, moves in progress, last events)")
	f.StringVar(&g.cl.nodesFile, "nodes-file", "", "the node registry (default <root>/etc/nodes.conf)")
	f.StringVar(&g.cl.transport, "transport", "ssh", "how to reach the other nodes: ssh, or local (in-process on the roots of the node registry)")
	f.StringSliceVar(&g.cl.sshKeys, "ssh-key", nil, "private key files for ssh (default ~/.ssh/id_ed25519)")
	f.StringSliceVar(&g.cl.knownHosts, "known-hosts", nil, "known_hosts files the nodes' host keys are verified against (default ~/.ssh/known_hosts)")
	f.DurationVar(&g.cl.connectTimeout, "connect-timeout", 10*time.Second, "ssh connection and handshake timeout")
	f.DurationVar(&g.cl.commandTimeout, "command-timeout", 10*time.Minute, "timeout of each command on a node")
	f.IntVar(&g.cl.workers, "workers", 8, "how many nodes are worked on at once")
	f.BoolVar(&g.cancelOnEOF, "cancel-on-stdin-eof", false, "cancel the action when stdin ends (set by the SSH transport)")
	_ = f.MarkHidden("cancel-on-stdin-eof")

	printCmd := &cobra.Command{Use: "print", Short: "print status or config"}
	var refresh bool
	statusCmd := &cobra.Command{
		Use: "status", Short: "print the status tree of the service on this node (the node daemon's when fresh, unless --refresh)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.cl.cluster {
				return g.printStatusCluster(cmd.Context())
			}
			if !refresh {
				if done, err := g.printDaemonStatus(cmd.Context()); done {
					return err
				}
			}
			return g.printStatus(cmd.Context())
		},
	}
	statusCmd.Flags().BoolVar(&refresh, "refresh", false, "read every resource, even when the node daemon holds a fresh status")
	printCmd.AddCommand(statusCmd)
	cfgCmd := &cobra.Command{
		Use: "config", Short: "print the service configuration (secrets redacted)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.printConfig(cmd.Context()) },
	}
	cfgCmd.Flags().BoolVar(&g.showSecrets, "show-secrets", false, "print secret values as written")
	cfgCmd.AddCommand(&cobra.Command{
		Use: "checksum", Short: "print the sha256 of the config file (what the sync#i0 of the other nodes compares; reads no status)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.printChecksum(cmd.Context()) },
	})
	printCmd.AddCommand(cfgCmd)
	validateCmd := &cobra.Command{Use: "validate", Short: "validate config"}
	validateCmd.AddCommand(&cobra.Command{
		Use: "config", Short: "check the configuration and list every problem", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.validate(cmd.Context()) },
	})
	root.AddCommand(printCmd, validateCmd)
	for _, a := range svc.Actions {
		root.AddCommand(&cobra.Command{
			Use: string(a), Short: string(a) + " the selected resources", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if g.cl.cluster {
					if _, err := g.load(cmd.Context()); err != nil {
						return err
					}
					return g.clusterAction(cmd.Context(), a, g.actionOptions(cmd.Flags()))
				}
				return g.action(cmd.Context(), a, g.actionOptions(cmd.Flags()))
			},
		})
	}
	root.AddCommand(&cobra.Command{
		Use: "pull", Short: "fetch the config from the store, validate it, install it (keeps <svc>.conf.prev); --cluster: on every node", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.pull(cmd.Context()) },
	})
	root.AddCommand(&cobra.Command{
		Use: "push", Short: "store the local config as a new version (refused if the store changed since this node's last pull, unless --force)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.push(cmd.Context()) },
	})
	syncCmd := &cobra.Command{Use: "sync", Short: "sync nodes"}
	syncCmd.AddCommand(&cobra.Command{
		Use: "nodes", Short: "copy the local config to every other node of the service (validated and installed atomically there)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.syncNodes(cmd.Context()) },
	})
	root.AddCommand(syncCmd)
	receiveCmd := &cobra.Command{
		Use: "receive", Short: "install the config read from stdin (validated first; what sync nodes runs on the peers)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.receive(cmd.Context(), g.stdin) },
	}
	receiveCmd.Flags().StringVar(&g.cl.source, "source", "", "where the config comes from, for the report")
	root.AddCommand(receiveCmd)
	migrateCmd := &cobra.Command{
		Use: "migrate --pod N --to NODE", Short: "move a pod to another node: stop it, new config on every node, start it there; put back on failure", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.migrate(cmd.Context()) },
	}
	migrateCmd.Flags().IntVar(&g.cl.pod, "pod", 0, "the pod number")
	migrateCmd.Flags().StringVar(&g.cl.to, "to", "", "the destination node")
	root.AddCommand(migrateCmd)
	relayoutCmd := &cobra.Command{
		Use: "relayout --nodes \"NODE...\"", Short: "spread the pods over these nodes with the fewest moves, as a sequence of migrations", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.relayout(cmd.Context()) },
	}
	relayoutCmd.Flags().StringVar(&g.cl.relayoutNodes, "nodes", "", "the new node list, space separated")
	relayoutCmd.Flags().IntVar(&g.cl.parallel, "parallel", 1, "how many pods move at once")
	root.AddCommand(relayoutCmd)
	root.AddCommand(complianceCmd(g))
	root.AddCommand(freezeCmds(g)...)
	root.AddCommand(&cobra.Command{
		Use:   "docker ARGS...",
		Short: "run the docker command with %instances% and %images% of the selected containers",
		Long: "Runs docker with ARGS, where %instances% expands to the names of the selected container\n" +
			"resources and %images% to their images (the seed's 'docker rm %instances%'). Flags svcmgr does\n" +
			"not know go to docker ('docker load -i FILE'); after '--' every argument does.",
		// svcmgr's own flags are told from docker's by splitDockerArgs.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			own, dockerArgs := splitDockerArgs(args, inheritedLookup(cmd))
			if err := cmd.InheritedFlags().Parse(own); err != nil {
				return usageError("%v", err)
			}
			if err := g.checkGlobals(); err != nil {
				return err
			}
			if len(dockerArgs) == 0 {
				return usageError("docker: expected the docker command's arguments")
			}
			return g.docker(cmd.Context(), dockerArgs)
		},
	})
	return root
}

// checkGlobals refuses, as usage errors, a service name the cluster
// agent would refuse (-s ../../x would load a file outside <root>/etc),
// a node name that breaks the node name rule, and a negative --waitlock.
func (g *globals) checkGlobals() error {
	if g.svcname != "" {
		if err := store.ValidServiceName(g.svcname); err != nil {
			return usageError("-s: %v", err)
		}
	}
	if err := nodename.Check(g.node); err != nil {
		return usageError("--node: %v", err)
	}
	if g.waitlock < 0 {
		return usageError("--waitlock %s: expected 0 (do not wait) or a positive duration", g.waitlock)
	}
	return nil
}

func (g *globals) configPath() string {
	return filepath.Join(g.root, "etc", g.svcname+".conf")
}

// load reads and validates the service config for this node.
func (g *globals) load(ctx context.Context) (*svc.Service, error) {
	if g.svcname == "" {
		return nil, usageError("missing -s SVC: expected the service name")
	}
	if g.format != "text" && g.format != "json" {
		return nil, usageError("--format %q: expected text or json", g.format)
	}
	reg, err := g.registry(g.node, g.root)
	if err != nil {
		return nil, err
	}
	s, err := svc.Load(ctx, g.configPath(), svc.Options{Node: g.node, Svcname: g.svcname, Registry: reg, Root: g.root, NoTriggers: g.fake})
	if err != nil {
		var ve *svc.ValidationError
		if errors.As(err, &ve) || errors.Is(err, os.ErrNotExist) {
			return nil, &exitError{code: 2, err: err}
		}
		return nil, err
	}
	return s, nil
}

func (g *globals) selection() svc.Selection {
	return svc.Selection{RIDs: g.rids, Tags: g.tags, Subsets: g.subsets}
}

func (g *globals) writeJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (g *globals) printStatus(ctx context.Context) error {
	s, err := g.load(ctx)
	if err != nil {
		return err
	}
	rep := s.Status(ctx)
	if g.format == "json" {
		// The config checksum lets print status --cluster compare the
		// versions the nodes run.
		data, err := os.ReadFile(g.configPath())
		if err != nil {
			return err
		}
		return g.writeJSON(&cluster.NodeStatus{StatusReport: rep.Visible(svc.StatusOptions{ShowDisabled: s.ShowDisabled()}), ConfigChecksum: store.Checksum(data)})
	}
	_, err = io.WriteString(g.stdout, rep.Render(svc.StatusOptions{ShowDisabled: s.ShowDisabled()}))
	return err
}

func (g *globals) printConfig(ctx context.Context) error {
	s, err := g.load(ctx)
	if err != nil {
		return err
	}
	opts := svc.RenderConfigOptions{ShowSecrets: g.showSecrets}
	if g.format == "json" {
		return g.writeJSON(map[string]string{"service": s.Name(), "file": s.File(), "config": s.RenderConfig(opts)})
	}
	return s.WriteConfig(g.stdout, opts)
}

// printChecksum prints the checksum of the config file without loading
// the service: the status of sync#i0 on the peers asks for it over SSH,
// and must not run this node's status (its sync would ask back).
func (g *globals) printChecksum(ctx context.Context) error {
	if g.svcname == "" {
		return usageError("missing -s SVC: expected the service name")
	}
	if g.format != "text" && g.format != "json" {
		return usageError("--format %q: expected text or json", g.format)
	}
	a := &cluster.Agent{Node: g.node, Root: g.root}
	sum, err := a.ConfigChecksum(ctx, g.svcname)
	if err != nil {
		return exitFor(err)
	}
	if g.format == "json" {
		return g.writeJSON(cluster.ConfigChecksum{Service: g.svcname, Node: g.node, Checksum: sum})
	}
	_, err = fmt.Fprintln(g.stdout, sum)
	return err
}

func (g *globals) validate(ctx context.Context) error {
	s, err := g.load(ctx)
	var ve *svc.ValidationError
	if errors.As(err, &ve) && g.format == "json" {
		g.writeJSON(map[string]any{"valid": false, "problems": ve.Problems})
		return &exitError{code: 2, err: fmt.Errorf("%d problems in %s", len(ve.Problems), g.configPath())}
	}
	if err != nil {
		return err
	}
	if g.format == "json" {
		return g.writeJSON(map[string]any{"valid": true, "service": s.Name(), "node": s.Node(), "resources": len(s.Resources())})
	}
	fmt.Fprintf(g.stdout, "%s: valid for node %s (%d resources)\n", g.configPath(), s.Node(), len(s.Resources()))
	return nil
}

// redactWriter passes every write through the service's redaction, so that
// no driver log line can print a secret of the configuration.
type redactWriter struct {
	mu sync.Mutex
	s  *svc.Service
	w  io.Writer
}

func (r *redactWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.WriteString(r.w, r.s.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (g *globals) action(ctx context.Context, a svc.Action, opts svc.ActionOptions) error {
	s, err := g.load(ctx)
	if err != nil {
		return err
	}
	errw := &redactWriter{s: s, w: g.stderr}
	ctx = resource.WithLogger(ctx, slog.New(slog.NewTextHandler(errw, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if g.format == "text" && !g.dryRun {
		ctx = resource.WithProgress(ctx, func(e resource.Event) {
			if e.Phase == resource.Started {
				return
			}
			line := fmt.Sprintf("%s %-16s %-12s %-8s %s", s.Node(), e.RID, e.Action, e.Phase, e.Duration.Round(time.Millisecond))
			if e.Error != "" {
				line += "  " + e.Error
			}
			fmt.Fprintln(errw, line)
		})
	}
	res, err := s.Do(ctx, a, opts)
	if g.format == "json" {
		if res != nil {
			g.writeJSON(res)
		}
	} else if res != nil && res.DryRun {
		fmt.Fprintf(g.stdout, "%s %s on %s: plan (%s scheduler), nothing changed\n", s.Name(), a, s.Node(), res.Scheduler)
		printPlan(g.stdout, res)
	} else if res != nil && err == nil {
		fmt.Fprintf(g.stdout, "%s %s on %s: %d resources in %s\n", s.Name(), a, s.Node(), len(res.Steps), res.Duration.Round(time.Millisecond))
	}
	if err != nil {
		var ve *svc.ValidationError
		if errors.As(err, &ve) {
			return &exitError{code: 2, err: err}
		}
		if res != nil && len(res.Steps) == 0 && len(res.Plan) == 0 {
			// Nothing ran: the request itself was wrong (selection, scheduler).
			return &exitError{code: 2, err: errors.New(s.Redact(err.Error()))}
		}
		return &exitError{code: 1, err: errors.New(s.Redact(err.Error()))}
	}
	return nil
}

// printPlan prints the waves of a dry-run result and, under each rid, what
// it would delete or keep (unprovision).
func printPlan(w io.Writer, res *svc.Result) {
	for i, wave := range res.Plan {
		fmt.Fprintf(w, "  wave %d: %s\n", i+1, strings.Join(wave, " "))
		for _, rid := range wave {
			for _, l := range res.PlanDetails[rid] {
				fmt.Fprintf(w, "    %s: %s\n", rid, l)
			}
		}
	}
}

// docker runs the docker command line with the selected containers'
// names and images expanded, as the reference's container manager
// passthrough does.
func (g *globals) docker(ctx context.Context, args []string) error {
	s, err := g.load(ctx)
	if err != nil {
		return err
	}
	sel := g.selection()
	res, err := s.Select(sel)
	if err != nil {
		return usageError("%v", err)
	}
	var names, images []string
	host := ""
	for _, r := range res {
		if resource.Group(r.RID()) != "container" {
			continue
		}
		cfg, _ := s.Config(r.RID())
		names = append(names, container.Name(cfg))
		if d, err := container.DaemonOf(cfg); err == nil && d.Private && d.Host != "" {
			host = d.Host // the service's private daemon (docker_data_dir)
		}
		if img := cfg.String("run_image"); img != "" && !slices.Contains(images, img) {
			images = append(images, img)
		}
	}
	var argv []string
	if host != "" {
		argv = append(argv, "-H", host)
	}
	for _, a := range args {
		switch a {
		case "%instances%":
			argv = append(argv, names...)
		case "%images%":
			argv = append(argv, images...)
		default:
			argv = append(argv, a)
		}
	}
	if g.dryRun || g.fake {
		fmt.Fprintf(g.stdout, "docker %s\n", s.Redact(strings.Join(argv, " ")))
		if g.fake {
			fmt.Fprintln(g.stderr, "svcmgr: --fake: the docker command is printed, not run")
		}
		return nil
	}
	cmd := exec.CommandContext(ctx, "docker", argv...)
	cmd.Stdout, cmd.Stderr = g.stdout, &redactWriter{s: s, w: g.stderr}
	if err := cmd.Run(); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("docker %s: %w", s.Redact(strings.Join(argv, " ")), err)}
	}
	return nil
}
