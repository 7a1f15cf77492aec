// Command compobj stands in for the reference's com.opensvc compliance
// objects so bash modules written for OpenSVC run unmodified against svckit.
// Installed as symlinks named file.py, files.py, sysctl.py, package.py,
// packages.py and nodeconf.py (compliance.InstallCompObj does it), it is
// called as
//
//	OBJ PREFIX check|fix|fixable
//
// and reads its rules from every environment variable whose name starts
// with PREFIX (a JSON object or list each), %%ENV:X%% references from the
// environment too. It exits 0 when all rules hold, 1 when one does not (or
// on a usage error), 2 when no rule applies.
//
// Where the system is comes from the SVCKIT_COMP_ROOT, SVCKIT_COMP_PROC_SYS,
// SVCKIT_COMP_NODECONF, SVCKIT_COMP_BACKUP_DIR, SVCKIT_COMP_PKG_BACKEND and
// SVCKIT_COMP_NODENAME variables the module runner sets; unset, it is the
// real system. Called as compobj, the object is the first argument:
// compobj file PREFIX check.
//
// The argument syntax is the reference's, fixed and positional, so this
// program parses it directly rather than through a flag library.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/svckit/svckit/compliance/checker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Environ())
	stop()
	os.Exit(code)
}

const usage = "usage: %s PREFIX check|fix|fixable"

func run(ctx context.Context, args, environ []string) int {
	obj := strings.TrimSuffix(filepath.Base(args[0]), ".py")
	args = args[1:]
	if checker.Canonical(obj) == "" {
		if len(args) == 0 || checker.Canonical(strings.TrimSuffix(args[0], ".py")) == "" {
			fmt.Fprintf(os.Stderr, "usage: compobj file|files|sysctl|package|packages|nodeconf PREFIX check|fix|fixable\n")
			return 1
		}
		obj, args = strings.TrimSuffix(args[0], ".py"), args[1:]
	}
	if len(args) != 2 || args[0] == "" {
		fmt.Fprintf(os.Stderr, usage+"\n", obj+".py")
		return 1
	}
	prefix, action := args[0], args[1]
	vars := checker.VarsWithPrefix(environ, prefix)
	if len(vars) == 0 {
		fmt.Printf("no rules (no variable starts with %s)\n", prefix)
		return int(checker.NA)
	}
	o, err := checker.NewObject(obj, vars)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", obj, err)
		return int(checker.NOK)
	}
	env := checker.EnvFromEnviron(environ)
	env.Out, env.Err = os.Stdout, os.Stderr
	defer env.Close()
	st, err := checker.Run(ctx, o, env, action)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n"+usage+"\n", obj, err, obj+".py")
		return int(checker.NOK)
	}
	return int(st)
}
