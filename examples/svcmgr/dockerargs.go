package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// splitDockerArgs separates, in the arguments of `svcmgr docker`, svcmgr's
// own flags (--root, -s, --tags, ..., with their values) from the docker
// command line, so that `svcmgr -s S docker load -i FILE` passes -i FILE to
// docker as the reference's passthrough does. A flag svcmgr knows is
// svcmgr's wherever it stands (`docker rm %instances% --tags pod09`);
// everything after "--" is docker's (`docker -- ps --format X`, --format
// being svcmgr's too). lookup tells whether a flag is svcmgr's and whether
// it takes a value (not a boolean).
func splitDockerArgs(args []string, lookup func(name string, short bool) (known, takesValue bool)) (own, docker []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return own, append(docker, args[i+1:]...)
		}
		var name string
		var short bool
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name = a[2:]
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name, short = a[1:], true
		default:
			docker = append(docker, a)
			continue
		}
		name, _, inline := strings.Cut(name, "=")
		known, takesValue := lookup(name, short)
		if !known || (short && len(name) != 1) {
			docker = append(docker, a)
			continue
		}
		own = append(own, a)
		if takesValue && !inline && i+1 < len(args) {
			i++
			own = append(own, args[i])
		}
	}
	return own, docker
}

// inheritedLookup is the lookup of splitDockerArgs over the flags cmd
// inherits from svcmgr's root.
func inheritedLookup(cmd *cobra.Command) func(string, bool) (bool, bool) {
	fs := cmd.InheritedFlags()
	return func(name string, short bool) (bool, bool) {
		f := fs.Lookup(name)
		if short {
			f = fs.ShorthandLookup(name)
		}
		if f == nil {
			return false, false
		}
		return true, f.NoOptDefVal == ""
	}
}
