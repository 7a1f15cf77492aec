package compliance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/internal/suggest"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/resource/secret"
)

// Action is a compliance action.
type Action string

// Actions. Fix runs check, fixable, fix, check on each module; Auto fixes
// the autofix modules and checks the others.
const (
	Check   Action = "check"
	Fixable Action = "fixable"
	Fix     Action = "fix"
	Auto    Action = "auto"
)

// ParseAction reads an action name.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case Check, Fixable, Fix, Auto:
		return a, nil
	}
	return "", fmt.Errorf("action %q, expected check, fixable, fix or auto", s)
}

// Options configures an Engine. Zero values are the real system's.
type Options struct {
	// Root is the directory the rules act under; "" is /.
	Root string
	// ProcSys is the live sysctl tree; "" is /proc/sys.
	ProcSys string
	// NodeConf is the node configuration, a path inside Root; "" is
	// /etc/node.conf.
	NodeConf string
	// VarDir holds the attachments state and file backups; "" is
	// <Root>/var/compliance, where backups are written inside Root like
	// the files of the rules.
	VarDir string
	// ModulesDir holds the NN-name script modules and com.opensvc; "" is
	// <VarDir>/modules.
	ModulesDir string
	// Service is the service the modules run for ("" for the node): it
	// becomes OSVC_COMP_SERVICES_SVC_NAME and keys the attachments.
	Service string
	// ServiceVars are the other variables of the service, named as the
	// reference's collector names them (services.svc_nodes,
	// services.svc_app...): they become OSVC_COMP_<NAME> after the node
	// facts and before the rulesets' variables, which win.
	ServiceVars map[string]string
	// Env adds variables to every module's environment (and to the
	// native checkers' %%ENV:X%% lookups), after the compliance variables.
	Env map[string]string
	// Environ is the base environment of the modules; nil is the
	// process's.
	Environ []string
	// Path is the PATH of the modules and of the commands the checkers
	// run; "" keeps the base environment's.
	Path string
	// PackageBackend forces dpkg or rpm; "" chooses from the facts.
	PackageBackend string
	// ChrootScripts runs the script modules chrooted into Root, which must
	// then hold what they need (bash, coreutils, the compobj binary), so
	// that what a module reads or writes by absolute path is Root's too.
	// Without it a script module sees the real system, whatever Root says.
	ChrootScripts bool
	// DryRun makes fix stop after check and fixable: it reports what is
	// not conform and changes nothing. resource.WithDryRun on the context
	// does the same.
	DryRun bool
	// ModuleTimeout bounds one module action; 0 is 10 minutes.
	ModuleTimeout time.Duration
	// Logger receives one record per module action; nil discards.
	Logger *slog.Logger
	// Now stamps results and backups; nil is time.Now.
	Now func() time.Time
}

// Engine runs compliance actions for one node (or one service on it).
type Engine struct {
	export *Export
	facts  *Facts
	opts   Options
	// backupDir is the host directory of backups, "" for the one inside
	// Root.
	backupDir string
	// secrets gathers the values of secret-named variables and what
	// %%ENV:X%% substituted from them; module outputs, reports and logs
	// are redacted through it.
	secrets *secret.Set

	// objects keeps the checker objects parsed from a module's rules,
	// by module and class, with the variables they were parsed from: a
	// scheduled check runs the same rules again, and parsing their JSON
	// cost as much as checking them. Objects are read-only once parsed.
	objMu   sync.Mutex
	objects map[objectKey]parsedObject
	// secretNames remembers secret.IsName by variable name.
	secretNames sync.Map
}

type objectKey struct {
	module ModuleEntry
	class  string
}

type parsedObject struct {
	vars []checker.Var
	obj  checker.Object
}

// maxObjects bounds the parsed objects kept.
const maxObjects = 1024

// object returns the checker object of class for vars, parsed once for
// as long as module's variables are the same.
func (e *Engine) object(module ModuleEntry, class string, vars []checker.Var) (checker.Object, error) {
	key := objectKey{module, class}
	e.objMu.Lock()
	p, ok := e.objects[key]
	e.objMu.Unlock()
	if ok && slices.Equal(p.vars, vars) {
		return p.obj, nil
	}
	obj, err := checker.NewObject(class, vars)
	if err != nil {
		return nil, err
	}
	e.objMu.Lock()
	defer e.objMu.Unlock()
	if e.objects == nil || len(e.objects) >= maxObjects {
		e.objects = map[objectKey]parsedObject{}
	}
	e.objects[key] = parsedObject{vars: vars, obj: obj}
	return obj, nil
}

// isSecretName is secret.IsName remembered by name.
func (e *Engine) isSecretName(name string) bool {
	if v, ok := e.secretNames.Load(name); ok {
		return v.(bool)
	}
	is := secret.IsName(name)
	e.secretNames.Store(name, is)
	return is
}

// NewEngine returns an engine for export on the node facts describes.
func NewEngine(export *Export, facts *Facts, opts Options) (*Engine, error) {
	if export == nil || facts == nil {
		return nil, errors.New("compliance: NewEngine needs an export and facts")
	}
	if opts.Root == "" {
		opts.Root = "/"
	}
	backupDir := ""
	if opts.VarDir != "" {
		backupDir = filepath.Join(opts.VarDir, "backup")
	} else {
		opts.VarDir = filepath.Join(opts.Root, "var", "compliance")
	}
	if opts.ModulesDir == "" {
		opts.ModulesDir = filepath.Join(opts.VarDir, "modules")
	}
	if opts.ModuleTimeout == 0 {
		opts.ModuleTimeout = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PackageBackend == "" {
		opts.PackageBackend = facts.PackageBackend()
	}
	secrets := secret.NewSet()
	opts.Logger = slog.New(secret.NewHandler(opts.Logger.Handler(), secrets))
	return &Engine{export: export, facts: facts, opts: opts, backupDir: backupDir, secrets: secrets}, nil
}

// Selection picks the modules to run: the named modulesets (the attached
// ones when empty) and, within them, the named modules (all when empty).
type Selection struct {
	Modulesets []string
	Modules    []string
}

// Result is the outcome of one module.
type Result struct {
	Moduleset string        `json:"moduleset"`
	Module    string        `json:"module"`
	Kind      string        `json:"kind"` // script or native
	Autofix   bool          `json:"autofix"`
	Action    Action        `json:"action"`
	Status    string        `json:"status"` // ok, nok, n/a, failed
	RC        int           `json:"rc"`
	Output    string        `json:"output"`
	Start     time.Time     `json:"start"`
	Duration  time.Duration `json:"duration_ns"`
}

// Result statuses beyond the checker's ok, nok, n/a.
const StatusFailed = "failed"

// Report is the outcome of an action over modules.
type Report struct {
	Node       string   `json:"node"`
	Service    string   `json:"service,omitempty"`
	Action     Action   `json:"action"`
	Modulesets []string `json:"modulesets"`
	Results    []Result `json:"results"`
	Digest     Digest   `json:"digest"`
}

// Digest counts results by status and names the modules not ok.
type Digest struct {
	OK       int           `json:"ok"`
	NOK      int           `json:"nok"`
	NA       int           `json:"na"`
	Failed   int           `json:"failed"`
	NotOK    []string      `json:"not_ok,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// AllOK tells whether no module is nok or failed.
func (r *Report) AllOK() bool { return r.Digest.NOK == 0 && r.Digest.Failed == 0 }

type plannedModule struct {
	entry    ModuleEntry
	script   *Script
	order    int
	rulesets []*Ruleset // the moduleset's, what a native module checks
	envVars  []*Variable
	native   []*Variable
}

// automoduleOrder places native modules among NN-name scripts: 50, the
// order the reference's own modules use.
const automoduleOrder = 50

func (e *Engine) modulesets(ctx context.Context, sel Selection) ([]string, error) {
	if len(sel.Modulesets) > 0 {
		for _, n := range sel.Modulesets {
			if _, ok := e.export.Moduleset(n); !ok {
				return nil, &UnknownModulesetError{Name: n, Known: e.export.ModulesetNames()}
			}
		}
		return sel.Modulesets, nil
	}
	att, err := e.Attached(ctx)
	if err != nil {
		return nil, err
	}
	if len(att) == 0 {
		return nil, errors.New("compliance: no moduleset attached and none selected")
	}
	return att, nil
}

// UnknownModulesetError names a moduleset the export does not define.
type UnknownModulesetError struct {
	Name  string
	Known []string
}

func (e *UnknownModulesetError) Error() string {
	msg := fmt.Sprintf("compliance: moduleset %q is not defined", e.Name)
	if s, ok := suggest.Closest(e.Name, e.Known); ok {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// UnknownModuleError names modules that the selected modulesets do not
// hold.
type UnknownModuleError struct {
	Modules    []string
	Modulesets []string
}

func (e *UnknownModuleError) Error() string {
	return fmt.Sprintf("compliance: module %s is not in moduleset %s", strings.Join(e.Modules, ", "), strings.Join(e.Modulesets, ","))
}

func (e *Engine) plan(ctx context.Context, sel Selection) ([]string, []plannedModule, error) {
	names, err := e.modulesets(ctx, sel)
	if err != nil {
		return nil, nil, err
	}
	entries, err := e.export.ExpandModulesets(names)
	if err != nil {
		return nil, nil, err
	}
	if len(sel.Modules) > 0 {
		want := map[string]bool{}
		for _, m := range sel.Modules {
			want[m] = true
		}
		var kept []ModuleEntry
		for _, en := range entries {
			if want[en.Name] {
				kept = append(kept, en)
				delete(want, en.Name)
			}
		}
		if len(want) > 0 {
			return nil, nil, &UnknownModuleError{Modules: slices.Sorted(maps.Keys(want)), Modulesets: names}
		}
		entries = kept
	}
	scripts, err := FindScripts(ctx, e.opts.ModulesDir)
	if err != nil {
		return nil, nil, err
	}
	contextual, err := e.export.ContextualRulesets(e.facts)
	if err != nil {
		return nil, nil, err
	}
	var plan []plannedModule
	for _, en := range entries {
		ms, _ := e.export.Moduleset(en.Moduleset)
		rs, err := e.export.ModulesetRulesets(ms, e.facts)
		if err != nil {
			return nil, nil, err
		}
		pm := plannedModule{entry: en, order: automoduleOrder, rulesets: rs}
		if s, ok := scripts[en.Name]; ok {
			pm.script, pm.order = &s, s.Order
		}
		pm.envVars = mergeVariables(append(append([]*Ruleset(nil), contextual...), rs...))
		pm.native = mergeVariables(rs)
		plan = append(plan, pm)
	}
	sortModules(plan)
	return names, plan, nil
}

func (e *Engine) checkerEnv(lookup func(string) (string, bool), out, errw io.Writer) *checker.Env {
	return &checker.Env{
		Root:           e.opts.Root,
		ProcSys:        e.opts.ProcSys,
		NodeConf:       e.opts.NodeConf,
		BackupDir:      e.backupDir,
		Hostname:       e.facts.Nodename(),
		Lookup:         lookup,
		Path:           e.opts.Path,
		PackageBackend: e.opts.PackageBackend,
		Out:            out,
		Err:            errw,
		Now:            e.opts.Now,
		Secrets:        e.secrets,
	}
}

// moduleEnv is the environment a module gets, as KEY=VALUE in order:
// the base environment, the node facts (OSVC_COMP_NODES_*), the service
// (OSVC_COMP_SERVICES_SVC_NAME, Options.ServiceVars), the variables (OSVC_COMP_<NAME>), the
// checker locations (SVCKIT_COMP_*), Options.Env; a later one wins.
func (e *Engine) moduleEnv(pm plannedModule, base bool) []string {
	return e.moduleEnvAt(pm, base, false)
}

func (e *Engine) moduleEnvAt(pm plannedModule, base, chroot bool) []string {
	var env []string
	if base {
		env = e.opts.Environ
		if env == nil {
			env = os.Environ()
		}
		// Compliance variables of an outer run (nodemgr called from a
		// module) must not pass for rules of this one.
		env = slices.DeleteFunc(append([]string(nil), env...), func(kv string) bool {
			return strings.HasPrefix(kv, "OSVC_COMP_") || strings.HasPrefix(kv, "SVCKIT_COMP_")
		})
		if e.opts.Path != "" {
			env = append(env, "PATH="+e.opts.Path)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.facts.Node)) {
		env = append(env, checker.EnvName("nodes."+k)+"="+e.facts.Node[k])
	}
	if e.opts.Service != "" {
		env = append(env, checker.EnvName("services.svc_name")+"="+e.opts.Service)
	}
	for _, k := range slices.Sorted(maps.Keys(e.opts.ServiceVars)) {
		env = append(env, checker.EnvName(k)+"="+e.opts.ServiceVars[k])
	}
	for _, v := range pm.envVars {
		env = append(env, checker.EnvName(v.Name)+"="+v.Value)
	}
	cenv := e.checkerEnv(nil, nil, nil)
	if chroot {
		// The objects run inside Root: their paths are Root's own.
		cenv.Root = "/"
		cenv.ProcSys = e.inRoot(cenv.ProcSys)
		cenv.BackupDir = e.inRoot(cenv.BackupDir)
	}
	env = append(env, cenv.Environ()...)
	for _, k := range slices.Sorted(maps.Keys(e.opts.Env)) {
		env = append(env, k+"="+e.opts.Env[k])
	}
	env = dedupEnv(env)
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); e.isSecretName(k) {
			e.secrets.Add(v)
		}
	}
	return env
}

// dedupEnv keeps the last value of each key, at the place of its first.
func dedupEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// Run runs action on the selected modules, one after the other in NN
// order.
func (e *Engine) Run(ctx context.Context, action Action, sel Selection) (*Report, error) {
	if _, err := ParseAction(string(action)); err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	names, plan, err := e.plan(ctx, sel)
	if err != nil {
		return nil, err
	}
	rep := &Report{Node: e.facts.Nodename(), Service: e.opts.Service, Action: action, Modulesets: names}
	start := e.opts.Now()
	for _, pm := range plan {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		resource.Report(ctx, resource.Event{Node: rep.Node, RID: "compliance:" + pm.entry.Name, Action: string(action), Phase: resource.Started})
		res := e.runModule(ctx, pm, action)
		ev := resource.Event{Node: rep.Node, RID: "compliance:" + pm.entry.Name, Action: string(action), Phase: resource.Done, Duration: res.Duration}
		if res.Status != checker.OK.String() && res.Status != checker.NA.String() {
			ev.Phase, ev.Error = resource.Failed, "module is "+res.Status
		}
		resource.Report(ctx, ev)
		e.opts.Logger.Info("compliance module", "module", res.Module, "moduleset", res.Moduleset,
			"action", string(res.Action), "status", res.Status, "duration", res.Duration)
		rep.Results = append(rep.Results, res)
		switch res.Status {
		case checker.OK.String():
			rep.Digest.OK++
		case checker.NA.String():
			rep.Digest.NA++
		case StatusFailed:
			rep.Digest.Failed++
			rep.Digest.NotOK = append(rep.Digest.NotOK, res.Module)
		default:
			rep.Digest.NOK++
			rep.Digest.NotOK = append(rep.Digest.NotOK, res.Module)
		}
	}
	rep.Digest.Duration = e.opts.Now().Sub(start)
	return rep, nil
}

func (e *Engine) runModule(ctx context.Context, pm plannedModule, action Action) Result {
	res := Result{Moduleset: pm.entry.Moduleset, Module: pm.entry.Name, Kind: "native",
		Autofix: pm.entry.Autofix, Action: action, Start: e.opts.Now()}
	if pm.script != nil {
		res.Kind = "script"
	}
	var out bytes.Buffer
	step := func(a Action) (int, bool) {
		fmt.Fprintf(&out, "--- %s\n", a)
		rc, err := e.runStep(ctx, pm, a, &out)
		if err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
			return rc, false
		}
		return rc, true
	}
	finish := func(rc int, ok bool) Result {
		res.RC = rc
		switch {
		case !ok || rc > 2 || rc < 0:
			res.Status = StatusFailed
		default:
			res.Status = checker.Status(rc).String()
		}
		res.Output = e.secrets.Redact(out.String())
		res.Duration = e.opts.Now().Sub(res.Start)
		return res
	}
	if action == Auto {
		if pm.entry.Autofix {
			action = Fix
		} else {
			action = Check
		}
	}
	switch action {
	case Check, Fixable:
		return finish(step(action))
	}
	// fix: check, fixable, fix, check. A conform module is left alone.
	rc, ok := step(Check)
	if !ok || rc == 0 || rc == 2 {
		if ok && rc == 0 {
			fmt.Fprintf(&out, "already conform, nothing to fix\n")
		}
		return finish(rc, ok)
	}
	if rc, ok = step(Fixable); !ok {
		return finish(rc, ok)
	}
	if rc == 1 {
		fmt.Fprintf(&out, "not fixable\n")
		return finish(1, true)
	}
	if e.opts.DryRun || resource.IsDryRun(ctx) {
		fmt.Fprintf(&out, "dry run: fix not run\n")
		return finish(1, true)
	}
	if rc, ok = step(Fix); !ok {
		return finish(rc, ok)
	}
	if rc == 1 {
		return finish(1, true)
	}
	return finish(step(Check))
}

func (e *Engine) runStep(ctx context.Context, pm plannedModule, a Action, out io.Writer) (int, error) {
	if pm.script != nil {
		return e.runScript(ctx, pm, a, out)
	}
	return e.runNative(ctx, pm, a, out)
}

// lockedWriter serialises the stdout and stderr copies of a module.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *Engine) runScript(ctx context.Context, pm plannedModule, a Action, out io.Writer) (int, error) {
	if err := CheckScriptSafe(pm.script.Path); err != nil {
		return 1, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.ModuleTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pm.script.Path, string(a))
	cmd.Dir = e.opts.ModulesDir
	cmd.Env = e.moduleEnv(pm, true)
	if e.chroot() {
		inside, ok := e.insideRoot(pm.script.Path)
		dir, okDir := e.insideRoot(e.opts.ModulesDir)
		if !ok || !okDir {
			return 1, fmt.Errorf("%s: not under the root %s, cannot run it chrooted", pm.script.Path, e.opts.Root)
		}
		cmd = exec.CommandContext(ctx, inside, string(a))
		cmd.Dir = dir
		cmd.Env = e.moduleEnvAt(pm, true, true)
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: e.opts.Root}
	}
	var mu sync.Mutex
	cmd.Stdout = lockedWriter{&mu, out}
	cmd.Stderr = lockedWriter{&mu, out}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case ctx.Err() != nil:
		return -1, fmt.Errorf("%s %s: %w", pm.script.Path, a, ctx.Err())
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), nil
	}
	return -1, fmt.Errorf("%s %s: %w", pm.script.Path, a, err)
}

// nativeClasses is the order a native module applies its classes in:
// packages first since files and settings may belong to them.
var nativeClasses = []string{"package", "file", "sysctl", "nodeconf"}

func (e *Engine) runNative(ctx context.Context, pm plannedModule, a Action, out io.Writer) (int, error) {
	env := map[string]string{}
	for _, kv := range e.moduleEnv(pm, true) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	byClass := map[string][]checker.Var{}
	for _, v := range pm.native {
		if c := checker.Canonical(v.Class); c != "" {
			byClass[c] = append(byClass[c], checker.Var{Name: v.Name, Value: v.Value})
		}
	}
	cenv := e.checkerEnv(lookup, out, out)
	defer cenv.Close()
	var sts []checker.Status
	for _, class := range nativeClasses {
		vars := byClass[class]
		if len(vars) == 0 {
			continue
		}
		obj, err := e.object(pm.entry, class, vars)
		if err != nil {
			return 1, err
		}
		s, err := checker.Run(ctx, obj, cenv, string(a))
		if err != nil {
			return 1, err
		}
		sts = append(sts, s)
	}
	if len(sts) == 0 {
		fmt.Fprintf(out, "no rules for module %s\n", pm.entry.Name)
		return int(checker.NA), nil
	}
	return int(checker.Merge(sts...)), nil
}

// ModuleInfo is what `show` prints of a module: how it runs and the
// environment it gets.
type ModuleInfo struct {
	Moduleset string   `json:"moduleset"`
	Module    string   `json:"module"`
	Kind      string   `json:"kind"`
	Script    string   `json:"script,omitempty"`
	Autofix   bool     `json:"autofix"`
	Rulesets  []string `json:"rulesets"`
	Env       []EnvVar `json:"env"`
}

// EnvVar is a variable of a module's environment; secrets are redacted.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Show describes the selected modules and the environment each gets
// (without the inherited process environment), secrets redacted.
func (e *Engine) Show(ctx context.Context, sel Selection) ([]ModuleInfo, error) {
	_, plan, err := e.plan(ctx, sel)
	if err != nil {
		return nil, err
	}
	contextual, err := e.export.ContextualRulesets(e.facts)
	if err != nil {
		return nil, err
	}
	var out []ModuleInfo
	for _, pm := range plan {
		mi := ModuleInfo{Moduleset: pm.entry.Moduleset, Module: pm.entry.Name, Kind: "native", Autofix: pm.entry.Autofix}
		if pm.script != nil {
			mi.Kind, mi.Script = "script", pm.script.Path
		}
		seen := map[string]bool{}
		for _, rs := range append(append([]*Ruleset(nil), contextual...), pm.rulesets...) {
			if !seen[rs.Name] {
				seen[rs.Name] = true
				mi.Rulesets = append(mi.Rulesets, rs.Name)
			}
		}
		sort.Strings(mi.Rulesets)
		for _, kv := range e.moduleEnv(pm, false) {
			k, v, _ := strings.Cut(kv, "=")
			if secret.IsName(k) {
				v = secret.Placeholder
			}
			mi.Env = append(mi.Env, EnvVar{Name: k, Value: e.secrets.Redact(v)})
		}
		out = append(out, mi)
	}
	return out, nil
}

func (e *Engine) chroot() bool {
	return e.opts.ChrootScripts && filepath.Clean(e.opts.Root) != "/"
}

// insideRoot maps a path under Root to the path a chrooted module sees.
func (e *Engine) insideRoot(p string) (string, bool) {
	rel, err := filepath.Rel(e.opts.Root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.Join("/", rel), true
}

// inRoot is insideRoot for optional settings: "" stays "" and a path
// outside Root is kept as it is.
func (e *Engine) inRoot(p string) string {
	if p == "" {
		return ""
	}
	if in, ok := e.insideRoot(p); ok {
		return in
	}
	return p
}

// ModulesDir is where the engine looks for NN-name script modules.
func (e *Engine) ModulesDir() string { return e.opts.ModulesDir }

// Facts returns the node facts the engine filters with.
func (e *Engine) Facts() *Facts { return e.facts }

// Export returns the rules the engine runs.
func (e *Engine) Export() *Export { return e.export }
