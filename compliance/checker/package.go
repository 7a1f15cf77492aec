package checker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Package is an installed package.
type Package struct {
	Name    string `json:"pkg_name"`
	Version string `json:"pkg_version"`
}

type packageObject struct {
	install []string
	remove  []string
}

// pkgNameRe keeps package names to what dpkg and rpm accept, so a name can
// never be read as an option by apt-get or dnf.
var pkgNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+:~-]*$`)

func newPackageObject(vars []Var) (Object, error) {
	o := &packageObject{}
	seen := map[string]bool{}
	for _, v := range vars {
		names, err := parsePackageNames(v)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			remove := strings.HasPrefix(n, "-")
			n = strings.TrimPrefix(n, "-")
			if !pkgNameRe.MatchString(n) {
				return nil, fmt.Errorf("variable %s: package name %q is not valid", v.Name, n)
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			if remove {
				o.remove = append(o.remove, n)
			} else {
				o.install = append(o.install, n)
			}
		}
	}
	return o, nil
}

// parsePackageNames reads a list of names, a single name, or the
// reference's {"package": [...]} object.
func parsePackageNames(v Var) ([]string, error) {
	b := bytes.TrimSpace([]byte(v.Value))
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		return list, nil
	}
	var obj struct {
		Package []string `json:"package"`
	}
	if err := json.Unmarshal(b, &obj); err == nil && obj.Package != nil {
		return obj.Package, nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		return strings.Fields(one), nil
	}
	return nil, fmt.Errorf("variable %s: expected a JSON list of package names (\"-name\" to remove)", v.Name)
}

// Backend returns the package backend: Env.PackageBackend, else dpkg when
// the root has a dpkg database, else rpm when it has an rpm one.
func (e *Env) Backend() (string, error) {
	switch e.PackageBackend {
	case "dpkg", "rpm":
		return e.PackageBackend, nil
	case "":
	default:
		return "", fmt.Errorf("package backend %q, expected dpkg or rpm", e.PackageBackend)
	}
	root, err := e.fs()
	if err != nil {
		return "", err
	}
	if _, err := root.Stat("/var/lib/dpkg/status"); err == nil {
		return "dpkg", nil
	}
	for _, d := range []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm"} {
		if _, err := root.Stat(d); err == nil {
			return "rpm", nil
		}
	}
	return "", fmt.Errorf("no dpkg nor rpm database under %s", e.RootDir())
}

// LookPath finds an executable in Env.Path (the process PATH when empty).
func (e *Env) LookPath(name string) (string, error) {
	path := e.Path
	if path == "" {
		path = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

func (e *Env) command(ctx context.Context, argv []string, extraEnv ...string) (*exec.Cmd, error) {
	bin, err := e.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Env = os.Environ()
	if e.Path != "" {
		cmd.Env = append(cmd.Env, "PATH="+e.Path)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd, nil
}

// QueryCommand is the command that lists the installed packages of a
// backend under root.
func QueryCommand(backend, root string) []string {
	switch backend {
	case "dpkg":
		argv := []string{"dpkg-query", "-W", "-f", `${Package}\t${Version}\t${db:Status-Abbrev}\n`}
		if root != "" && root != "/" {
			argv = append(argv, "--admindir="+filepath.Join(root, "var/lib/dpkg"))
		}
		return argv
	case "rpm":
		argv := []string{"rpm", "-qa", "--qf", `%{NAME}\t%{VERSION}-%{RELEASE}\tii\n`}
		if root != "" && root != "/" {
			argv = append(argv, "--root", root)
		}
		return argv
	}
	return nil
}

// PackageVerb is what InstallCommand's command does to the packages.
type PackageVerb string

// The verbs of InstallCommand.
const (
	PackageInstall PackageVerb = "install"
	PackageRemove  PackageVerb = "remove"
)

// InstallCommand is the one command that installs or removes (verb)
// names with the backend's package manager under root; nil for an
// unknown backend or verb.
func InstallCommand(backend, root string, verb PackageVerb, names []string) []string {
	if verb != PackageInstall && verb != PackageRemove {
		return nil
	}
	var argv []string
	switch backend {
	case "dpkg":
		argv = []string{"apt-get", "-y", "-q"}
		if root != "" && root != "/" {
			// RootDir moves every apt path under root; dpkg needs its own
			// --root to unpack and record there.
			argv = append(argv, "-o", "RootDir="+root, "-o", "DPkg::Options::=--root="+root)
		}
		argv = append(argv, string(verb))
	case "rpm":
		argv = []string{"dnf", "-y", "-q"}
		if root != "" && root != "/" {
			argv = append(argv, "--installroot="+root)
		}
		argv = append(argv, string(verb))
	default:
		return nil
	}
	// "--" ends the options: a name is never read as one.
	argv = append(argv, "--")
	return append(argv, names...)
}

// InstalledPackages lists the packages installed under the root.
func (e *Env) InstalledPackages(ctx context.Context) ([]Package, error) {
	backend, err := e.Backend()
	if err != nil {
		return nil, err
	}
	return e.installed(ctx, backend)
}

func (e *Env) installed(ctx context.Context, backend string) ([]Package, error) {
	if backend == "dpkg" {
		// An empty database is a valid state dpkg-query reports as an error.
		root, err := e.fs()
		if err != nil {
			return nil, err
		}
		st, err := root.Stat("/var/lib/dpkg/status")
		if errors.Is(err, fs.ErrNotExist) || (err == nil && st.Size() == 0) {
			return nil, nil
		}
	}
	cmd, err := e.command(ctx, QueryCommand(backend, e.RootDir()))
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 3 {
			continue
		}
		// Second letter of the dpkg status: i installed, W/t awaiting or
		// pending triggers (still installed).
		if st := f[2]; len(st) < 2 || !strings.ContainsRune("iWt", rune(st[1])) {
			continue
		}
		pkgs = append(pkgs, Package{Name: f[0], Version: f[1]})
	}
	return pkgs, nil
}

// state returns the names to install and the names to remove.
func (o *packageObject) state(ctx context.Context, env *Env) (string, []string, []string, error) {
	backend, err := env.Backend()
	if err != nil {
		return "", nil, nil, err
	}
	pkgs, err := env.installed(ctx, backend)
	if err != nil {
		return "", nil, nil, err
	}
	have := map[string]bool{}
	for _, p := range pkgs {
		have[p.Name] = true
	}
	var missing, present []string
	for _, n := range o.install {
		if have[n] {
			env.infof("package %s is installed", n)
		} else {
			env.errorf("package %s is not installed", n)
			missing = append(missing, n)
		}
	}
	for _, n := range o.remove {
		if have[n] {
			env.errorf("package %s is installed and must be removed", n)
			present = append(present, n)
		} else {
			env.infof("package %s is not installed", n)
		}
	}
	return backend, missing, present, nil
}

func (o *packageObject) Check(ctx context.Context, env *Env) Status {
	if len(o.install)+len(o.remove) == 0 {
		env.infof("no package rules")
		return NA
	}
	_, missing, present, err := o.state(ctx, env)
	if err != nil {
		env.errorf("package: %v", err)
		return NOK
	}
	if len(missing)+len(present) > 0 {
		return NOK
	}
	return OK
}

// Fixable tells whether the package manager the fix needs is there.
func (o *packageObject) Fixable(ctx context.Context, env *Env) Status {
	backend, err := env.Backend()
	if err != nil {
		env.errorf("package: not fixable: %v", err)
		return NOK
	}
	if _, err := env.LookPath(InstallCommand(backend, "/", PackageInstall, nil)[0]); err != nil {
		env.errorf("package: not fixable: %v", err)
		return NOK
	}
	return OK
}

func (o *packageObject) Fix(ctx context.Context, env *Env) Status {
	if len(o.install)+len(o.remove) == 0 {
		return NA
	}
	backend, missing, present, err := o.state(ctx, env)
	if err != nil {
		env.errorf("package: %v", err)
		return NOK
	}
	status := OK
	for _, step := range []struct {
		verb  PackageVerb
		names []string
	}{{PackageRemove, present}, {PackageInstall, missing}} {
		if len(step.names) == 0 {
			continue
		}
		argv := InstallCommand(backend, env.RootDir(), step.verb, step.names)
		env.infof("package: %s", strings.Join(argv, " "))
		cmd, err := env.command(ctx, argv, "DEBIAN_FRONTEND=noninteractive")
		if err != nil {
			env.errorf("package: %v", err)
			status = NOK
			continue
		}
		out, err := cmd.CombinedOutput()
		if len(out) > 0 {
			env.infof("%s", strings.TrimRight(string(out), "\n"))
		}
		if err != nil {
			env.errorf("package: %s: %v", argv[0], err)
			status = NOK
		}
	}
	return status
}
