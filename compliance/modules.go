package compliance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"syscall"

	"github.com/svckit/svckit/compliance/checker"
)

// Script is an executable module found in the modules directory.
type Script struct {
	Name  string // module name, without the NN- prefix
	Order int    // NN
	Path  string
}

var scriptRe = regexp.MustCompile(`^([0-9]+)-(.+)$`)

// FindScripts lists the NN-name executables of dir by module name. A
// missing directory has no scripts. When two files carry the same module
// name, the lowest NN wins.
func FindScripts(ctx context.Context, dir string) (map[string]Script, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Script{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("compliance: modules: %w", err)
	}
	out := map[string]Script{}
	for _, ent := range ents {
		m := scriptRe.FindStringSubmatch(ent.Name())
		if m == nil || ent.IsDir() {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		s := Script{Name: m[2], Order: n, Path: filepath.Join(dir, ent.Name())}
		if prev, ok := out[s.Name]; ok && prev.Order <= n {
			continue
		}
		out[s.Name] = s
	}
	return out, nil
}

// CheckScriptSafe refuses a module whose content someone other than root
// could have changed: not owned by root, writable by others, or writable
// by a group other than root's; not executable is refused too.
func CheckScriptSafe(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", path)
	}
	// Whoever can write the directory can swap the module for another.
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if dst, ok := di.Sys().(*syscall.Stat_t); !ok || dst.Uid != 0 || di.Mode()&0o002 != 0 || (di.Mode()&0o020 != 0 && dst.Gid != 0) {
		return fmt.Errorf("%s: its directory %s is not root's alone (mode %04o): refused", path, dir, di.Mode().Perm())
	}
	switch {
	case st.Uid != 0:
		return fmt.Errorf("%s is owned by uid %d, not root: refused", path, st.Uid)
	case fi.Mode()&0o002 != 0:
		return fmt.Errorf("%s is writable by others (mode %04o): refused", path, fi.Mode().Perm())
	case fi.Mode()&0o020 != 0 && st.Gid != 0:
		return fmt.Errorf("%s is writable by group %d (mode %04o): refused", path, st.Gid, fi.Mode().Perm())
	case fi.Mode()&0o100 == 0:
		return fmt.Errorf("%s is not executable by its owner", path)
	}
	return nil
}

// CompObjNames are the names the compobj binary answers to, as the
// reference's com.opensvc objects.
var CompObjNames = checker.ObjectNames

// InstallCompObj makes the com.opensvc directory beside the modules, with
// the object names as symlinks to the compobj binary, so the reference's
// bash modules ($PATH_SCRIPT/com.opensvc/files.py ...) run against svckit.
func InstallCompObj(ctx context.Context, modulesDir, compobj string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	abs, err := filepath.Abs(compobj)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("compliance: compobj: %w", err)
	}
	lib := filepath.Join(modulesDir, "com.opensvc")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		return fmt.Errorf("compliance: compobj: %w", err)
	}
	// A relative link keeps working when the modules run chrooted in a
	// root that holds both the modules and the binary.
	target, err := filepath.Rel(lib, abs)
	if err != nil {
		target = abs
	}
	for _, n := range CompObjNames {
		link := filepath.Join(lib, n)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		tmp := link + ".tmp"
		os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return fmt.Errorf("compliance: compobj: %w", err)
		}
		if err := os.Rename(tmp, link); err != nil {
			return fmt.Errorf("compliance: compobj: %w", err)
		}
	}
	return nil
}

func sortModules(mods []plannedModule) {
	sort.SliceStable(mods, func(i, j int) bool {
		if mods[i].order != mods[j].order {
			return mods[i].order < mods[j].order
		}
		return mods[i].entry.Name < mods[j].entry.Name
	})
}
