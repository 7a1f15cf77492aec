package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/svckit/svckit/compliance/modrepo"
)

func addUpdateCompCommand(root *cobra.Command, g *globals, stdout io.Writer) {
	var format string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "updatecomp",
		Short: "download the compliance modules from node.repocomp (or node.repo) and install them",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: expected text or json", format)
			}
			if timeout <= 0 {
				return usagef("--timeout %s: expected a positive duration", timeout)
			}
			env := g.nodeConfEnv()
			defer env.Close()
			cfg, err := env.LoadNodeConf()
			if err != nil {
				return err
			}
			node := cfg.Section("node")
			url, err := modrepo.ArchiveURL(node.Key("repocomp").String(), node.Key("repo").String())
			if err != nil {
				return fmt.Errorf("%s: %w", nodeConfPath(g.root), err)
			}
			// Where `nodemgr compliance` reads the modules
			// (compliance.Options' default ModulesDir under --root),
			// resolved inside the root as the compliance rules' paths are.
			// "/" is the real system, where absolute links (which
			// os.Root refuses) keep working, as in compliance.
			dir, opts := "/var/compliance/modules", modrepo.Options{Timeout: timeout}
			if filepath.Clean(g.root) != "/" {
				opts.Root = g.root
			}
			res, err := modrepo.Update(c.Context(), url, dir, opts)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(stdout, "got %s (%d bytes, sha256 %s)\n", res.URL, res.Size, res.SHA256)
			fmt.Fprintf(stdout, "installed %d modules in %s: %s\n", len(res.Modules), res.Dir, strings.Join(res.Modules, ", "))
			if res.Backup != "" {
				fmt.Fprintf(stdout, "previous modules kept in %s\n", res.Backup)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "bound on the whole download")
	root.AddCommand(cmd)
}
