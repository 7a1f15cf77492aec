// Package checker holds the native compliance checkers: file, sysctl,
// package and nodeconf rules, each with check, fixable and fix. They are the
// Go counterparts of the reference's com.opensvc objects (file.py,
// sysctl.py, package.py, nodeconf.py) and work under a configurable root
// directory and /proc/sys path so tests and dry runs never touch the host.
package checker

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/resource/secret"
)

// Status is the result of a check, fixable or fix, with the reference's
// exit codes.
type Status int

// Statuses.
const (
	OK  Status = 0
	NOK Status = 1
	NA  Status = 2
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case NOK:
		return "nok"
	case NA:
		return "n/a"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Merge folds statuses: any nok makes nok; otherwise any ok makes ok; a
// set of only n/a is n/a. The reference ORs exit codes, which turns "one nok
// and one n/a" into 3, a code its own modules do not recognise as nok.
func Merge(statuses ...Status) Status {
	out := NA
	for _, s := range statuses {
		switch s {
		case NOK:
			return NOK
		case OK:
			out = OK
		}
	}
	return out
}

// Env is what the checkers act upon: where the system is, how to read
// variables, where to report.
type Env struct {
	// Root is the directory the rules' absolute paths are relative to;
	// "" or "/" is the real system.
	Root string
	// ProcSys is the live sysctl tree; "" is /proc/sys.
	ProcSys string
	// NodeConf is the node configuration INI file, a path inside Root;
	// "" is /etc/node.conf.
	NodeConf string
	// BackupDir is the host directory that keeps the previous content of
	// files a fix replaces; "" is /var/compliance/backup inside Root.
	BackupDir string
	// Hostname substitutes %%HOSTNAME%%; "" is the host's name.
	Hostname string
	// Lookup reads the variables %%ENV:X%% refers to; nil is the process
	// environment.
	Lookup func(string) (string, bool)
	// Path is the search path of the external commands (dpkg-query, rpm,
	// apt-get, dnf); "" is the process PATH.
	Path string
	// PackageBackend is "dpkg" or "rpm"; "" chooses from the files under
	// Root.
	PackageBackend string
	// Out receives the check messages, Err the problems; nil discards.
	Out, Err io.Writer
	// Now stamps backups; nil is time.Now.
	Now func() time.Time

	fsys envFS // the roots, opened on first use (root.go)
	// Secrets collects the values %%ENV:X%% substitutes from a
	// secret-named X; every message through Out and Err is redacted
	// through it. Nil is a new set made at the first secret (an Env is
	// then not for concurrent use); share one set to redact a whole run.
	Secrets *secret.Set

	// secretNames remembers secret.IsName by variable name: every file
	// rule of a run substitutes the same few variables.
	secretNames sync.Map // string -> bool
}

// RootDir returns the root, "/" when unset.
func (e *Env) RootDir() string {
	if e.Root == "" {
		return "/"
	}
	return e.Root
}

func (e *Env) procSys() string {
	if e.ProcSys == "" {
		return "/proc/sys"
	}
	return e.ProcSys
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Env) hostname() string {
	if e.Hostname != "" {
		return e.Hostname
	}
	h, _ := os.Hostname()
	return h
}

func (e *Env) lookup(k string) (string, bool) {
	if e.Lookup == nil {
		return os.LookupEnv(k)
	}
	return e.Lookup(k)
}

func (e *Env) infof(format string, args ...any) {
	if e.Out != nil {
		io.WriteString(e.Out, e.Secrets.Redact(fmt.Sprintf(format, args...))+"\n")
	}
}

func (e *Env) errorf(format string, args ...any) {
	w := e.Err
	if w == nil {
		w = e.Out
	}
	if w != nil {
		io.WriteString(w, e.Secrets.Redact(fmt.Sprintf(format, args...))+"\n")
	}
}

// secretValue records v, substituted from the variable name, as a
// secret when the name says so (a value already known stays known).
func (e *Env) secretValue(name, v string) {
	is, ok := e.secretNames.Load(name)
	if !ok {
		is = secret.IsName(name)
		e.secretNames.Store(name, is)
	}
	if !is.(bool) {
		return
	}
	if e.Secrets == nil {
		e.Secrets = secret.NewSet()
	}
	e.Secrets.Add(v)
}

// UndefinedError is a %%ENV:X%% reference to a variable that is not set:
// the rule it appears in is n/a.
type UndefinedError struct{ Name string }

func (e *UndefinedError) Error() string {
	return fmt.Sprintf("variable %s is not defined (nor %s)", e.Name, EnvName(e.Name))
}

// Subst replaces %%ENV:X%% (X, then OSVC_COMP_X), %%HOSTNAME%% and
// %%SHORT_HOSTNAME%% in s.
func (e *Env) Subst(s string) (string, error) {
	if !strings.Contains(s, "%%") {
		return s, nil
	}
	var firstErr error
	out := replaceRefs(s, func(tok string) (string, bool) {
		switch tok {
		case "HOSTNAME":
			return e.hostname(), true
		case "SHORT_HOSTNAME":
			h, _, _ := strings.Cut(e.hostname(), ".")
			return h, true
		}
		name := strings.TrimPrefix(tok, "ENV:")
		if v, ok := e.lookup(name); ok {
			e.secretValue(name, v)
			return v, true
		}
		if v, ok := e.lookup(EnvName(name)); ok {
			e.secretValue(name, v)
			return v, true
		}
		if firstErr == nil {
			firstErr = &UndefinedError{Name: name}
		}
		return "", false
	})
	return out, firstErr
}

// replaceRefs replaces what substRe matches in s, leftmost first and
// without overlaps as ReplaceAllStringFunc does, by what rep returns for
// the token between the %% (the match stays when rep says false). It
// scans by hand: the regexp cost as much as the check of a file rule.
func replaceRefs(s string, rep func(tok string) (string, bool)) string {
	var b strings.Builder
	last := 0
	for i := 0; i+4 <= len(s); {
		j := strings.Index(s[i:], "%%")
		if j < 0 {
			break
		}
		i += j
		n := refLen(s[i+2:])
		if n < 0 {
			i++
			continue
		}
		tok := s[i+2 : i+2+n]
		end := i + 2 + n + 2
		if v, ok := rep(tok); ok {
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(v)
			last = end
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// refLen is the length of the token that starts rest and is followed by
// "%%" (HOSTNAME, SHORT_HOSTNAME or ENV:[A-Za-z0-9_.-]+), -1 for none.
func refLen(rest string) int {
	for _, w := range []string{"HOSTNAME", "SHORT_HOSTNAME"} {
		if strings.HasPrefix(rest, w+"%%") {
			return len(w)
		}
	}
	if !strings.HasPrefix(rest, "ENV:") {
		return -1
	}
	n := len("ENV:")
	for n < len(rest) {
		c := rest[n]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			break
		}
		n++
	}
	if n == len("ENV:") || !strings.HasPrefix(rest[n:], "%%") {
		return -1
	}
	return n
}

// EnvName is the environment variable name of a compliance variable:
// OSVC_COMP_ then the name upper-cased with '-', '.' and ' ' as '_'.
func EnvName(name string) string {
	return "OSVC_COMP_" + strings.ToUpper(envNameReplacer.Replace(name))
}

// envNameReplacer is built once: a Replacer is safe for concurrent use,
// and building one cost more than a file rule's check.
var envNameReplacer = strings.NewReplacer("-", "_", ".", "_", " ", "_")

// Var is a variable as a checker receives it: its name (environment or
// collector form) and its raw JSON value.
type Var struct {
	Name  string
	Value string
}

// Object checks, and fixes, the rules of one class.
type Object interface {
	Check(ctx context.Context, env *Env) Status
	Fixable(ctx context.Context, env *Env) Status
	Fix(ctx context.Context, env *Env) Status
}

// Classes lists the checker classes, aliases included.
var Classes = []string{"file", "files", "sysctl", "package", "packages", "nodeconf"}

// Canonical maps the reference's older names (files, packages) to the
// class; it returns "" for a class no checker handles.
func Canonical(class string) string {
	switch class {
	case "file", "files":
		return "file"
	case "package", "packages":
		return "package"
	case "sysctl", "nodeconf":
		return class
	}
	return ""
}

// NewObject parses the variables of a class into its checker. An error
// names the variable whose value is not valid.
func NewObject(class string, vars []Var) (Object, error) {
	switch Canonical(class) {
	case "file":
		return newFileObject(vars)
	case "sysctl":
		return newSysctlObject(vars)
	case "package":
		return newPackageObject(vars)
	case "nodeconf":
		return newNodeconfObject(vars)
	}
	return nil, fmt.Errorf("class %q has no checker (expected one of %s)", class, strings.Join(Classes, ", "))
}

// Validate parses a variable's value for its class without running it.
func Validate(class, name, value string) error {
	if Canonical(class) == "" {
		return nil
	}
	_, err := NewObject(class, []Var{{Name: name, Value: value}})
	return err
}

// Run runs action (check, fixable or fix) on obj.
func Run(ctx context.Context, obj Object, env *Env, action string) (Status, error) {
	switch action {
	case "check":
		return obj.Check(ctx, env), nil
	case "fixable":
		return obj.Fixable(ctx, env), nil
	case "fix":
		return obj.Fix(ctx, env), nil
	}
	return NA, fmt.Errorf("action %q, expected check, fixable or fix", action)
}

// VarsWithPrefix collects the environment variables whose name starts with
// prefix, sorted by name, as the reference objects read their rules.
func VarsWithPrefix(environ []string, prefix string) []Var {
	var vars []Var
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, prefix) {
			vars = append(vars, Var{Name: k, Value: v})
		}
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

// Environment variables through which a module runner tells the checker
// objects (compobj) where the system is.
const (
	EnvRoot           = "SVCKIT_COMP_ROOT"
	EnvProcSys        = "SVCKIT_COMP_PROC_SYS"
	EnvNodeConf       = "SVCKIT_COMP_NODECONF"
	EnvBackupDir      = "SVCKIT_COMP_BACKUP_DIR"
	EnvPackageBackend = "SVCKIT_COMP_PKG_BACKEND"
	EnvNodename       = "SVCKIT_COMP_NODENAME"
)

// Environ renders the location settings of env as SVCKIT_COMP_* variables.
func (e *Env) Environ() []string {
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	add(EnvRoot, e.Root)
	add(EnvProcSys, e.ProcSys)
	add(EnvNodeConf, e.NodeConf)
	add(EnvBackupDir, e.BackupDir)
	add(EnvPackageBackend, e.PackageBackend)
	add(EnvNodename, e.Hostname)
	return out
}

// EnvFromEnviron builds an Env from a process environment: the
// SVCKIT_COMP_* locations, the variables for %%ENV:X%%, PATH.
func EnvFromEnviron(environ []string) *Env {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return &Env{
		Root:           m[EnvRoot],
		ProcSys:        m[EnvProcSys],
		NodeConf:       m[EnvNodeConf],
		BackupDir:      m[EnvBackupDir],
		PackageBackend: m[EnvPackageBackend],
		Hostname:       m[EnvNodename],
		Path:           m["PATH"],
		Lookup: func(k string) (string, bool) {
			v, ok := m[k]
			return v, ok
		},
	}
}
