package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/internal/atomicfile"
	"github.com/svckit/svckit/internal/filelock"
	"github.com/svckit/svckit/resource/secret"
)

// nodeconfRule is {"key": "section.option", "op": "=|>=|<=|unset",
// "value"} on the node configuration INI file.
type nodeconfRule struct {
	varName string
	key     string
	section string
	option  string
	op      string
	value   string
}

type nodeconfObject struct{ rules []*nodeconfRule }

func newNodeconfObject(vars []Var) (Object, error) {
	o := &nodeconfObject{}
	for _, v := range vars {
		raws, err := objectOrList(v)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			var d struct {
				Key   string          `json:"key"`
				Op    string          `json:"op"`
				Value json.RawMessage `json:"value"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				return nil, fmt.Errorf("variable %s: nodeconf rule: %w", v.Name, err)
			}
			sec, opt, err := ParseNodeConfKey(d.Key)
			if err != nil {
				return nil, fmt.Errorf("variable %s: nodeconf rule: %w", v.Name, err)
			}
			val, err := scalar(d.Value)
			if err != nil {
				return nil, fmt.Errorf("variable %s: nodeconf rule %s: value: %w", v.Name, d.Key, err)
			}
			if err := CheckNodeConfValue(val); err != nil {
				return nil, fmt.Errorf("variable %s: nodeconf rule %s: %w", v.Name, d.Key, err)
			}
			r := &nodeconfRule{varName: v.Name, key: d.Key, section: sec, option: opt, op: d.Op, value: val}
			switch r.op {
			case "=", "unset":
			case ">=", "<=":
				if _, err := strconv.ParseFloat(val, 64); err != nil {
					return nil, fmt.Errorf("variable %s: nodeconf rule %s: op %s needs a number, got %q", v.Name, d.Key, r.op, val)
				}
			default:
				return nil, fmt.Errorf("variable %s: nodeconf rule %s: op %q, expected one of = >= <= unset", v.Name, d.Key, r.op)
			}
			o.rules = append(o.rules, r)
		}
	}
	return o, nil
}

// ParseNodeConfKey splits "section.option" (node.repocomp) at its first
// dot; both parts hold only letters, digits and _ . @ # -, so that a key
// never injects a line or a section into the file.
func ParseNodeConfKey(key string) (section, option string, err error) {
	sec, opt, ok := strings.Cut(key, ".")
	if !ok || !nodeconfName.MatchString(sec) || !nodeconfName.MatchString(opt) {
		return "", "", fmt.Errorf("key %q, expected section.option like node.repocomp (letters, digits, _ . @ # -)", key)
	}
	return sec, opt, nil
}

// CheckNodeConfValue refuses a value that the node configuration cannot
// hold as it is: a control character (it would inject a line), or a value
// that would read back otherwise once written (surrounding spaces, a
// trailing backslash), which would make a fix never converge.
func CheckNodeConfValue(v string) error {
	if err := checkText("value", v); err != nil {
		return err
	}
	f := ini.Empty(nodeConfOptions)
	f.Section("s").Key("k").SetValue(v)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return err
	}
	g, err := ini.LoadSources(nodeConfOptions, buf.Bytes())
	if err != nil || g.Section("s").Key("k").String() != v {
		return fmt.Errorf("value %q would not read back the same from the INI file (surrounding spaces, trailing backslash?)", v)
	}
	return nil
}

// nodeConfOptions is how the node configuration is parsed, by the checker,
// the facts and nodemgr alike.
var nodeConfOptions = ini.LoadOptions{
	KeyValueDelimiters:       "=",
	SpaceBeforeInlineComment: true,
	// A value is a value: "1e3" or "true" stay text.
	PreserveSurroundedQuote: true,
}

// LoadNodeConf reads the node configuration (Env.NodeConf inside
// Env.Root); a missing file is an empty one.
func (e *Env) LoadNodeConf() (*ini.File, error) {
	opts := nodeConfOptions
	path := e.nodeConf()
	root, err := e.fs()
	if err != nil {
		return nil, err
	}
	b, err := root.ReadFile(path, MaxNodeConfSize)
	if errors.Is(err, fs.ErrNotExist) {
		return ini.Empty(opts), nil
	}
	if err != nil {
		return nil, err
	}
	f, err := ini.LoadSources(opts, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// MaxNodeConfSize bounds what LoadNodeConf reads: a node.conf that is
// /dev/zero or a runaway file is an error, not the memory filled.
const MaxNodeConfSize = 16 << 20

// UpdateNodeConf reads the node configuration, lets change edit it and
// writes it back atomically when change reports a change, all under an
// exclusive lock on <NodeConf>.lock: two updates at once (nodemgr set, a
// nodeconf fix) each see the other's result instead of overwriting it.
// Waiting for the lock stops when ctx is done.
func (e *Env) UpdateNodeConf(ctx context.Context, change func(*ini.File) (bool, error)) error {
	unlock, err := e.lockNodeConf(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := e.LoadNodeConf()
	if err != nil {
		return err
	}
	changed, err := change(f)
	if err != nil || !changed {
		return err
	}
	return e.SaveNodeConf(f)
}

// lockNodeConf takes the node configuration's lock file, opened inside the
// root like the file itself. The lock is on a file of its own: the
// configuration is replaced by a rename, so a lock on it would be on an
// inode that the next writer no longer opens.
func (e *Env) lockNodeConf(ctx context.Context) (func(), error) {
	root, err := e.fs()
	if err != nil {
		return nil, err
	}
	path := e.nodeConf() + ".lock"
	if err := root.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	fh, err := root.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return filelock.Wait(ctx, fh, 10*time.Millisecond)
}

// SaveNodeConf writes the node configuration (Env.NodeConf inside
// Env.Root) atomically, keeping the mode of the existing file (0600 for a
// new one: it may hold credentials).
func (e *Env) SaveNodeConf(f *ini.File) error {
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return err
	}
	path := e.nodeConf()
	// Written, it could no longer be read.
	if buf.Len() > MaxNodeConfSize {
		return fmt.Errorf("%s: %d bytes, more than the %d a node configuration may hold: not written", path, buf.Len(), MaxNodeConfSize)
	}
	root, err := e.fs()
	if err != nil {
		return err
	}
	mode := os.FileMode(0o600)
	if fi, err := root.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return root.WriteFile(path, buf.Bytes(), mode, atomicfile.Keep)
}

// nodeconfName is what a section or option name may hold.
var nodeconfName = regexp.MustCompile(`^[A-Za-z0-9_.@#-]+$`)

func (r *nodeconfRule) shown(v string) string {
	if secret.IsName(r.varName) || secret.IsName(r.key) {
		return secret.Placeholder
	}
	return strconv.Quote(v)
}

// holds tells whether the rule holds on f, and describes the current value.
func (r *nodeconfRule) holds(f *ini.File) (bool, string) {
	sec, err := f.GetSection(r.section)
	var key *ini.Key
	if err == nil && sec.HasKey(r.option) {
		key = sec.Key(r.option)
	}
	if r.op == "unset" {
		if key == nil {
			return true, "unset"
		}
		return false, "set to " + r.shown(key.String())
	}
	if key == nil {
		return false, "unset"
	}
	cur := key.String()
	switch r.op {
	case "=":
		return cur == r.value, r.shown(cur)
	case ">=", "<=":
		a, err := strconv.ParseFloat(cur, 64)
		if err != nil {
			return false, r.shown(cur) + " (not a number)"
		}
		b, _ := strconv.ParseFloat(r.value, 64)
		if r.op == ">=" {
			return a >= b, r.shown(cur)
		}
		return a <= b, r.shown(cur)
	}
	return false, r.shown(cur)
}

func (r *nodeconfRule) target() string {
	if r.op == "unset" {
		return "unset"
	}
	return r.op + " " + r.shown(r.value)
}

func (o *nodeconfObject) Check(ctx context.Context, env *Env) Status {
	if len(o.rules) == 0 {
		env.infof("no nodeconf rules")
		return NA
	}
	f, err := env.LoadNodeConf()
	if err != nil {
		env.errorf("nodeconf: %v", err)
		return NOK
	}
	status := OK
	for _, r := range o.rules {
		ok, cur := r.holds(f)
		if ok {
			env.infof("nodeconf %s is %s, target %s, ok", r.key, cur, r.target())
		} else {
			env.errorf("nodeconf %s is %s, target %s", r.key, cur, r.target())
			status = NOK
		}
	}
	return status
}

func (o *nodeconfObject) Fixable(ctx context.Context, env *Env) Status { return OK }

func (o *nodeconfObject) Fix(ctx context.Context, env *Env) Status {
	if len(o.rules) == 0 {
		return NA
	}
	err := env.UpdateNodeConf(ctx, func(f *ini.File) (bool, error) {
		changed := false
		for _, r := range o.rules {
			if ok, _ := r.holds(f); ok {
				continue
			}
			if r.op == "unset" {
				f.Section(r.section).DeleteKey(r.option)
				env.infof("nodeconf %s unset", r.key)
			} else {
				f.Section(r.section).Key(r.option).SetValue(r.value)
				env.infof("nodeconf %s set to %s", r.key, r.shown(r.value))
			}
			changed = true
		}
		return changed, nil
	})
	if err != nil {
		env.errorf("nodeconf: %v", err)
		return NOK
	}
	return OK
}
