// Package compliance checks and fixes node and service configuration the
// way the OpenSVC collector's compliance does: modulesets of modules,
// rulesets of typed variables, filtersets that make a ruleset contextual.
//
// The rules come from the collector's "Configuration targets export" JSON
// (LoadExport, ParseExport, Merge). GatherFacts describes the node
// (os-release and uname under a root, the [node] keys of the node
// configuration, the installed packages from dpkg or rpm) for the
// filtersets. An Engine then runs modules:
//
//   - a script module is an executable NN-name in the modules directory
//     (<root>/var/compliance/modules), run in NN order with `check`, `fix`
//     or `fixable` and the variables in its environment as OSVC_COMP_<NAME>;
//     the reference's bash modules call com.opensvc/file.py and friends,
//     which InstallCompObj links to the examples/compobj binary;
//   - a module with no script is native (the reference's automodule): the
//     checkers of package checker run on the variables of its moduleset's
//     rulesets.
//
// Fix runs check, fixable, fix, check on each module and leaves a conform
// module alone; Auto fixes the autofix modules and checks the others.
// Results carry ok, nok, n/a or failed, the output and the duration, and
// render as text or JSON with a digest.
//
// Everything happens under Options.Root (and Options.ProcSys for live
// sysctls), so a test or a dry run on a copy never touches the host; the
// defaults are the real paths. Every path a native rule reads or writes is
// resolved inside the root with os.Root, symbolic links included: a path
// that leads out (an absolute link, or a relative one climbing above the
// root) is a rule error naming the path and the link, and nothing outside
// is read or written. A module run opens the parent directory of each
// rule path once, inside the root, and reads through it until its next
// write (a read it refuses is redone from the root, which decides): rules
// cost a few system calls, not a walk of the path each. A check's diff is bounded (1 MiB and 2000 lines of
// each side read, 400 lines or 64 KiB printed, with a note when cut); an
// export is bounded by MaxExportSize and MaxExportDepth. Values of
// variables named like secrets (the rule of resource/secret: password,
// pwd, token, *_key, credentials...), and what %%ENV:X%% substitutes from
// them, never show in diffs, module outputs, reports or logs.
package compliance
