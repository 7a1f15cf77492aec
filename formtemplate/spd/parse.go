package spd

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/ip"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/internal/inifile"
	"github.com/svckit/svckit/internal/shellwords"
	"github.com/svckit/svckit/resource/secret"
)

// config is a service config read for comparison: sections in order,
// their keys and values, and where they were. It keeps the reader's
// sections as they are (no map of values or lines of its own): a
// relayout reads two configs of hundreds of sections each.
type config struct {
	sections []string
	byName   map[string]*inifile.Section
	dups     []string // sections and keys written again, with their lines
}

// value returns the value of key in section; ok is false when either is
// missing.
func (c *config) value(section, key string) (v string, ok bool) {
	if k := c.key(section, key); k != nil {
		return k.Value, true
	}
	return "", false
}

func (c *config) key(section, key string) *inifile.Key {
	if s := c.byName[section]; s != nil {
		return s.Key(key)
	}
	return nil
}

// keyNames returns the keys of section in the order written.
func (c *config) keyNames(section string) []string {
	s := c.byName[section]
	if s == nil {
		return nil
	}
	out := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		out[i] = k.Name
	}
	return out
}

func (c *config) line(section, key string) int {
	if key == "" {
		if s := c.byName[section]; s != nil {
			return s.Line()
		}
		return 0
	}
	if k := c.key(section, key); k != nil {
		return k.Lines[0]
	}
	return 0
}

// where names a section or a key with its line: "line 42: [fs#01] mnt".
func (c *config) where(section, key string) string {
	s := "[" + section + "]"
	if key != "" {
		s += " " + key
	}
	if n := c.line(section, key); n > 0 {
		return "line " + strconv.Itoa(n) + ": " + s
	}
	return s
}

// parseConfig reads a service config with the reader svc loads it with
// (internal/inifile: indented continuation lines, " #" comments, "=" as
// the only delimiter, values as written). A section or key written twice
// is kept as a difference of the config: svc refuses it, and a relayout
// would drop the second one.
func parseConfig(data []byte) (*config, error) {
	secs, err := inifile.Read(string(data), nil)
	if err != nil {
		return nil, err
	}
	c := &config{sections: make([]string, 0, len(secs)), byName: make(map[string]*inifile.Section, len(secs))}
	for _, s := range secs {
		name := s.Name
		if name == inifile.DefaultSection && len(s.Keys) == 0 && s.Line() == 0 {
			continue
		}
		c.sections = append(c.sections, name)
		c.byName[name] = s
		for _, l := range s.Lines[min(1, len(s.Lines)):] {
			c.dups = append(c.dups, fmt.Sprintf("line %d: [%s]: section written again (first at line %d)", l, name, s.Line()))
		}
		for _, k := range s.Keys {
			for _, l := range k.Lines[1:] {
				c.dups = append(c.dups, fmt.Sprintf("line %d: [%s] %s: set again (first at line %d)", l, name, k.Name, k.Lines[0]))
			}
		}
	}
	return c, nil
}

// shellKeys are the keywords the driver manifests declare as command
// lines (driver.Shell: run_args, run_command, the pre_/post_ triggers):
// compare them word by word as github.com/google/shlex splits them, as
// the drivers do, and never print them (run_args holds the root password).
var shellKeys = func() map[string]bool {
	keys := map[string]bool{}
	add := func(kws []driver.Keyword) {
		for _, k := range kws {
			if k.Kind == driver.Shell {
				keys[k.Name] = true
			}
		}
	}
	add(driver.CommonKeywords)
	for _, group := range [][]driver.Manifest{container.Manifests(), disk.Manifests(), fs.Manifests(), ip.Manifests(), syncdrv.Manifests()} {
		for _, m := range group {
			add(m.Keywords)
		}
	}
	return keys
}()

// isShell tells whether key (scope included: "run_args@n1") holds a
// command line.
func isShell(key string) bool {
	name, _, _ := strings.Cut(key, "@")
	return shellKeys[name]
}

// Diff compares two service configs semantically: the same sections,
// keys and values, whatever the whitespace, comments and order. Command
// lines (run_args, post_provision...) are compared word by word after
// shell splitting, and their words are never printed (run_args holds the
// root password). Each difference is one line, naming the section and
// key, with the line in got.
func Diff(got, want []byte) ([]string, error) {
	g, err := parseConfig(got)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	w, err := parseConfig(want)
	if err != nil {
		return nil, fmt.Errorf("expected config: %w", err)
	}
	return diff(g, w), nil
}

func diff(g, w *config) []string {
	out := slices.Clone(g.dups)
	for _, s := range w.sections {
		if _, ok := g.byName[s]; !ok {
			out = append(out, fmt.Sprintf("[%s]: missing section", s))
		}
	}
	for _, s := range g.sections {
		ws, ok := w.byName[s]
		if !ok {
			out = append(out, g.where(s, "")+": unexpected section")
			continue
		}
		gs := g.byName[s]
		for _, k := range ws.Keys {
			if gs.Key(k.Name) == nil {
				out = append(out, fmt.Sprintf("%s: missing key %s = %s", g.where(s, ""), k.Name, printable(k.Name, k.Value)))
			}
		}
		for _, k := range gs.Keys {
			want := ws.Key(k.Name)
			if want == nil {
				out = append(out, fmt.Sprintf("%s: unexpected key = %s", g.where(s, k.Name), printable(k.Name, k.Value)))
				continue
			}
			if msg := compareValue(k.Name, k.Value, want.Value); msg != "" {
				out = append(out, g.where(s, k.Name)+": "+msg)
			}
		}
	}
	return out
}

func printable(key, v string) string {
	if isShell(key) {
		return "(a command line)"
	}
	return strconv.Quote(strings.TrimSpace(v))
}

func compareValue(key, got, want string) string {
	if got == want {
		// The common case (a config compared with its regeneration):
		// no command line to split.
		return ""
	}
	if !isShell(key) {
		if g, w := strings.TrimSpace(got), strings.TrimSpace(want); g != w {
			return fmt.Sprintf("%q, expected %q", g, w)
		}
		return ""
	}
	gw, gerr := shellwords.Split(got)
	ww, werr := shellwords.Split(want)
	switch {
	case gerr != nil:
		return fmt.Sprintf("cannot split the command line: %v", gerr)
	case werr != nil:
		return fmt.Sprintf("cannot split the expected command line: %v", werr)
	case len(gw) != len(ww):
		return fmt.Sprintf("%d words, expected %d", len(gw), len(ww))
	}
	for i := range gw {
		if gw[i] != ww[i] {
			return fmt.Sprintf("word %d differs from the expected one", i+1)
		}
	}
	return ""
}

// ParseLayoutFile reads the layout of the config file at path.
func ParseLayoutFile(path string) (Layout, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Layout{}, err
	}
	l, err := ParseLayout(data)
	if err != nil {
		return Layout{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

var podDisk = regexp.MustCompile(`^disk#([0-9]{2,3})$`)

// ParseLayout recovers the layout of a config this package (or the
// seed's Mangle, for an even layout) generated: the service, images and
// password from DEFAULT and pod 1, each pod's node from its
// disable@<node> = false key, its addresses and gateway from its ip
// sections. It then regenerates the config from the layout and requires
// the result to be semantically identical: a config edited by hand is
// refused, with each edit named, since a relayout would lose it.
func ParseLayout(data []byte) (Layout, error) {
	c, err := parseConfig(data)
	if err != nil {
		return Layout{}, err
	}
	get := func(section, key string) (string, error) {
		v, ok := c.value(section, key)
		if !ok {
			if _, ok := c.byName[section]; !ok {
				return "", fmt.Errorf("[%s]: missing section", section)
			}
			return "", fmt.Errorf("%s: missing key %s", c.where(section, ""), key)
		}
		return strings.TrimSpace(v), nil
	}
	var l Layout
	def := inifile.DefaultSection
	if l.App, err = get(def, "app"); err != nil {
		return Layout{}, err
	}
	nodes, err := get(def, "nodes")
	if err != nil {
		return Layout{}, err
	}
	dataDir, err := get(def, "docker_data_dir")
	if err != nil {
		return Layout{}, err
	}
	svc, ok := strings.CutSuffix(strings.TrimPrefix(dataDir, "/"), "/docker")
	if !ok || !strings.HasPrefix(dataDir, "/") || svc == "" {
		return Layout{}, fmt.Errorf("%s: %q: expected /<svcname>/docker", c.where(def, "docker_data_dir"), dataDir)
	}
	l.Svcname = svc

	// Pods: disk#01 .. disk#NN, all of them.
	var nums []int
	for _, s := range c.sections {
		if m := podDisk.FindStringSubmatch(s); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > 0 {
				nums = append(nums, n)
			}
		}
	}
	slices.Sort(nums)
	if len(nums) == 0 {
		return Layout{}, errors.New("no pod: expected [disk#01] and the other pod sections")
	}
	for i, n := range nums {
		if n != i+1 {
			return Layout{}, fmt.Errorf("pods are not numbered 1 to %d: pod %d is missing", len(nums), i+1)
		}
	}
	gateways := map[string]netip.Addr{}
	for _, n := range nums {
		p := Pod{Num: n}
		disk := "disk#" + p.ID()
		var on []string
		var keys []*inifile.Key
		if s := c.byName[disk]; s != nil {
			keys = s.Keys
		}
		for _, k := range keys {
			if node, ok := strings.CutPrefix(k.Name, "disable@"); ok && strings.TrimSpace(k.Value) == "false" {
				on = append(on, node)
			}
		}
		if len(on) != 1 {
			return Layout{}, fmt.Errorf("%s: expected one disable@<node> = false naming the node of pod%s, found %d", c.where(disk, ""), p.ID(), len(on))
		}
		p.Node = on[0]
		for _, a := range []struct {
			rid, key string
			dst      *netip.Addr
		}{{"ip#" + p.ID() + "sm", "ipname", &p.SMIP}, {"ip#" + p.ID() + "db", "ipname", &p.DBIP}, {"ip#" + p.ID() + "sm", "gateway", &p.Gateway}} {
			v, err := get(a.rid, a.key)
			if err != nil {
				return Layout{}, err
			}
			if *a.dst, err = netip.ParseAddr(v); err != nil {
				return Layout{}, fmt.Errorf("%s: %q is not an address", c.where(a.rid, a.key), v)
			}
		}
		if gw, seen := gateways[p.Node]; seen && gw != p.Gateway {
			return Layout{}, fmt.Errorf("%s: %v, but other pods of %s use the gateway %v", c.where("ip#"+p.ID()+"sm", "gateway"), p.Gateway, p.Node, gw)
		}
		gateways[p.Node] = p.Gateway
		l.Pods = append(l.Pods, p)
	}
	// Images and password: pod 1's. The regenerated config puts them in
	// every pod, so that any pod that differs is reported below.
	if l.SMImage, err = get("container#01sm", "run_image"); err != nil {
		return Layout{}, err
	}
	if l.DBImage, err = get("container#01db", "run_image"); err != nil {
		return Layout{}, err
	}
	args, err := get("container#01sm", "run_args")
	if err != nil {
		return Layout{}, err
	}
	words, err := shellwords.Split(args)
	if err != nil {
		return Layout{}, fmt.Errorf("%s: cannot split the command line: %v", c.where("container#01sm", "run_args"), err)
	}
	for i := 0; i+1 < len(words); i++ {
		if pw, ok := strings.CutPrefix(words[i+1], "MYSQL_ROOT_PASSWORD="); words[i] == "-e" && ok {
			l.RootPassword = Secret(pw)
			break
		}
	}
	// Nodes in config order, with the gateways their pods use; a node
	// without pods gets one by the rule Relayout follows.
	names := strings.Fields(nodes)
	l.Nodes = assignGateways(names, gateways, nil)
	for _, p := range l.Pods {
		if !slices.Contains(names, p.Node) {
			return Layout{}, fmt.Errorf("%s: pod%s is on %q, which is not in nodes = %s", c.where("disk#"+p.ID(), "disable@"+p.Node), p.ID(), p.Node, nodes)
		}
	}
	if err := l.Validate(); err != nil {
		return Layout{}, err
	}
	regen, err := l.Config()
	if err != nil {
		return Layout{}, err
	}
	if bytes.Equal(regen, data) {
		// The config is, byte for byte, what the layout generates (the
		// usual case: nobody edited it): nothing to compare key by key.
		return l, nil
	}
	r, err := parseConfig(regen)
	if err != nil {
		return Layout{}, fmt.Errorf("regenerated config: %w", err)
	}
	if d := diff(c, r); len(d) > 0 {
		// The differences quote values: the root password and whatever the
		// one rule of resource/secret calls secret never show.
		secrets := secret.NewSet(l.RootPassword.Reveal())
		for i := range d {
			d[i] = secrets.Redact(d[i])
		}
		const show = 20
		more := ""
		if len(d) > show {
			more = fmt.Sprintf("\n(and %d more)", len(d)-show)
			d = d[:show]
		}
		return Layout{}, fmt.Errorf("the config is not one spd generates (edited by hand?), and a relayout would lose these differences:\n%s%s", strings.Join(d, "\n"), more)
	}
	return l, nil
}

// assignGateways gives each node its gateway: the known one of a node
// whose pods use it; then, in node order, for each node in hosting (new
// nodes that get pods), 10.0.0.<position+1> when free, else the lowest
// free node address; then the same for the nodes without pods. A node
// without pods has no gateway in the config: ParseLayout finds the same
// one again since the first two steps fix the same addresses.
func assignGateways(names []string, known map[string]netip.Addr, hosting map[string]bool) []Node {
	nodes := make([]Node, len(names))
	used := map[netip.Addr]bool{}
	for i, name := range names {
		nodes[i].Name = name
		if gw, ok := known[name]; ok {
			nodes[i].Gateway = gw
			used[gw] = true
		}
	}
	for _, pass := range []bool{true, false} {
		for i, name := range names {
			if nodes[i].Gateway.IsValid() || hosting[name] != pass {
				continue
			}
			nodes[i].Gateway = freeGateway(i, used)
			used[nodes[i].Gateway] = true
		}
	}
	return nodes
}

// freeGateway returns 10.0.0.<i+1> when free, else the lowest free node
// address.
func freeGateway(i int, used map[netip.Addr]bool) netip.Addr {
	if a := hostAddr(i + 1); i < MaxNodes && !used[a] {
		return a
	}
	for h := 1; h <= MaxNodes; h++ {
		if a := hostAddr(h); !used[a] {
			return a
		}
	}
	return netip.Addr{}
}
