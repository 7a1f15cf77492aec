package checker

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// ObjectNames are the names a com.opensvc object program answers to, as
// the reference's objects (file.py, files.py, ...).
var ObjectNames = []string{"file.py", "files.py", "sysctl.py", "package.py", "packages.py", "nodeconf.py"}

// IsObjectCommand tells whether argv0 names one of ObjectNames: a
// program that links itself as the com.opensvc objects (examples/compobj,
// examples/spd) checks it first thing in main and runs RunObjectCommand.
func IsObjectCommand(argv0 string) bool {
	return slices.Contains(ObjectNames, filepath.Base(argv0))
}

// RunObjectCommand is the reference's compliance object command line:
//
//	OBJ PREFIX check|fix|fixable     (args[0] is OBJ.py)
//	compobj OBJ PREFIX check|fix|fixable
//
// It reads the rules from every variable of environ whose name starts with
// PREFIX, where the system is from the SVCKIT_COMP_* variables (see
// EnvFromEnviron), and returns the exit status: 0 all rules hold, 1 one
// does not (or a usage error), 2 no rule applies.
func RunObjectCommand(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	const usage = "usage: %s PREFIX check|fix|fixable"
	obj := strings.TrimSuffix(filepath.Base(args[0]), ".py")
	args = args[1:]
	if Canonical(obj) == "" {
		if len(args) == 0 || Canonical(strings.TrimSuffix(args[0], ".py")) == "" {
			fmt.Fprintf(stderr, "usage: compobj file|files|sysctl|package|packages|nodeconf PREFIX check|fix|fixable\n")
			return 1
		}
		obj, args = strings.TrimSuffix(args[0], ".py"), args[1:]
	}
	if len(args) != 2 || args[0] == "" {
		fmt.Fprintf(stderr, usage+"\n", obj+".py")
		return 1
	}
	prefix, action := args[0], args[1]
	vars := VarsWithPrefix(environ, prefix)
	if len(vars) == 0 {
		fmt.Fprintf(stdout, "no rules (no variable starts with %s)\n", prefix)
		return int(NA)
	}
	o, err := NewObject(obj, vars)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", obj, err)
		return int(NOK)
	}
	env := EnvFromEnviron(environ)
	env.Out, env.Err = stdout, stderr
	defer env.Close()
	st, err := Run(ctx, o, env, action)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n"+usage+"\n", obj, err, obj+".py")
		return int(NOK)
	}
	return int(st)
}
