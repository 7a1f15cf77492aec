package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/internal/svccomp"
	"github.com/svckit/svckit/svc/cluster"
)

// compFlags are the flags of `svcmgr compliance`.
type compFlags struct {
	modulesets, modules, rules []string
	chroot                     bool
}

// complianceCmd is the reference's service compliance:
//
//	svcmgr -s SVC [--cluster] compliance check|fix|fixable|attach|detach|show|list
//	       [--moduleset M[,M]] [--module M[,M]] [--rules EXPORT.json]
//
// Exit codes as nodemgr's: 0 every module ok, 1 a module nok or failed
// (on any node), 2 bad usage (an unknown moduleset among them).
func complianceCmd(g *globals) *cobra.Command {
	cf := &compFlags{}
	verbs := strings.Join(svccomp.Actions, ", ")
	comp := &cobra.Command{
		Use:   "compliance ACTION",
		Short: "service compliance: " + verbs + " (the service's own attachments)",
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("compliance: an action is required: %s", verbs)
			}
			return usageError("compliance: unknown action %q: expected one of %s", args[0], verbs)
		},
	}
	f := comp.PersistentFlags()
	f.StringSliceVar(&cf.modulesets, "moduleset", nil, "modulesets (comma separated); default the service's attached ones")
	f.StringSliceVar(&cf.modules, "module", nil, "modules of the modulesets to run (comma separated); default all")
	f.StringArrayVar(&cf.rules, "rules", nil, "collector export JSON file (repeatable); default <root>/var/compliance/rules.json")
	f.BoolVar(&cf.chroot, "chroot-modules", false, "run the script modules chrooted in --root (what they glob, /<svc>/pod*, is then the root's)")
	for _, a := range svccomp.Actions {
		comp.AddCommand(&cobra.Command{
			Use: a, Short: a + " the service's modules", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return g.compliance(cmd.Context(), cf, a)
			},
		})
	}
	return comp
}

func (g *globals) compliance(ctx context.Context, cf *compFlags, action string) error {
	req := svccomp.Request{Action: action, Modulesets: cf.modulesets, Modules: cf.modules, DryRun: g.dryRun}
	for _, r := range cf.rules {
		// The peers of --cluster read the same path.
		abs, err := filepath.Abs(r)
		if err != nil {
			return usageError("--rules %s: %v", r, err)
		}
		req.Rules = append(req.Rules, abs)
	}
	if err := req.Check(); err != nil {
		return usageError("%v", err)
	}
	s, err := g.load(ctx)
	if err != nil {
		return err
	}
	opts := svccomp.Options{Root: g.root, ChrootScripts: cf.chroot}
	// The request is checked here first, on --cluster too: a moduleset
	// the rules do not define is a usage error with its "did you mean",
	// not one failure per node.
	eng, err := svccomp.NewEngine(ctx, s, req, opts)
	if err != nil {
		return compExit(err)
	}
	if len(req.Modulesets) > 0 && action != "detach" {
		for _, m := range req.Modulesets {
			if _, ok := eng.Export().Moduleset(m); !ok {
				return compExit(&compliance.UnknownModulesetError{Name: m, Known: eng.Export().ModulesetNames()})
			}
		}
	}
	if g.cl.cluster {
		return g.complianceCluster(ctx, req, cf)
	}
	rep, err := svccomp.Run(ctx, eng, s, req)
	if err != nil {
		return compExit(err)
	}
	if g.format == "json" {
		err = g.writeJSON(rep)
	} else {
		err = rep.WriteText(g.stdout)
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		return &exitError{code: 1, err: fmt.Errorf("%s on %s: %w: %s", s.Name(), s.Node(), svccomp.ErrNotOK, strings.Join(rep.Report.Digest.NotOK, ", "))}
	}
	return nil
}

// compExit maps compliance errors to exit codes: 2 for the request
// (unknown moduleset, unknown module, bad action), 1 for the rest
// (unreadable rules, a module that failed).
func compExit(err error) error {
	var um *compliance.UnknownModulesetError
	var umod *compliance.UnknownModuleError
	var ue *svccomp.UsageError
	var ee *exitError
	switch {
	case errors.As(err, &um), errors.As(err, &umod), errors.As(err, &ue):
		return &exitError{code: 2, err: err}
	case errors.As(err, &ee):
		return err
	}
	// A missing rules file is a failure, as in nodemgr.
	return &exitError{code: 1, err: err}
}

// complianceCluster runs the request on every node of the service from
// the flex primary and prints each node's report.
func (g *globals) complianceCluster(ctx context.Context, req svccomp.Request, cf *compFlags) error {
	c, done, err := g.newCluster(false, false)
	if err != nil {
		return err
	}
	defer done()
	res, err := c.Exec(ctx, g.svcname, svccomp.Command(req, func(a *cluster.Agent) svccomp.Options {
		return svccomp.Options{Root: a.Root, ChrootScripts: cf.chroot}
	}))
	if res != nil {
		if g.format == "json" {
			g.writeJSON(res)
		} else {
			for _, n := range sortedNodes(res.Nodes) {
				nr := res.Nodes[n]
				fmt.Fprintf(g.stdout, "@%s\n", n)
				var rep svccomp.NodeReport
				if len(nr.Output) > 0 && json.Unmarshal(nr.Output, &rep) == nil {
					rep.WriteText(g.stdout)
				}
				if nr.Error != "" {
					fmt.Fprintf(g.stdout, "  FAILED: %s\n", nr.Error)
				}
			}
		}
	}
	return exitFor(err)
}
