package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svckit/svckit/svc"
)

// freezeCmds are freeze and thaw: a frozen service is left alone by the
// resource monitor of the node daemon (never started, restarted or acted
// on); operators' actions still run, as in the reference.
func freezeCmds(g *globals) []*cobra.Command {
	mk := func(name, done, short string, do func(*svc.Service, context.Context, svc.ActionOptions) error) *cobra.Command {
		return &cobra.Command{
			Use: name, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if g.cl.cluster {
					return usageError("%s --cluster: not supported; run it on each node", name)
				}
				s, err := g.load(cmd.Context())
				if err != nil {
					return err
				}
				opts := g.actionOptions(cmd.Flags())
				if err := do(s, cmd.Context(), opts); err != nil {
					return &exitError{code: 1, err: errors.New(s.Redact(err.Error()))}
				}
				if g.format == "json" {
					frozen, err := s.Frozen()
					if err != nil {
						return err
					}
					return g.writeJSON(map[string]any{"service": s.Name(), "node": s.Node(), "frozen": frozen})
				}
				if !opts.DryRun {
					fmt.Fprintf(g.stdout, "%s %s on %s\n", s.Name(), done, s.Node())
				}
				return nil
			},
		}
	}
	return []*cobra.Command{
		mk("freeze", "frozen", "leave the service alone by the daemon's monitor on this node (no start, restart, monitor_action)", (*svc.Service).Freeze),
		mk("thaw", "thawed", "let the daemon's monitor act on the service again on this node", (*svc.Service).Thaw),
	}
}
