// Command nodemgr runs node (or service) compliance the way the reference's
// `nodemgr compliance` does, edits the node configuration and updates the
// compliance modules:
//
//	nodemgr [--root DIR] [--node NAME] compliance check|fix|fixable|auto|attach|detach|show
//	        [--moduleset M[,M]] [--module M[,M]] [--rules EXPORT.json] [--format text|json]
//	nodemgr [--root DIR] set --param SECTION.KEY --value V
//	nodemgr [--root DIR] get|unset --param SECTION.KEY
//	nodemgr [--root DIR] print config [--format text|json] [--show-secrets]
//	nodemgr [--root DIR] updatecomp [--format text|json] [--timeout D]
//	nodemgr [--root DIR] [--node NAME] register --collector URL [--app A] [--user U --password-file F] [--notify-addr H:P]
//	nodemgr [--root DIR] [--node NAME] pushasset|pushpkg
//	nodemgr [--root DIR] [--node NAME] dequeue actions [--timeout D]
//	nodemgr [--root DIR] [--node NAME] daemon run [--fake] [--interval D]
//	nodemgr [--root DIR] daemon status [--format text|json]
//	nodemgr [--root DIR] daemon events
//
// The node configuration is <root>/etc/node.conf, read and written by the
// nodeconf checker's functions; updatecomp installs the archive at
// <node.repocomp>/current in <root>/var/compliance/modules (compliance/modrepo).
//
// register stores node.dbopensvc (the collector's API URL) and node.uuid
// (the node's password to it, masked by print config and get);
// pushasset and pushpkg send the facts the compliance engine gathers.
// dequeue actions claims this node's queued actions and runs only those
// an allow-list of svcmgr and nodemgr verbs with validated arguments
// accepts (no shell, a timeout, bounded output), reporting the others as
// refused; it reads nothing on stdin, so that a socket unit can start it
// per connection of the collector's notification.
//
// The rules come from collector exports (--rules, repeatable; default
// <root>/var/compliance/rules.json): files, or URLs of the collector such
// as <node.dbopensvc>/compliance/nodes/self/rules, the node's effective
// rulesets, fetched with the node's credentials (sent only to the
// collector of node.conf). Exit status: 0 all modules ok, 1 a
// module nok or failed (or an error), 2 bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/examples/collector/client"
	"github.com/svckit/svckit/internal/nodename"
)

// usageError marks an error as the caller's: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// notOK marks a run that completed with modules not ok: exit status 1,
// nothing more to print.
var errNotOK = errors.New("some modules are not ok")

type globals struct {
	root       string
	node       string
	service    string
	procSys    string
	rules      []string
	modulesets []string
	modules    []string
	format     string
	env        []string
	path       string
	compobj    string
	// served are the modulesets a collector served (the roots of the
	// exports fetched from --rules URLs): the ones attached to the node
	// there, run when no --moduleset is given.
	served []string
	chroot bool
	dryRun bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdout)
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errNotOK):
		return 1
	}
	fmt.Fprintf(stderr, "nodemgr: %v\n", err)
	var ue usageError
	var um *compliance.UnknownModulesetError
	if errors.As(err, &ue) || errors.As(err, &um) || strings.HasPrefix(err.Error(), "unknown command") {
		return 2
	}
	return 1
}

const commands = "compliance, set, get, unset, print config, updatecomp, register, pushasset, pushpkg, dequeue actions or daemon"

func newRootCmd(stdout io.Writer) *cobra.Command {
	host, _ := os.Hostname()
	host = nodename.FromHost(host)
	g := &globals{}
	root := &cobra.Command{
		Use:           "nodemgr",
		Short:         "Node management: compliance, node configuration, compliance module updates",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("a command is required: %s", commands)
			}
			return usagef("unknown command %q: expected %s", args[0], commands)
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.root, "root", "/", "root directory the rules act under")
	pf.StringVar(&g.node, "node", host, "node name (facts, %%HOSTNAME%%)")

	comp := &cobra.Command{
		Use:   "compliance",
		Short: "Run compliance modules",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("compliance: an action is required: check, fix, fixable, auto, attach, detach or show")
			}
			return usagef("compliance: unknown action %q: expected check, fix, fixable, auto, attach, detach or show", args[0])
		},
	}
	cf := comp.PersistentFlags()
	cf.StringSliceVar(&g.modulesets, "moduleset", nil, "modulesets (comma separated); default the attached ones")
	cf.StringSliceVar(&g.modules, "module", nil, "modules of the modulesets to run (comma separated); default all")
	cf.StringArrayVar(&g.rules, "rules", nil, "collector export JSON: a file or an http(s) URL such as <collector>/init/rest/api/compliance/nodes/self/rules (repeatable); default <root>/var/compliance/rules.json")
	cf.StringVar(&g.format, "format", "text", "output format: text or json")
	cf.StringVar(&g.service, "svc", "", "service the modules run for (OSVC_COMP_SERVICES_SVC_NAME, its own attachments)")
	cf.StringVar(&g.procSys, "proc-sys", "", "live sysctl tree (default /proc/sys)")
	cf.StringArrayVar(&g.env, "env", nil, "KEY=VALUE added to the modules' environment (repeatable)")
	cf.StringVar(&g.path, "path", "", "PATH of the modules and of the package commands")
	cf.BoolVar(&g.dryRun, "dry-run", false, "fix: check and report, change nothing")
	cf.BoolVar(&g.chroot, "chroot-modules", false, "run the script modules chrooted in --root")
	cf.StringVar(&g.compobj, "compobj", "", "compobj binary to link as com.opensvc/*.py beside the modules")
	root.AddCommand(comp)
	addNodeConfCommands(root, g, stdout)
	addUpdateCompCommand(root, g, stdout)
	addCollectorCommands(root, g, stdout)
	addDaemonCommands(root, g, stdout)

	for _, a := range []compliance.Action{compliance.Check, compliance.Fix, compliance.Fixable, compliance.Auto} {
		comp.AddCommand(&cobra.Command{
			Use:   string(a),
			Short: string(a) + " the modules",
			Args:  noArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				eng, err := g.engine(c.Context())
				if err != nil {
					return err
				}
				rep, err := eng.Run(c.Context(), a, g.selection())
				if err != nil {
					return err
				}
				if g.format == "json" {
					err = rep.WriteJSON(stdout)
				} else {
					err = rep.WriteText(stdout)
				}
				if err != nil {
					return err
				}
				if !rep.AllOK() {
					return errNotOK
				}
				return nil
			},
		})
	}
	for _, attach := range []bool{true, false} {
		use := "attach"
		if !attach {
			use = "detach"
		}
		comp.AddCommand(&cobra.Command{
			Use:   use,
			Short: use + " modulesets (--moduleset)",
			Args:  noArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				if len(g.modulesets) == 0 {
					return usagef("compliance %s: --moduleset is required", use)
				}
				ctx := c.Context()
				eng, err := g.engine(ctx)
				if err != nil {
					return err
				}
				if attach {
					err = eng.Attach(ctx, g.modulesets...)
				} else {
					err = eng.Detach(ctx, g.modulesets...)
				}
				if err != nil {
					return err
				}
				att, err := eng.Attached(ctx)
				if err != nil {
					return err
				}
				if g.format == "json" {
					return json.NewEncoder(stdout).Encode(map[string][]string{"attached": att})
				}
				_, err = fmt.Fprintf(stdout, "attached modulesets: %s\n", strings.Join(att, ", "))
				return err
			},
		})
	}
	comp.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "show the modules and the environment each gets",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			eng, err := g.engine(c.Context())
			if err != nil {
				return err
			}
			infos, err := eng.Show(c.Context(), g.selection())
			if err != nil {
				return err
			}
			if g.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(infos)
			}
			return compliance.WriteModuleInfoText(stdout, infos)
		},
	})
	return root
}

// selection is what --moduleset and --module select; without
// --moduleset, the modulesets the collector served, if any (else the
// engine runs the locally attached ones).
func (g *globals) selection() compliance.Selection {
	sel := compliance.Selection{Modulesets: g.modulesets, Modules: g.modules}
	if len(sel.Modulesets) == 0 {
		sel.Modulesets = g.served
	}
	return sel
}

// rootModulesets are the modulesets of e that no other of e includes.
func rootModulesets(e *compliance.Export) []string {
	child := map[string]bool{}
	names := e.ModulesetNames()
	for _, n := range names {
		m, _ := e.Moduleset(n)
		for _, c := range m.Modulesets {
			child[c] = true
		}
	}
	var roots []string
	for _, n := range names {
		if !child[n] {
			roots = append(roots, n)
		}
	}
	return roots
}

// loadRules reads an export from a file or, for an http(s) URL, from the
// collector: the node's effective rules are at
// <node.dbopensvc>/compliance/nodes/self/rules. The node's credentials
// (node.uuid) go only to the collector of node.conf; a URL elsewhere is
// fetched with the credentials it holds, or none.
func (g *globals) loadRules(ctx context.Context, p string) (*compliance.Export, error) {
	if !client.IsURL(p) {
		return compliance.LoadExport(ctx, p)
	}
	api, err := g.nodeCollector()
	if err != nil {
		// No collector in node.conf: the URL alone says how to reach it.
		api = &client.API{}
	}
	e, ferr := api.FetchExport(ctx, p)
	if ferr != nil && err != nil {
		return nil, fmt.Errorf("--rules %s: %w (and no collector credentials: %v)", api.Redact(p), ferr, err)
	}
	if ferr != nil {
		return nil, fmt.Errorf("--rules: %w", ferr)
	}
	return e, nil
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", c.CommandPath(), args[0])
	}
	return nil
}

func (g *globals) engine(ctx context.Context) (*compliance.Engine, error) {
	if g.format != "text" && g.format != "json" {
		return nil, usagef("--format %q: expected text or json", g.format)
	}
	if err := nodename.Check(g.node); err != nil {
		return nil, usagef("--node: %v", err)
	}
	extra := map[string]string{}
	for _, kv := range g.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--env %q: expected KEY=VALUE", kv)
		}
		extra[k] = v
	}
	rules := g.rules
	if len(rules) == 0 {
		rules = []string{filepath.Join(g.root, "var", "compliance", "rules.json")}
	}
	var exports []*compliance.Export
	for _, p := range rules {
		e, err := g.loadRules(ctx, p)
		if err != nil {
			return nil, err
		}
		exports = append(exports, e)
	}
	export, err := compliance.Merge(exports...)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(rules, client.IsURL) {
		g.served = rootModulesets(export)
	}
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: g.root, Nodename: g.node, Path: g.path})
	if err != nil {
		return nil, err
	}
	// node.uuid is the node's password to the collector: the modules'
	// environment (OSVC_COMP_NODES_*) and reports never get it.
	delete(facts.Node, "uuid")
	opts := compliance.Options{
		Root:    g.root,
		ProcSys: g.procSys,
		Service: g.service,
		Env:     extra,
		Path:    g.path,

		ChrootScripts: g.chroot,
		DryRun:        g.dryRun,
	}
	eng, err := compliance.NewEngine(export, facts, opts)
	if err != nil {
		return nil, err
	}
	if g.compobj != "" {
		if err := compliance.InstallCompObj(ctx, eng.ModulesDir(), g.compobj); err != nil {
			return nil, err
		}
	}
	return eng, nil
}
