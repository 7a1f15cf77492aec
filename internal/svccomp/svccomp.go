// Package svccomp runs the compliance of a service on a node, as the
// reference's `svcmgr -s SVC compliance ...` does: the glue between svc
// (the service's name, nodes, app, var directory) and compliance (the
// engine nodemgr uses), shared by examples/svcmgr and examples/spd.
//
// A service's attachments are its own: they live in
// <root>/var/<svc>/compliance/attachments.json (with the backups of the
// files its modules replace), apart from the node's in
// <root>/var/compliance. The modules are the node's
// (<root>/var/compliance/modules), and they get the service's variables
// as the reference's collector gives them (services.svc_name,
// services.svc_nodes, ... as OSVC_COMP_SERVICES_*; see Vars), before the
// variables of the rulesets.
package svccomp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
)

// Actions are the verbs of `svcmgr compliance`.
var Actions = []string{"check", "fix", "fixable", "attach", "detach", "show", "list"}

// Request is one compliance command for a service.
type Request struct {
	Action     string   `json:"action"`
	Modulesets []string `json:"modulesets,omitempty"`
	Modules    []string `json:"modules,omitempty"`
	// Rules are collector export files; empty is
	// <root>/var/compliance/rules.json of each node.
	Rules  []string `json:"rules,omitempty"`
	DryRun bool     `json:"dry_run,omitempty"`
}

// UsageError is a request that is wrong whatever the node: svcmgr exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Check refuses an unknown action, and attach or detach without
// modulesets.
func (r Request) Check() error {
	if !slices.Contains(Actions, r.Action) {
		return &UsageError{fmt.Errorf("compliance: action %q, expected one of %s", r.Action, strings.Join(Actions, ", "))}
	}
	if (r.Action == "attach" || r.Action == "detach") && len(r.Modulesets) == 0 {
		return &UsageError{fmt.Errorf("compliance %s: --moduleset is required", r.Action)}
	}
	return nil
}

// Args are the svcmgr arguments that run the request on a peer (the
// service, node and --format json are the transport's).
func (r Request) Args() []string {
	var a []string
	if r.DryRun {
		a = append(a, "--dry-run")
	}
	a = append(a, "compliance", r.Action)
	if len(r.Modulesets) > 0 {
		a = append(a, "--moduleset", strings.Join(r.Modulesets, ","))
	}
	if len(r.Modules) > 0 {
		a = append(a, "--module", strings.Join(r.Modules, ","))
	}
	for _, f := range r.Rules {
		a = append(a, "--rules", f)
	}
	return a
}

// Options say where the node's compliance lives.
type Options struct {
	// Root is the node's root ("" is /): the modules, the default rules
	// and the files the rules name are under it.
	Root string
	// Export is the rules; nil loads Request.Rules.
	Export *compliance.Export
	// Path is the PATH of the modules ("" keeps the process's).
	Path string
	// Env adds variables to the modules' environment.
	Env map[string]string
	// ChrootScripts runs the script modules chrooted in Root, so that
	// what they glob by absolute path (/<svc>/pod*) is the node's.
	ChrootScripts bool
	// Around, when set, runs what Command does on the node (the engine
	// and its modules) through fn: in a mount namespace where the
	// node's pods are mounted (examples/spd), for instance.
	Around func(ctx context.Context, fn func() error) error
}

// Vars are the service's variables as the reference's collector gives
// them to service compliance (its services table, "osvc_service"
// ruleset) and as its agent adds them (svc_name, svc_path), for what the
// config says: name, nodes, drpnodes, app, environment, topology,
// autostart nodes. services.svc_name itself is the engine's
// (compliance.Options.Service).
func Vars(s *svc.Service) map[string]string {
	v := map[string]string{
		"services.svc_nodes":        strings.Join(s.Nodes(), " "),
		"services.svc_drpnodes":     strings.Join(s.DRPNodes(), " "),
		"services.svc_cluster_type": s.Topology(),
		"services.svc_topology":     s.Topology(),
		"svc_name":                  s.Name(),
		"svc_path":                  s.Name(),
	}
	if len(s.DRPNodes()) > 0 {
		v["services.svc_drpnode"] = s.DRPNodes()[0]
	}
	set := func(name, kw string) {
		if val := s.Keywords()[kw]; val != "" {
			v[name] = val
		}
	}
	set("services.svc_app", "app")
	set("services.svc_autostart", "autostart_node")
	set("services.svc_env", "service_type")
	set("services.svc_env", "env")
	set("services.svc_type", "service_type")
	set("services.svc_type", "env")
	// The [env] section, as the reference gives it to the service's
	// modules: OSVC_COMP_SVC_CONF_ENV_<KEY>.
	for k, val := range s.Env() {
		v["svc_conf_env_"+k] = val
	}
	return v
}

// NewEngine returns the compliance engine of service s on its node.
func NewEngine(ctx context.Context, s *svc.Service, req Request, o Options) (*compliance.Engine, error) {
	if s.VarDir() == "" {
		return nil, fmt.Errorf("compliance: service %s has no var directory for its attachments", s.Name())
	}
	root := o.Root
	if root == "" {
		root = "/"
	}
	export := o.Export
	if export == nil {
		rules := req.Rules
		if len(rules) == 0 {
			rules = []string{filepath.Join(root, "var", "compliance", "rules.json")}
		}
		var exports []*compliance.Export
		for _, p := range rules {
			e, err := compliance.LoadExport(ctx, p)
			if err != nil {
				return nil, err
			}
			exports = append(exports, e)
		}
		var err error
		if export, err = compliance.Merge(exports...); err != nil {
			return nil, err
		}
	}
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: root, Nodename: s.Node(), Path: o.Path})
	if err != nil {
		return nil, err
	}
	return compliance.NewEngine(export, facts, compliance.Options{
		Root:          root,
		VarDir:        filepath.Join(s.VarDir(), "compliance"),
		ModulesDir:    filepath.Join(root, "var", "compliance", "modules"),
		Service:       s.Name(),
		ServiceVars:   Vars(s),
		Env:           o.Env,
		Path:          o.Path,
		ChrootScripts: o.ChrootScripts,
		DryRun:        req.DryRun,
	})
}

// NodeReport is the outcome of a request on one node; svcmgr prints it
// with --format json.
type NodeReport struct {
	Node    string `json:"node"`
	Service string `json:"service"`
	Action  string `json:"action"`
	// Report is the modules' results (check, fix, fixable).
	Report *compliance.Report `json:"report,omitempty"`
	// Attached are the service's modulesets (attach, detach, list).
	Attached []string `json:"attached,omitempty"`
	// Modulesets are those the rules define (list).
	Modulesets []string `json:"modulesets,omitempty"`
	// Modules describe the selected modules (show).
	Modules []compliance.ModuleInfo `json:"modules,omitempty"`
}

// OK tells whether no module is nok or failed.
func (r *NodeReport) OK() bool { return r.Report == nil || r.Report.AllOK() }

// ErrNotOK is a run whose modules are not all ok.
var ErrNotOK = errors.New("some modules are not ok")

// Run runs the request with eng. Modules not ok are a report, not an
// error: see NodeReport.OK.
func Run(ctx context.Context, eng *compliance.Engine, s *svc.Service, req Request) (*NodeReport, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	rep := &NodeReport{Node: s.Node(), Service: s.Name(), Action: req.Action}
	sel := compliance.Selection{Modulesets: req.Modulesets, Modules: req.Modules}
	var err error
	switch req.Action {
	case "check", "fix", "fixable":
		rep.Report, err = eng.Run(ctx, compliance.Action(req.Action), sel)
		return rep, err
	case "attach":
		err = eng.Attach(ctx, req.Modulesets...)
	case "detach":
		err = eng.Detach(ctx, req.Modulesets...)
	case "show":
		rep.Modules, err = eng.Show(ctx, sel)
		return rep, err
	case "list":
		rep.Modulesets = eng.Export().ModulesetNames()
	}
	if err != nil {
		return nil, err
	}
	rep.Attached, err = eng.Attached(ctx)
	return rep, err
}

// WriteText renders a node's report for a terminal.
func (r *NodeReport) WriteText(w io.Writer) error {
	switch {
	case r.Report != nil:
		return r.Report.WriteText(w)
	case r.Action == "show":
		return compliance.WriteModuleInfoText(w, r.Modules)
	case r.Action == "list":
		var b strings.Builder
		for _, m := range r.Modulesets {
			mark := " "
			if slices.Contains(r.Attached, m) {
				mark = "*"
			}
			fmt.Fprintf(&b, "%s %s\n", mark, m)
		}
		fmt.Fprintf(&b, "(* attached to %s on %s)\n", r.Service, r.Node)
		_, err := io.WriteString(w, b.String())
		return err
	}
	_, err := fmt.Fprintf(w, "%s@%s attached modulesets: %s\n", r.Service, r.Node, strings.Join(r.Attached, ", "))
	return err
}

// Command is the request as a cluster command: the agents of this process
// load the service and run it with the options opts gives for the agent;
// the SSH peers run svcmgr with Request.Args. A node whose modules are not
// all ok returns its report and ErrNotOK.
func Command(req Request, opts func(a *cluster.Agent) Options) cluster.Command {
	return cluster.Command{
		Name: "compliance " + req.Action,
		Args: req.Args(),
		Local: func(ctx context.Context, a *cluster.Agent, svcname string) (json.RawMessage, error) {
			s, err := a.Load(ctx, svcname)
			if err != nil {
				return nil, err
			}
			o := Options{Root: a.Root}
			if opts != nil {
				o = opts(a)
			}
			var rep *NodeReport
			work := func() error {
				eng, err := NewEngine(ctx, s, req, o)
				if err != nil {
					return err
				}
				rep, err = Run(ctx, eng, s, req)
				return err
			}
			if o.Around != nil {
				err = o.Around(ctx, work)
			} else {
				err = work()
			}
			if err != nil {
				return nil, err
			}
			out, err := json.Marshal(rep)
			if err != nil {
				return nil, err
			}
			if !rep.OK() {
				return out, fmt.Errorf("%s: %w: %s", a.Node, ErrNotOK, strings.Join(rep.Report.Digest.NotOK, ", "))
			}
			return out, nil
		},
	}
}
