package svc

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/internal/inifile"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/internal/suggest"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/resource/secret"
)

// Options say how a configuration is loaded.
type Options struct {
	// Node is the name of the node the configuration is loaded for: it
	// selects the scoped keys (key@<node>) and the resources that run
	// here. Default: the host name.
	Node string
	// Svcname is the service name. Default: the file name without
	// its .conf extension.
	Svcname string
	// Registry holds the drivers. Default: driver.Default().
	Registry *driver.Registry
	// Root is the directory holding etc/<svc>.conf and var/<svc>/.
	// Default for Load: DefaultRoot of the config file.
	Root string
	// VarDir overrides <Root>/var/<svcname>, the service's state
	// directory (locks, driver state).
	VarDir string
	// NoTriggers disables the pre_/post_ action commands
	// (post_provision, ...): fake runs must not touch the host.
	NoTriggers bool
}

// Service is a configuration loaded for one node, with its resources.
type Service struct {
	name        string
	node        string
	file        string
	nodes       []string
	drpNodes    []string
	flexPrimary string
	topology    string
	// keywords holds the DEFAULT section scoped for node, with defaults.
	keywords map[string]string
	// resources holds every resource section, disabled ones included,
	// sorted by group order then rid.
	resources []resource.Resource

	configs    map[string]driver.Config
	subsets    map[string]bool // "disk:cge" -> parallel
	raw        *rawConfig
	text       string // the configuration file as read
	varDir     string
	noTriggers bool
	secrets    *secret.Set
	env        map[string]string // the [env] section, resolved for node
}

// Load reads the configuration file at path for opts.Node.
func Load(ctx context.Context, path string, opts Options) (*Service, error) {
	data, err := readConfig(path)
	if err != nil {
		return nil, fmt.Errorf("load service config: %w", err)
	}
	if opts.Root == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("load service config: %w", err)
		}
		opts.Root = DefaultRoot(abs)
	}
	return Parse(ctx, path, data, opts)
}

// DefaultRoot is the root Load uses when Options.Root is empty, for the
// config file at path: the parent of its directory when that directory
// is named etc (<root>/etc/<svc>.conf, the layout svcmgr and the cluster
// agent use), else the config's own directory, so that the state never
// lands beside an unrelated directory (/etc/svckit/x.conf keeps its
// state in /etc/svckit/var/x, not /etc/var/x).
func DefaultRoot(path string) string {
	dir := filepath.Dir(filepath.Clean(path))
	if filepath.Base(dir) == "etc" {
		return filepath.Dir(dir)
	}
	return dir
}

// readConfig reads at most MaxFileSize+1 bytes of path: a larger file
// (or /dev/zero) is reported by Parse as too large instead of filling
// the memory first.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// Parse reads a configuration from data; filename names it in errors and
// gives the default service name.
func Parse(ctx context.Context, filename string, data []byte, opts Options) (*Service, error) {
	if opts.Registry == nil {
		opts.Registry = driver.Default()
	}
	if opts.Node == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("node name: %w", err)
		}
		opts.Node = nodename.FromHost(h)
	}
	if err := nodename.Check(opts.Node); err != nil {
		return nil, fmt.Errorf("load %s: %w", filename, err)
	}
	if opts.Svcname == "" {
		opts.Svcname = strings.TrimSuffix(filepath.Base(filename), ".conf")
	}
	raw, err := parseRaw(filename, data, ctx.Err)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("load %s: %w", filename, err)
		}
		return nil, redactSyntaxError(data, err)
	}
	l := &loader{ctx: ctx, opts: opts, raw: raw, reg: opts.Registry, limits: limits{budget: expansionBudget(len(data))}}
	s := l.load(ctx)
	if err := ctx.Err(); err != nil {
		// A driver factory that gave up on the cancelled context says
		// nothing of the config: report the cancellation, not a problem.
		return nil, fmt.Errorf("load %s: %w", filename, err)
	}
	s.secrets = l.secretSet
	s.env = l.env
	if problems := l.allProblems(data); len(problems) > 0 {
		return nil, &ValidationError{Problems: redactProblems(s.secrets, problems)}
	}
	s.text = string(data) // a copy: the caller may reuse data
	return s, nil
}

type loader struct {
	ctx      context.Context
	opts     Options
	raw      *rawConfig
	reg      *driver.Registry
	problems []Problem
	s        *Service
	// env holds the resolved [env] keys; envKeys the variant of each
	// that applies to this node, resolved on first use so that an env
	// key may reference one written after it.
	env      map[string]string
	envKeys  map[string]rawKey
	envState map[string]int // 1 resolving, 2 resolved
	// secretSet holds the secret values of the config, collected once
	// the env keys are resolved.
	secretSet *secret.Set
	// badDefaults remembers the DEFAULT driver keywords already reported
	// as unfit for a driver, so that 32 sections give one problem.
	badDefaults map[string]bool
	// nodeSet holds nodes and drpnodes; inNodes and inDRPNodes say
	// where this node is; drpFlexPrimary is DEFAULT's drp_flex_primary.
	nodeSet             map[string]bool
	inNodes, inDRPNodes bool
	drpFlexPrimary      string
	limits              // bounds of reference expansion (expand.go)
	// drivers, defaults and expandedBuf save the work every section of
	// a driver would repeat (see driverKeywords, driverDefault).
	drivers     map[string]*driverKeywords
	expandedBuf []string
	bestBuf     []int
	rankBuf     []int
	valuesBuf   [][2]string
	secretNames map[string]bool
	dropped     int // problems beyond MaxProblems
}

func (l *loader) problem(line int, section, keyword, format string, args ...any) {
	if len(l.problems) >= MaxProblems {
		l.dropped++
		return
	}
	l.problems = append(l.problems, Problem{File: l.raw.File, Line: line, Section: section, Keyword: keyword, Message: fmt.Sprintf(format, args...)})
}

const defaultSection = inifile.DefaultSection

func (l *loader) load(ctx context.Context) *Service {
	s := &Service{name: l.opts.Svcname, node: l.opts.Node, file: l.raw.File, configs: make(map[string]driver.Config, len(l.raw.Sections)+1), subsets: map[string]bool{}, raw: l.raw, noTriggers: l.opts.NoTriggers}
	l.s = s
	s.varDir = l.opts.VarDir
	if s.varDir == "" && l.opts.Root != "" {
		s.varDir = filepath.Join(l.opts.Root, "var", s.name)
	}
	def := l.raw.section(defaultSection)
	if def == nil {
		def = &rawSection{Name: defaultSection}
	}
	// Node sets first: scoping depends on them.
	s.nodes = strings.Fields(plain(def, "nodes"))
	if len(s.nodes) == 0 {
		s.nodes = []string{s.node}
	}
	s.drpNodes = strings.Fields(plain(def, "drpnodes"))
	s.flexPrimary = plain(def, "flex_primary")
	if s.flexPrimary == "" {
		s.flexPrimary = s.nodes[0]
	}
	l.checkNodeNames(def)
	l.indexNodes(def)
	if !l.inNodes && !l.inDRPNodes {
		l.problem(keyLine(def, "nodes"), defaultSection, "nodes", "node %q is not one of the service's nodes (%s) or drpnodes: expected to load the config for one of them", s.node, strings.Join(append(append([]string{}, s.nodes...), s.drpNodes...), " "))
	}
	if s.flexPrimary != "" && !slices.Contains(s.nodes, s.flexPrimary) {
		l.problem(keyLine(def, "flex_primary"), defaultSection, "flex_primary", "%q is not one of nodes (%s)", s.flexPrimary, strings.Join(s.nodes, " "))
	}
	l.env, l.envKeys, l.envState = map[string]string{}, map[string]rawKey{}, map[string]int{}
	if env := l.raw.section("env"); env != nil {
		for i, k := range env.Keys {
			if l.stopped(i) {
				return s
			}
			l.checkScope(env, k, true)
			if best, ok := l.lookup(env, k.Name); ok {
				l.envKeys[k.Name] = best
			}
		}
		for i, k := range env.Keys {
			if l.stopped(i) {
				return s
			}
			l.resolveEnv(k.Name)
		}
	}
	// Secrets next: validation messages must not show them.
	l.secretSet = l.secrets()
	l.loadDefault(def)
	for i, sec := range l.raw.Sections {
		if l.stopped(i) {
			return s
		}
		switch {
		case sec.Name == defaultSection, sec.Name == "env":
		case strings.HasPrefix(sec.Name, "subset#"):
			l.loadSubset(sec)
		case strings.Contains(sec.Name, "#"):
			l.loadResourceSection(sec)
		default:
			l.problem(sec.Line, sec.Name, "", "unknown section: expected DEFAULT, env, subset#<group>:<name> or <group>#<name> (like fs#01)")
		}
	}
	l.addImplicitSync()
	l.addImplicitDockerd()
	l.checkRidReferences()
	l.checkClaims()
	if len(l.problems) > 0 || l.dropped > 0 || l.limitProblems() {
		return s
	}
	for i, sec := range l.raw.Sections {
		if l.stopped(i) {
			return s
		}
		cfg, ok := s.configs[sec.Name]
		if !ok {
			continue
		}
		l.build(ctx, sec, cfg)
	}
	for _, rid := range []string{implicitSyncRID, implicitDockerdRID} {
		if cfg, ok := s.configs[rid]; ok && l.raw.section(rid) == nil {
			l.build(ctx, &rawSection{Name: rid}, cfg)
		}
	}
	sortResources(s.resources)
	return s
}

func (l *loader) build(ctx context.Context, sec *rawSection, cfg driver.Config) {
	d, _ := l.reg.Lookup(cfg.Manifest.ID)
	r, err := d.New(ctx, cfg)
	if err != nil {
		l.factoryProblem(sec, err)
		return
	}
	if r == nil {
		l.problem(sec.Line, sec.Name, "", "driver %s made no resource", cfg.Manifest.ID)
		return
	}
	if _, former := r.(interface{ Uses() []string }); former {
		// It would silently lose its ordering by uses.
		l.problem(sec.Line, sec.Name, "", "driver %s: Uses() []string is the former resource.User: return (uses []string, order resource.Ordering)", cfg.Manifest.ID)
		return
	}
	l.s.resources = append(l.s.resources, r)
}

// factoryProblem reports a driver's refusal of a section: at the line of
// the keyword it names (a driver.KeywordError; the variant that applies
// to this node), else at the section's line. The section is the
// problem's, so a leading "<rid>: " of the message is dropped.
func (l *loader) factoryProblem(sec *rawSection, err error) {
	line, keyword, msg := sec.Line, "", err.Error()
	if ke, ok := driver.AsKeywordError(err); ok {
		keyword, msg = ke.Keyword, ke.Err.Error()
		if k, ok := l.lookup(sec, ke.Keyword); ok {
			line = k.Line
		}
	}
	msg = strings.TrimPrefix(msg, sec.Name+": ")
	l.problem(line, sec.Name, keyword, "%s", msg)
}

// plain returns the unscoped value of key in sec.
func plain(sec *rawSection, key string) string {
	for _, k := range sec.variants(key) {
		if k.Scope == "" {
			return k.Value
		}
	}
	return ""
}

func keyLine(sec *rawSection, key string) int {
	if v := sec.variants(key); len(v) > 0 {
		return v[0].Line
	}
	return sec.Line
}

// rank orders the variants of a key for this node: key@<node> wins over
// key@flex_primary, key@nodes, key@drpnodes, which win over key. -1 means
// the variant does not apply here.
func (l *loader) rank(scope string) int {
	s := l.s
	switch scope {
	case "":
		return 0
	case s.node:
		return 5
	case "flex_primary":
		if s.node == s.flexPrimary {
			return 4
		}
	case "drp_flex_primary":
		if s.node == l.drpFlexPrimary {
			return 4
		}
	case "nodes":
		if l.inNodes {
			return 3
		}
	case "drpnodes":
		if l.inDRPNodes {
			return 2
		}
	case "encapnodes":
		return -1
	}
	return -1
}

// checkNodeNames reports every name of nodes, drpnodes, flex_primary
// and drp_flex_primary that is not a valid node name: a node called
// "nodes" would take the key@nodes variants as its own.
func (l *loader) checkNodeNames(def *rawSection) {
	for _, k := range def.Keys {
		switch k.Name {
		case "nodes", "drpnodes", "flex_primary", "drp_flex_primary":
		default:
			continue
		}
		seen := map[string]bool{}
		for _, n := range strings.Fields(k.Value) {
			if err := nodename.Check(n); err != nil {
				l.problem(k.Line, def.Name, k.Name, "%v", err)
			} else if seen[n] {
				l.problem(k.Line, def.Name, k.Name, "node %q is listed twice", n)
			}
			seen[n] = true
		}
	}
}

func (l *loader) defaultRaw() *rawSection {
	if d := l.raw.section(defaultSection); d != nil {
		return d
	}
	return &rawSection{}
}

// lookup returns the variant of key name that applies to this node.
func (l *loader) lookup(sec *rawSection, name string) (rawKey, bool) {
	if i := l.lookupIndex(sec, name); i >= 0 {
		return sec.Keys[i], true
	}
	return rawKey{}, false
}

// lookupIndex returns the index in sec.Keys of the variant of key name
// that applies to this node, -1 for none. It allocates nothing: it runs
// for every keyword of every section.
func (l *loader) lookupIndex(sec *rawSection, name string) int {
	best, bestRank := -1, -1
	if sec.byKey != nil {
		for _, i := range sec.byKey[name] {
			if r := l.rank(sec.Keys[i].Scope); r > bestRank {
				best, bestRank = i, r
			}
		}
		return best
	}
	for i := range sec.Keys {
		if sec.Keys[i].Name != name {
			continue
		}
		if r := l.rank(sec.Keys[i].Scope); r > bestRank {
			best, bestRank = i, r
		}
	}
	return best
}

// checkScope reports a scope naming an unknown node, and scoping on a
// keyword that does not allow it.
func (l *loader) checkScope(sec *rawSection, k rawKey, scopable bool) {
	if k.Scope == "" {
		return
	}
	if !scopable {
		l.problem(k.Line, sec.Name, k.Name+"@"+k.Scope, "keyword %s cannot be scoped: expected %s = <value> without @", k.Name, k.Name)
		return
	}
	if nodename.IsScopeWord(k.Scope) {
		return
	}
	if !l.nodeSet[k.Scope] {
		l.problem(k.Line, sec.Name, k.Name+"@"+k.Scope, "scope %q is not a node of the service: expected one of %s, or nodes, drpnodes, flex_primary", k.Scope, strings.Join(append(append([]string{}, l.s.nodes...), l.s.drpNodes...), " "))
	}
}

var refPattern = regexp.MustCompile(`\{[^{}\s]*\}`)

// expand resolves the references of k's value: {svcname}, {nodename},
// {rid}, {env.<key>}, {nodes}, {drpnodes}, {flex_primary}. "${...}" is
// left alone (shell syntax in commands).
func (l *loader) expand(section string, k rawKey, rid string) string {
	v := k.Value
	if !strings.Contains(v, "{") {
		return v
	}
	if l.overBudget {
		return v // reported once: the raw value causes no other problem
	}
	var b strings.Builder
	last := 0
	for _, m := range refPattern.FindAllStringIndex(v, -1) {
		if m[0] > 0 && v[m[0]-1] == '$' {
			continue
		}
		name := v[m[0]+1 : m[1]-1]
		rep, ok := l.reference(name, rid)
		if !ok {
			l.problem(k.Line, section, k.Name, "unknown reference {%s}: expected {svcname}, {nodename}, {rid}, {nodes}, {drpnodes}, {flex_primary} or {env.<key>} of a key of [env]", name)
			continue
		}
		if !l.spend(section, k, b.Len()+m[0]-last+len(rep), len(rep)) {
			return v
		}
		b.WriteString(v[last:m[0]])
		b.WriteString(rep)
		last = m[1]
	}
	b.WriteString(v[last:])
	return b.String()
}

func (l *loader) reference(name, rid string) (string, bool) {
	switch name {
	case "svcname":
		return l.s.name, true
	case "nodename":
		return l.s.node, true
	case "rid":
		if rid != "" {
			return rid, true
		}
	case "nodes":
		return strings.Join(l.s.nodes, " "), true
	case "drpnodes":
		return strings.Join(l.s.drpNodes, " "), true
	case "flex_primary":
		return l.s.flexPrimary, true
	}
	if k, ok := strings.CutPrefix(name, "env."); ok && l.env != nil {
		return l.resolveEnv(k)
	}
	return "", false
}

// resolveEnv returns the value of the [env] key name for this node, with
// its own references resolved.
func (l *loader) resolveEnv(name string) (string, bool) {
	k, ok := l.envKeys[name]
	if !ok {
		return "", false
	}
	switch l.envState[name] {
	case 2:
		return l.env[name], true
	case 1:
		l.problem(k.Line, "env", k.Name, "reference cycle through {env.%s}: expected env keys that do not reference each other in a loop", name)
		return "", true // reported here, not again as unknown
	}
	if l.tooDeep(k) {
		return "", true
	}
	l.depth++
	l.envState[name] = 1
	v := l.expand("env", k, "")
	l.depth--
	l.env[name], l.envState[name] = v, 2
	return v, true
}

// checkValue reports a value that does not fit its keyword.
func (l *loader) checkValue(sec *rawSection, k rawKey, kw *driver.Keyword, value string) {
	err := kw.Check(value)
	if err == nil {
		err = checkSchedule(sec.Name, kw.Name, value)
	}
	if err != nil {
		full := k.Name
		if k.Scope != "" {
			full += "@" + k.Scope
		}
		msg := l.redactValue(k, value, err.Error())
		if !strings.Contains(msg, "expected") {
			msg += ": expected " + expectation(*kw)
		}
		l.problem(k.Line, sec.Name, full, "bad value: %s", msg)
	}
}

func expectation(kw driver.Keyword) string {
	if len(kw.Candidates) > 0 {
		return "one of " + strings.Join(kw.Candidates, ", ")
	}
	switch kw.Kind {
	case driver.Size:
		return "a size like 512m, 17g"
	case driver.Bool:
		return "true or false"
	case driver.Int:
		return "an integer"
	case driver.IP:
		return "an ip address like 10.0.0.33"
	case driver.Duration:
		return "a duration like 10s"
	}
	return "a " + kw.Kind.String()
}

// allDriverKeywords returns every driver-specific keyword of every
// registered driver, by name. Drivers may give a name different kinds
// (network is an ip address for ip.docker, a VPC name for ip.gce).
func (l *loader) allDriverKeywords() map[string][]driver.Keyword {
	out := map[string][]driver.Keyword{}
	for _, id := range l.reg.IDs() {
		d, _ := l.reg.Lookup(id)
		for _, k := range d.Manifest.Keywords {
			out[k.Name] = append(out[k.Name], k)
		}
	}
	return out
}

func (l *loader) loadDefault(def *rawSection) {
	s := l.s
	driverKws := l.allDriverKeywords()
	s.keywords = map[string]string{}
	for _, k := range def.Keys {
		kw, ok := findKeyword(serviceKeywords, k.Name)
		if kws, isDriver := driverKws[k.Name]; !ok && isDriver {
			// A default for the sections of every driver that has the
			// keyword: it must fit one of them here; each section checks
			// it against its own driver's kind.
			scopable := false
			for _, dk := range kws {
				scopable = scopable || dk.Scopable
			}
			l.checkScope(def, k, scopable)
			v := l.expand(def.Name, k, "")
			var fit bool
			for _, dk := range kws {
				fit = fit || dk.Check(v) == nil
			}
			if !fit {
				l.checkValue(def, k, &kws[0], v)
			}
			continue
		}
		if !ok {
			if l.full() {
				continue
			}
			names := keywordNames(serviceKeywords)
			for n := range driverKws {
				names = append(names, n)
			}
			sort.Strings(names)
			l.unknownKeyword(def, k, names)
			continue
		}
		l.checkScope(def, k, kw.Scopable)
		l.checkValue(def, k, &kw, l.expand(def.Name, k, ""))
	}
	for _, kw := range serviceKeywords {
		if k, ok := l.lookup(def, kw.Name); ok {
			// Its references were checked (and reported) above.
			s.keywords[kw.Name] = l.expandQuiet(def.Name, k, "")
		} else if kw.Default != "" {
			s.keywords[kw.Name] = kw.Default
		}
	}
	s.topology = s.keywords["topology"]
	if _, set := l.lookup(def, "topology"); !set {
		s.topology = s.keywords["cluster_type"]
	}
}

func (l *loader) unknownKeyword(sec *rawSection, k rawKey, names []string) {
	if l.full() {
		return // no suggestion computed for a problem not listed
	}
	msg := fmt.Sprintf("unknown keyword %s", k.Name)
	if n, ok := suggest.Closest(k.Name, names); ok {
		msg += fmt.Sprintf(": did you mean %s?", n)
	} else {
		msg += ": expected one of " + strings.Join(names, ", ")
	}
	full := k.Name
	if k.Scope != "" {
		full += "@" + k.Scope
	}
	l.problem(k.Line, sec.Name, full, "%s", msg)
}

func (l *loader) loadSubset(sec *rawSection) {
	name := strings.TrimPrefix(sec.Name, "subset#")
	group, sub, ok := strings.Cut(name, ":")
	if !ok || group == "" || sub == "" {
		l.problem(sec.Line, sec.Name, "", "bad subset section name: expected subset#<group>:<name>, like subset#disk:cge")
		return
	}
	for _, k := range sec.Keys {
		kw, ok := findKeyword(subsetKeywords, k.Name)
		if !ok {
			l.unknownKeyword(sec, k, keywordNames(subsetKeywords))
			continue
		}
		l.checkScope(sec, k, kw.Scopable)
		l.checkValue(sec, k, &kw, k.Value)
	}
	parallel := false
	if k, ok := l.lookup(sec, "parallel"); ok {
		parallel, _ = driver.ParseBool(k.Value)
	}
	l.s.subsets[group+":"+sub] = parallel
}

// isRID tells whether name is <group>#<name>: ^[a-z][a-z0-9_]*#[A-Za-z0-9_.:-]+$,
// matched by hand (a regexp cost more than the rest of a section's check).
func isRID(name string) bool {
	group, id, ok := strings.Cut(name, "#")
	if !ok || group == "" || id == "" || group[0] < 'a' || group[0] > 'z' {
		return false
	}
	for i := 1; i < len(group); i++ {
		if c := group[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return true
}

func (l *loader) loadResourceSection(sec *rawSection) {
	if !isRID(sec.Name) {
		l.problem(sec.Line, sec.Name, "", "bad resource section name: expected <group>#<name> with a lower-case group and a name of letters, digits, _ . : -")
		return
	}
	group := resource.Group(sec.Name)
	typ, ok := l.lookup(sec, "type")
	if !ok || typ.Value == "" {
		types := l.reg.Types(group)
		if len(types) == 1 {
			typ = rawKey{Name: "type", Value: types[0], Line: sec.Line}
		} else {
			l.problem(sec.Line, sec.Name, "type", "missing required keyword type: expected one of %s", l.knownTypes(group))
			return
		}
	}
	if typ.Scope != "" {
		l.checkScope(sec, typ, false)
	}
	id := group + "." + typ.Value
	d, ok := l.reg.Lookup(id)
	if !ok {
		l.problem(typ.Line, sec.Name, "type", "unknown driver type %q for group %s: expected one of %s", typ.Value, group, l.knownTypes(group))
		return
	}
	man := d.Manifest
	dk := l.driverKeywords(man)
	all := dk.all
	// The values checked here are the ones the config gets below when
	// they apply to this node: expanded once. best holds, by keyword,
	// the key of the section that applies here (-1: none), found in the
	// same pass instead of a search of the section per keyword.
	expanded := l.expandedBuf[:0]
	best, bestRank := l.bestBuf[:0], l.rankBuf[:0]
	for range all {
		best, bestRank = append(best, -1), append(bestRank, -1)
	}
	for i := range sec.Keys {
		k := &sec.Keys[i]
		expanded = append(expanded, "")
		j, ok := dk.byName[k.Name]
		if !ok {
			l.unknownKeyword(sec, *k, dk.names())
			continue
		}
		kw := &all[j]
		l.checkScope(sec, *k, kw.Scopable)
		if k.Name == "type" {
			continue
		}
		if r := l.rank(k.Scope); r > bestRank[j] {
			best[j], bestRank[j] = i, r
		}
		expanded[i] = l.expand(sec.Name, *k, sec.Name)
		l.checkValue(sec, *k, kw, expanded[i])
	}
	l.expandedBuf, l.bestBuf, l.rankBuf = expanded, best, bestRank
	def := l.defaultRaw()
	values := append(l.valuesBuf[:0], [2]string{"type", typ.Value})
	for j := range all {
		kw := &all[j]
		if kw.Name == "type" {
			continue
		}
		if i := best[j]; i >= 0 {
			values = append(values, [2]string{kw.Name, expanded[i]})
		} else if di := l.driverDefault(dk, def, j); di >= 0 {
			k := &def.Keys[di]
			v := l.expandQuiet(defaultSection, *k, sec.Name)
			if err := kw.Check(v); err != nil && !l.badDefaults[man.ID+" "+kw.Name] {
				if l.badDefaults == nil {
					l.badDefaults = map[string]bool{}
				}
				l.badDefaults[man.ID+" "+kw.Name] = true
				full := k.Name
				if k.Scope != "" {
					full += "@" + k.Scope
				}
				msg := l.redactValue(*k, v, err.Error())
				if !strings.Contains(msg, "expected") {
					msg += ": expected " + expectation(*kw)
				}
				l.problem(k.Line, defaultSection, full, "bad value for the %s resources (first: %s): %s", man.ID, sec.Name, msg)
			}
			values = append(values, [2]string{kw.Name, v})
		} else if kw.Default != "" {
			values = append(values, [2]string{kw.Name, kw.Default})
		}
	}
	l.valuesBuf = values
	// Sized once, to what it holds.
	cfg := driver.Config{
		RID: sec.Name, Manifest: man, Svcname: l.s.name, Nodename: l.s.node,
		Nodes: l.s.nodes, DRPNodes: l.s.drpNodes, FlexPrimary: l.s.flexPrimary,
		VarDir: l.s.varDir, Values: make(map[string]string, len(values)), Defaults: l.s.keywords,
		Section: l.s.section,
	}
	for _, kv := range values {
		cfg.Values[kv[0]] = kv[1]
	}
	disabled := cfg.Bool("disable")
	for ki := range man.Keywords {
		kw := &man.Keywords[ki] // not a copy of each keyword of each section
		if kw.Required && strings.TrimSpace(cfg.Values[kw.Name]) == "" && !disabled {
			l.problem(sec.Line, sec.Name, kw.Name, "missing required keyword %s (%s) for node %s", kw.Name, kw.Text, l.s.node)
		}
	}
	l.s.configs[sec.Name] = cfg
}

// expandQuiet expands a value whose references were already checked
// (limits crossed here are still reported: see spend).
func (l *loader) expandQuiet(section string, k rawKey, rid string) string {
	n := len(l.problems)
	v := l.expand(section, k, rid)
	l.problems = l.problems[:n]
	return v
}

// driverKeywords are the keywords of one driver, computed once per load
// (not once per section): its sections all ask the same questions.
type driverKeywords struct {
	all    []driver.Keyword // Manifest.AllKeywords
	byName map[string]int   // index in all, as Manifest.Keyword finds it
	own    map[string]bool  // the driver's own keywords (not the common ones)
	sorted []string         // the names of all, made on the first unknown keyword
	// fromDefault holds, by index in all, the index in DEFAULT's keys of
	// the variant that sets the driver's own keyword for this node, -1
	// for none (see driverDefault).
	fromDefault []int
}

func (d *driverKeywords) names() []string {
	if d.sorted == nil {
		d.sorted = keywordNames(d.all)
	}
	return d.sorted
}

func (l *loader) driverKeywords(m driver.Manifest) *driverKeywords {
	if d, ok := l.drivers[m.ID]; ok {
		return d
	}
	all := m.AllKeywords()
	d := &driverKeywords{all: all, byName: make(map[string]int, len(all)), own: make(map[string]bool, len(m.Keywords))}
	for i := range all {
		if _, dup := d.byName[all[i].Name]; !dup {
			d.byName[all[i].Name] = i
		}
	}
	for i := range m.Keywords {
		d.own[m.Keywords[i].Name] = true
	}
	if l.drivers == nil {
		l.drivers = map[string]*driverKeywords{}
	}
	l.drivers[m.ID] = d
	return d
}

// driverDefault is the index in DEFAULT's keys of the key that gives the
// driver's own keyword all[j] its value when a section does not set it
// (-1: none), remembered per driver: every section of the driver asks
// the same question for each keyword.
func (l *loader) driverDefault(dk *driverKeywords, def *rawSection, j int) int {
	if dk.fromDefault == nil {
		dk.fromDefault = make([]int, len(dk.all))
		for i := range dk.all {
			dk.fromDefault[i] = -1
			if name := dk.all[i].Name; dk.own[name] {
				dk.fromDefault[i] = l.lookupIndex(def, name)
			}
		}
	}
	return dk.fromDefault[j]
}

func (l *loader) knownTypes(group string) string {
	types := l.reg.Types(group)
	if len(types) == 0 {
		return fmt.Sprintf("a registered driver, but none is registered for group %s (registered: %s)", group, strings.Join(l.reg.IDs(), ", "))
	}
	return strings.Join(types, ", ")
}

// checkRidReferences reports *_rid keywords (container_rid) naming a
// section that does not exist, and start_requires/stop_requires naming
// unknown rids.
func (l *loader) checkRidReferences() {
	for _, sec := range l.raw.Sections {
		for _, k := range sec.Keys {
			var rids []string
			switch {
			case strings.HasSuffix(k.Name, "_rid"):
				rids = []string{k.Value}
			case k.Name == "start_requires" || k.Name == "stop_requires":
				rids = strings.Fields(k.Value)
			default:
				continue
			}
			for _, rid := range rids {
				if l.raw.section(rid) == nil {
					l.problem(k.Line, sec.Name, k.Name, "%q names no section of this config: expected the rid of a resource, like container#01sm", rid)
				}
			}
		}
	}
}

// section gives drivers the Config of another section.
func (s *Service) section(rid string) (driver.Config, bool) {
	c, ok := s.configs[rid]
	return c, ok
}

// indexNodes fills the node sets that scoping asks about for every key.
func (l *loader) indexNodes(def *rawSection) {
	s := l.s
	l.nodeSet = make(map[string]bool, len(s.nodes)+len(s.drpNodes))
	for _, n := range s.nodes {
		l.nodeSet[n] = true
		l.inNodes = l.inNodes || n == s.node
	}
	for _, n := range s.drpNodes {
		l.nodeSet[n] = true
		l.inDRPNodes = l.inDRPNodes || n == s.node
	}
	l.drpFlexPrimary = plain(def, "drp_flex_primary")
}

// stopped says, every 256 items of a loop, whether the load's context is
// done; Parse then returns the context's error.
func (l *loader) stopped(i int) bool {
	return i%256 == 0 && l.ctx.Err() != nil
}
