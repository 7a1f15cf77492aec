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
	"os"
	"os/signal"
	"syscall"

	"github.com/svckit/svckit/compliance/checker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Environ())
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args, environ []string) int {
	return checker.RunObjectCommand(ctx, args, environ, os.Stdout, os.Stderr)
}
