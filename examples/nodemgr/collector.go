package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/examples/collector/client"
	"github.com/svckit/svckit/internal/nodename"
)

// newCollectorAPI parses a collector URL (client.New's rule); a bad one
// is the caller's error.
func newCollectorAPI(raw string) (*client.API, error) {
	c, err := client.New(raw)
	if err != nil {
		return nil, usagef("--collector: %v", err)
	}
	return c, nil
}

// nodeCollector returns the collector of node.conf (node.dbopensvc)
// authenticated as this node (node.uuid).
func (g *globals) nodeCollector() (*client.API, error) {
	env := g.nodeConfEnv()
	defer env.Close()
	cfg, err := env.LoadNodeConf()
	if err != nil {
		return nil, err
	}
	sec := cfg.Section("node")
	u, id := sec.Key("dbopensvc").String(), sec.Key("uuid").String()
	if u == "" || id == "" {
		return nil, fmt.Errorf("%s: [node] dbopensvc and uuid: expected both, set by nodemgr register --collector URL", nodeConfPath(g.root))
	}
	c, err := newCollectorAPI(u)
	if err != nil {
		return nil, fmt.Errorf("%s: [node] dbopensvc: %v", nodeConfPath(g.root), err)
	}
	c.User, c.Password = g.node, id
	return c, nil
}

// readPasswordFile reads the first line of a password file.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 4096))
	if !sc.Scan() || sc.Text() == "" {
		return "", fmt.Errorf("--password-file %s: expected the password on the first line", path)
	}
	return sc.Text(), nil
}

type registerFlags struct {
	collector, app, user, passwordFile, notifyAddr string
}

func addCollectorCommands(root *cobra.Command, g *globals, stdout io.Writer) {
	rf := &registerFlags{}
	register := &cobra.Command{
		Use:   "register --collector URL [--app A] [--user U --password-file F]",
		Short: "register this node with the collector; node.dbopensvc and node.uuid go to node.conf",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkNode(); err != nil {
				return err
			}
			if rf.collector == "" {
				return usagef("register: --collector URL is required")
			}
			api, err := newCollectorAPI(rf.collector)
			if err != nil {
				return err
			}
			if (rf.user == "") != (rf.passwordFile == "") {
				return usagef("register: --user and --password-file go together")
			}
			if rf.user != "" {
				pw, err := readPasswordFile(rf.passwordFile)
				if err != nil {
					return err
				}
				api.User, api.Password = rf.user, pw
			}
			uuid, err := api.Register(c.Context(), g.node, rf.app, rf.notifyAddr)
			if err != nil {
				return err
			}
			// The URL is stored without the user's credentials: the node
			// authenticates with its uuid from now on.
			env := g.nodeConfEnv()
			defer env.Close()
			err = env.UpdateNodeConf(c.Context(), func(cfg *ini.File) (bool, error) {
				s := cfg.Section("node")
				s.Key("dbopensvc").SetValue(api.Base)
				s.Key("uuid").SetValue(uuid)
				return true, nil
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "registered %s with %s (node.uuid stored in %s)\n", g.node, api.Base, nodeConfPath(g.root))
			return err
		},
	}
	register.Flags().StringVar(&rf.collector, "collector", "", "collector URL: http(s)://host[:port][/init/rest/api]")
	register.Flags().StringVar(&rf.app, "app", "", "the node's app code")
	register.Flags().StringVar(&rf.user, "user", "", "collector user (re-registering a node needs one)")
	register.Flags().StringVar(&rf.passwordFile, "password-file", "", "file whose first line is the user's password")
	register.Flags().StringVar(&rf.notifyAddr, "notify-addr", "", "host:port the collector connects to when actions are queued (default: the node name, port 1214)")

	pushasset := &cobra.Command{
		Use:   "pushasset",
		Short: "send the node's facts (os, kernel, node.conf [node] keys but secrets) to the collector",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			facts, api, err := g.factsAndCollector(c.Context())
			if err != nil {
				return err
			}
			asset := client.Asset(facts)
			if err := api.PushAsset(c.Context(), asset); err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "asset of %s sent: %d fields\n", g.node, len(asset))
			return err
		},
	}
	pushpkg := &cobra.Command{
		Use:   "pushpkg",
		Short: "send the node's installed packages to the collector",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			facts, api, err := g.factsAndCollector(c.Context())
			if err != nil {
				return err
			}
			pkgs := facts.Packages
			if err := api.PushPackages(c.Context(), pkgs); err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "packages of %s sent: %d\n", g.node, len(pkgs))
			return err
		},
	}
	root.AddCommand(register, pushasset, pushpkg)
	addDequeueCommand(root, g, stdout)
}

func (g *globals) checkNode() error {
	if err := nodename.Check(g.node); err != nil {
		return usagef("--node: %v", err)
	}
	return nil
}

// factsAndCollector gathers the facts as the compliance engine does and
// returns the node's collector.
func (g *globals) factsAndCollector(ctx context.Context) (*compliance.Facts, *client.API, error) {
	if err := g.checkNode(); err != nil {
		return nil, nil, err
	}
	api, err := g.nodeCollector()
	if err != nil {
		return nil, nil, err
	}
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: g.root, Nodename: g.node, Path: g.path})
	if err != nil {
		return nil, nil, err
	}
	return facts, api, nil
}
