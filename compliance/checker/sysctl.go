package checker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/svckit/svckit/internal/atomicfile"
)

// maxSysctlFileSize bounds what a sysctl configuration file may hold.
const maxSysctlFileSize = 16 << 20

// SysctlFile is the file under <root>/etc/sysctl.d/ a sysctl fix writes.
const SysctlFile = "99-svckit-compliance.conf"

// sysctlRule is {"key", "index", "op", "value"}; value may also be a list
// of [op, value] pairs that must all hold.
type sysctlRule struct {
	varName string
	key     string
	index   int
	conds   []sysctlCond
}

type sysctlCond struct{ op, value string }

type sysctlObject struct{ rules []*sysctlRule }

func newSysctlObject(vars []Var) (Object, error) {
	o := &sysctlObject{}
	for _, v := range vars {
		raws, err := objectOrList(v)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			r, err := parseSysctlRule(v.Name, raw)
			if err != nil {
				return nil, err
			}
			o.rules = append(o.rules, r)
		}
	}
	return o, nil
}

func parseSysctlRule(name string, raw json.RawMessage) (*sysctlRule, error) {
	var d struct {
		Key   string          `json:"key"`
		Index *int            `json:"index"`
		Op    string          `json:"op"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("variable %s: sysctl rule: %w", name, err)
	}
	if !sysctlKey.MatchString(d.Key) {
		return nil, fmt.Errorf("variable %s: sysctl rule: key %q, expected a sysctl name like vm.swappiness (letters, digits, _ and - in names separated by . or /)", name, d.Key)
	}
	r := &sysctlRule{varName: name, key: strings.ReplaceAll(d.Key, "/", ".")}
	if d.Index != nil {
		if *d.Index < 0 {
			return nil, fmt.Errorf("variable %s: sysctl rule %s: index %d is negative", name, d.Key, *d.Index)
		}
		r.index = *d.Index
	}
	v := bytes.TrimSpace(d.Value)
	if len(v) > 0 && v[0] == '[' {
		var pairs [][]json.RawMessage
		if err := json.Unmarshal(v, &pairs); err != nil {
			return nil, fmt.Errorf("variable %s: sysctl rule %s: value: expected [[op, value], ...]: %w", name, d.Key, err)
		}
		for _, p := range pairs {
			if len(p) != 2 {
				return nil, fmt.Errorf("variable %s: sysctl rule %s: value: expected [op, value] pairs", name, d.Key)
			}
			op, err1 := scalar(p[0])
			val, err2 := scalar(p[1])
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("variable %s: sysctl rule %s: %w", name, d.Key, err)
			}
			r.conds = append(r.conds, sysctlCond{op: op, value: val})
		}
	} else {
		val, err := scalar(v)
		if err != nil {
			return nil, fmt.Errorf("variable %s: sysctl rule %s: value: %w", name, d.Key, err)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("variable %s: sysctl rule %s: value is missing", name, d.Key)
		}
		op := d.Op
		if op == "" {
			op = "="
		}
		r.conds = append(r.conds, sysctlCond{op: op, value: val})
	}
	for _, c := range r.conds {
		if err := checkSysctlValue(c.value); err != nil {
			return nil, fmt.Errorf("variable %s: sysctl rule %s: %w", name, d.Key, err)
		}
		switch c.op {
		case "=", ">=", "<=", ">", "<":
		default:
			return nil, fmt.Errorf("variable %s: sysctl rule %s: op %q, expected one of = >= <= > <", name, d.Key, c.op)
		}
		if c.op != "=" {
			if _, err := strconv.ParseInt(c.value, 10, 64); err != nil {
				return nil, fmt.Errorf("variable %s: sysctl rule %s: op %s needs an integer value, got %q", name, d.Key, c.op, c.value)
			}
		}
	}
	return r, nil
}

// sysctlKey is a key as the kernel names its /proc/sys files: names of
// letters, digits, _ and - separated by dots (or slashes).
var sysctlKey = regexp.MustCompile(`^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$`)

// checkSysctlValue refuses a value that is not one field: a newline or a
// NUL would add a line to the persistent file or the live one, a blank
// another field.
func checkSysctlValue(v string) error {
	if err := checkText("value", v); err != nil {
		return err
	}
	if v == "" || strings.ContainsAny(v, " ") {
		return fmt.Errorf("value %q, expected one field (no blank; use index for the others)", v)
	}
	return nil
}

// holds tells whether cur satisfies c.
func (c sysctlCond) holds(cur string) bool {
	if c.op == "=" {
		a, errA := strconv.ParseInt(cur, 10, 64)
		b, errB := strconv.ParseInt(c.value, 10, 64)
		if errA == nil && errB == nil {
			return a == b
		}
		return cur == c.value
	}
	a, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return false
	}
	b, _ := strconv.ParseInt(c.value, 10, 64)
	switch c.op {
	case ">=":
		return a >= b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case "<":
		return a < b
	}
	return false
}

// target is the value a fix sets to satisfy c.
func (c sysctlCond) target() string {
	b, _ := strconv.ParseInt(c.value, 10, 64)
	switch c.op {
	case ">":
		return strconv.FormatInt(b+1, 10)
	case "<":
		return strconv.FormatInt(b-1, 10)
	}
	return c.value
}

func (c sysctlCond) String() string { return c.op + " " + c.value }

// sysctlLivePath is the path of key inside the live tree.
func sysctlLivePath(key string) string {
	return "/" + strings.ReplaceAll(key, ".", "/")
}

func (e *Env) readLive(key string) ([]string, error) {
	proc, err := e.procFS()
	if err != nil {
		return nil, err
	}
	b, err := proc.ReadFile(sysctlLivePath(key), 1<<20)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// writeLive sets the live value of key.
func (e *Env) writeLive(key, value string) error {
	proc, err := e.procFS()
	if err != nil {
		return err
	}
	f, err := proc.OpenFile(sysctlLivePath(key), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value + "\n")
	return errors.Join(err, f.Close())
}

// persistentFiles lists the sysctl configuration files (paths inside the
// root) in the order systemd-sysctl and `sysctl --system` apply them: the
// *.conf of the sysctl.d directories sorted by name (a name in /etc hides
// the same name in /run and /usr/lib), then /etc/sysctl.conf.
func (e *Env) persistentFiles() ([]string, error) {
	root, err := e.fs()
	if err != nil {
		return nil, err
	}
	dirs := []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}
	byName := map[string]string{}
	for _, d := range dirs {
		ents, err := root.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, ent := range ents {
			n := ent.Name()
			if _, ok := byName[n]; !ok && strings.HasSuffix(n, ".conf") {
				byName[n] = path.Join(d, n)
			}
		}
	}
	names := slices.Sorted(maps.Keys(byName))
	files := make([]string, 0, len(names)+1)
	for _, n := range names {
		files = append(files, byName[n])
	}
	return append(files, "/etc/sysctl.conf"), nil
}

// persistentSysctl is the value of a key that applies at boot and the
// file that sets it.
type persistentSysctl struct {
	fields []string
	from   string
}

// readPersistentAll reads the sysctl configuration files once, in the
// order they apply: by key, the value that applies at boot (the last
// setting wins).
func (e *Env) readPersistentAll() (map[string]persistentSysctl, error) {
	files, err := e.persistentFiles()
	if err != nil {
		return nil, err
	}
	root, err := e.fs()
	if err != nil {
		return nil, err
	}
	out := map[string]persistentSysctl{}
	for _, f := range files {
		b, err := root.ReadFile(f, maxSysctlFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := parseSysctlLine(sc.Text()); ok {
				out[k] = persistentSysctl{strings.Fields(v), f}
			}
		}
	}
	return out, nil
}

// readPersistent returns the value of key that applies at boot and the
// file that sets it; nil when no file does.
func (e *Env) readPersistent(key string) ([]string, string, error) {
	all, err := e.readPersistentAll()
	if err != nil {
		return nil, "", err
	}
	p := all[key]
	return p.fields, p.from, nil
}

func parseSysctlLine(line string) (string, string, bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == ';' {
		return "", "", false
	}
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", false
	}
	k = strings.TrimPrefix(strings.TrimSpace(k), "-")
	return strings.ReplaceAll(k, "/", "."), strings.TrimSpace(v), true
}

func field(fields []string, i int) (string, bool) {
	if i < len(fields) {
		return fields[i], true
	}
	return "", false
}

func (o *sysctlObject) Check(ctx context.Context, env *Env) Status {
	if len(o.rules) == 0 {
		env.infof("no sysctl rules")
		return NA
	}
	// The configuration files are read once for all the rules: a check
	// only reads, so what applies at boot is the same for each.
	persistent, perr := env.readPersistentAll()
	var sts []Status
	for _, r := range o.rules {
		sts = append(sts, r.check(env, persistent, perr))
	}
	return Merge(sts...)
}

func (r *sysctlRule) check(env *Env, persistent map[string]persistentSysctl, perr error) Status {
	live, err := env.readLive(r.key)
	if err != nil {
		env.errorf("sysctl %s: live value: %v", r.key, err)
		return NOK
	}
	if perr != nil {
		env.errorf("sysctl %s: persistent value: %v", r.key, perr)
		return NOK
	}
	pers, from := persistent[r.key].fields, persistent[r.key].from
	status := OK
	for _, c := range r.conds {
		cur, ok := field(live, r.index)
		switch {
		case !ok:
			env.errorf("sysctl %s[%d]: live value %q has no index %d", r.key, r.index, strings.Join(live, " "), r.index)
			status = NOK
		case !c.holds(cur):
			env.errorf("sysctl %s[%d]: live value %s, target %s", r.key, r.index, cur, c)
			status = NOK
		default:
			env.infof("sysctl %s[%d]: live value %s, target %s, ok", r.key, r.index, cur, c)
		}
		p, ok := field(pers, r.index)
		switch {
		case pers == nil:
			env.errorf("sysctl %s[%d]: not set persistently (no sysctl.d or sysctl.conf entry), target %s", r.key, r.index, c)
			status = NOK
		case !ok:
			env.errorf("sysctl %s[%d]: persistent value %q in %s has no index %d", r.key, r.index, strings.Join(pers, " "), from, r.index)
			status = NOK
		case !c.holds(p):
			env.errorf("sysctl %s[%d]: persistent value %s in %s, target %s", r.key, r.index, p, from, c)
			status = NOK
		default:
			env.infof("sysctl %s[%d]: persistent value %s in %s, target %s, ok", r.key, r.index, p, from, c)
		}
	}
	return status
}

// Fixable tells whether each key exists in the live tree.
func (o *sysctlObject) Fixable(ctx context.Context, env *Env) Status {
	status := OK
	for _, r := range o.rules {
		live, err := env.readLive(r.key)
		if err != nil {
			env.errorf("sysctl %s: not fixable: %v", r.key, err)
			status = NOK
			continue
		}
		if r.index >= len(live) {
			env.errorf("sysctl %s: not fixable: the value has no index %d", r.key, r.index)
			status = NOK
		}
	}
	return status
}

// Fix applies each key's target live and writes it to SysctlFile. The
// rules of one key are applied together so a multi-value key
// (net.ipv4.ip_local_port_range) is written once with all its indexes.
func (o *sysctlObject) Fix(ctx context.Context, env *Env) Status {
	var keys []string
	byKey := map[string][]*sysctlRule{}
	for _, r := range o.rules {
		if _, ok := byKey[r.key]; !ok {
			keys = append(keys, r.key)
		}
		byKey[r.key] = append(byKey[r.key], r)
	}
	status := OK
	persist := map[string]string{}
	for _, k := range keys {
		s, pv := fixSysctlKey(env, k, byKey[k])
		if s != OK {
			status = NOK
		}
		if pv != "" {
			persist[k] = pv
		}
	}
	if len(persist) > 0 {
		if err := env.writeSysctlFile(persist); err != nil {
			env.errorf("sysctl: %v", err)
			return NOK
		}
		// Another file read later may still override ours.
		for _, k := range keys {
			if _, ok := persist[k]; !ok {
				continue
			}
			pers, from, err := env.readPersistent(k)
			if err != nil {
				env.errorf("sysctl %s: %v", k, err)
				status = NOK
				continue
			}
			for _, r := range byKey[k] {
				for _, c := range r.conds {
					if p, ok := field(pers, r.index); !ok || !c.holds(p) {
						env.errorf("sysctl %s[%d]: %s sets %q after %s", k, r.index, from, strings.Join(pers, " "), SysctlFile)
						status = NOK
					}
				}
			}
		}
	}
	return status
}

// apply returns fields changed so that every condition holds.
func apply(fields []string, rules []*sysctlRule) ([]string, bool) {
	out := append([]string(nil), fields...)
	changed := false
	for _, r := range rules {
		for r.index >= len(out) {
			out = append(out, "0")
		}
		for _, c := range r.conds {
			if !c.holds(out[r.index]) {
				out[r.index] = c.target()
				changed = true
			}
		}
	}
	return out, changed
}

func fixSysctlKey(env *Env, key string, rules []*sysctlRule) (Status, string) {
	live, err := env.readLive(key)
	if err != nil {
		env.errorf("sysctl %s: %v", key, err)
		return NOK, ""
	}
	for _, r := range rules {
		if r.index >= len(live) {
			env.errorf("sysctl %s: the live value %q has no index %d", key, strings.Join(live, " "), r.index)
			return NOK, ""
		}
	}
	newLive, changed := apply(live, rules)
	if changed {
		v := strings.Join(newLive, "\t")
		if err := env.writeLive(key, v); err != nil {
			env.errorf("sysctl %s: set live value: %v", key, err)
			return NOK, ""
		}
		env.infof("sysctl %s: live value set to %s", key, strings.Join(newLive, " "))
	}
	pers, _, err := env.readPersistent(key)
	if err != nil {
		env.errorf("sysctl %s: %v", key, err)
		return NOK, ""
	}
	base := pers
	if len(base) != len(newLive) {
		// Absent or malformed at boot: start from the live value so the
		// other indexes keep what the kernel has.
		base = newLive
	}
	newPers, pchanged := apply(base, rules)
	if pers == nil || pchanged || len(pers) != len(newPers) {
		return OK, strings.Join(newPers, " ")
	}
	return OK, ""
}

// writeSysctlFile sets keys in SysctlFile, keeping its other lines.
func (e *Env) writeSysctlFile(values map[string]string) error {
	path := "/etc/sysctl.d/" + SysctlFile
	root, err := e.fs()
	if err != nil {
		return err
	}
	old, err := root.ReadFile(path, maxSysctlFileSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var buf bytes.Buffer
	done := map[string]bool{}
	if len(old) == 0 {
		buf.WriteString("# Written by svckit compliance fixes.\n")
	}
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		line := sc.Text()
		if k, _, ok := parseSysctlLine(line); ok {
			if v, set := values[k]; set {
				if !done[k] {
					fmt.Fprintf(&buf, "%s = %s\n", k, v)
					done[k] = true
				}
				continue
			}
		}
		buf.WriteString(line + "\n")
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !done[k] {
			fmt.Fprintf(&buf, "%s = %s\n", k, values[k])
		}
	}
	if err := root.WriteFile(path, buf.Bytes(), 0o644, atomicfile.Keep); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		e.infof("sysctl %s = %s written to %s", k, values[k], path)
	}
	return nil
}
