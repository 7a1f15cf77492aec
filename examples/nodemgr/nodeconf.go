package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/resource/secret"
)

// nodeConfFlags are the flags of set, get, unset and print config.
type nodeConfFlags struct {
	param       string
	value       string
	format      string
	showSecrets bool
}

// nodeConfEnv is the node configuration as the nodeconf checker and the
// facts see it: <root>/etc/node.conf, read, locked and written by the same
// functions.
func (g *globals) nodeConfEnv() *checker.Env { return &checker.Env{Root: g.root} }

// parseParam checks --param: SECTION.KEY, the form the nodeconf rules use.
func parseParam(p string) (string, string, error) {
	if p == "" {
		return "", "", usagef("--param is required: SECTION.KEY like node.repocomp")
	}
	sec, opt, err := checker.ParseNodeConfKey(p)
	if err != nil {
		return "", "", usagef("--param: %v", err)
	}
	return sec, opt, nil
}

// isSecret is resource/secret's rule applied to a node.conf key, by its
// own name or with its section (so node.db_password and a [credentials]
// section's keys alike). node.uuid is no secret by its name but is the
// node's password to the collector (register stores it).
func isSecret(section, option string) bool {
	return secret.IsName(option) || secret.IsName(section+"."+option)
}

func addNodeConfCommands(root *cobra.Command, g *globals, stdout io.Writer) {
	f := &nodeConfFlags{}
	set := &cobra.Command{
		Use:   "set --param SECTION.KEY --value V",
		Short: "set a node configuration key (<root>/etc/node.conf)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			sec, opt, err := parseParam(f.param)
			if err != nil {
				return err
			}
			if !c.Flags().Changed("value") {
				return usagef("set: --value is required (--value '' sets an empty value)")
			}
			if err := checker.CheckNodeConfValue(f.value); err != nil {
				return usagef("--value: %v", err)
			}
			env := g.nodeConfEnv()
			defer env.Close()
			return env.UpdateNodeConf(c.Context(), func(cfg *ini.File) (bool, error) {
				s := cfg.Section(sec)
				if s.HasKey(opt) && s.Key(opt).String() == f.value {
					return false, nil
				}
				s.Key(opt).SetValue(f.value)
				return true, nil
			})
		},
	}
	set.Flags().StringVar(&f.param, "param", "", "SECTION.KEY, e.g. node.repocomp")
	set.Flags().StringVar(&f.value, "value", "", "the value")

	unset := &cobra.Command{
		Use:   "unset --param SECTION.KEY",
		Short: "remove a node configuration key; unsetting a missing key succeeds",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			sec, opt, err := parseParam(f.param)
			if err != nil {
				return err
			}
			env := g.nodeConfEnv()
			defer env.Close()
			return env.UpdateNodeConf(c.Context(), func(cfg *ini.File) (bool, error) {
				s, err := cfg.GetSection(sec)
				if err != nil || !s.HasKey(opt) {
					return false, nil
				}
				s.DeleteKey(opt)
				return true, nil
			})
		},
	}
	unset.Flags().StringVar(&f.param, "param", "", "SECTION.KEY, e.g. node.repocomp")

	get := &cobra.Command{
		Use:   "get --param SECTION.KEY",
		Short: "print a node configuration key (exit 1 when unset)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			sec, opt, err := parseParam(f.param)
			if err != nil {
				return err
			}
			env := g.nodeConfEnv()
			defer env.Close()
			cfg, err := env.LoadNodeConf()
			if err != nil {
				return err
			}
			s, err := cfg.GetSection(sec)
			if err != nil || !s.HasKey(opt) {
				return fmt.Errorf("%s is not set in %s", f.param, nodeConfPath(g.root))
			}
			v := s.Key(opt).String()
			if isSecret(sec, opt) && !f.showSecrets {
				v = secret.Placeholder
			}
			_, err = fmt.Fprintln(stdout, v)
			return err
		},
	}
	get.Flags().StringVar(&f.param, "param", "", "SECTION.KEY, e.g. node.repocomp")
	get.Flags().BoolVar(&f.showSecrets, "show-secrets", false, "print a secret-named key's value instead of xxxx")

	printCmd := &cobra.Command{
		Use:   "print",
		Short: "print the node configuration",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("print: expected print config")
			}
			return usagef("print: unknown object %q: expected config", args[0])
		},
	}
	printConfig := &cobra.Command{
		Use:   "config",
		Short: "print <root>/etc/node.conf, secret-named keys as xxxx",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if f.format != "text" && f.format != "json" {
				return usagef("--format %q: expected text or json", f.format)
			}
			env := g.nodeConfEnv()
			defer env.Close()
			cfg, err := env.LoadNodeConf()
			if err != nil {
				return err
			}
			out := map[string]map[string]string{}
			for _, s := range cfg.Sections() {
				keys := s.Keys()
				if s.Name() == ini.DefaultSection && len(keys) == 0 {
					continue
				}
				m := map[string]string{}
				for _, k := range keys {
					if isSecret(s.Name(), k.Name()) && !f.showSecrets {
						k.SetValue(secret.Placeholder)
					}
					m[k.Name()] = k.String()
				}
				out[s.Name()] = m
			}
			if f.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			_, err = cfg.WriteTo(stdout)
			return err
		},
	}
	printConfig.Flags().StringVar(&f.format, "format", "text", "output format: text (the INI file) or json")
	printConfig.Flags().BoolVar(&f.showSecrets, "show-secrets", false, "print secret-named keys' values instead of xxxx")
	printCmd.AddCommand(printConfig)
	root.AddCommand(set, unset, get, printCmd)
}

func nodeConfPath(root string) string {
	if root == "/" || root == "" {
		return "/etc/node.conf"
	}
	return root + "/etc/node.conf"
}
