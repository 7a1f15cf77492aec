package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/resource/secret"
	"github.com/svckit/svckit/svc/store"
)

// apiPrefix is where the collector's REST API lives; a --collector URL
// without a path gets it.
const apiPrefix = "/init/rest/api"

// maxAnswer bounds what nodemgr reads of a collector answer.
const maxAnswer = 16 << 20

// collectorAPI is the node's side of the collector's REST API: the
// node authenticates as nodename:uuid (node.uuid, set by register).
type collectorAPI struct {
	base, user, password string
	hc                   *http.Client
}

// newCollectorAPI parses a collector URL with svc/store's rule (http or
// https, credentials in it taken out) and adds the API path when the URL
// has none.
func newCollectorAPI(raw string) (*collectorAPI, error) {
	c, err := store.NewCollector(raw)
	if err != nil {
		return nil, usagef("--collector: %v", err)
	}
	u, _ := url.Parse(c.BaseURL)
	if u.Path == "" || u.Path == "/" {
		u.Path = apiPrefix
	}
	return &collectorAPI{base: u.String(), user: c.User, password: c.Password, hc: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call does one JSON request; out receives the answer's JSON. An error
// answer is reported with its status and the collector's message.
func (c *collectorAPI) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error holds the URL, which holds no credentials here.
		return fmt.Errorf("collector: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("collector: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(raw, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		return fmt.Errorf("collector: %s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("collector: %s %s: answer: %w", method, path, err)
		}
	}
	return nil
}

// nodeCollector returns the collector of node.conf (node.dbopensvc)
// authenticated as this node (node.uuid).
func (g *globals) nodeCollector() (*collectorAPI, error) {
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
	c.user, c.password = g.node, id
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
				api.user, api.password = rf.user, pw
			}
			var ans struct {
				Data struct {
					UUID string `json:"uuid"`
				} `json:"data"`
			}
			body := map[string]string{"nodename": g.node, "app": rf.app, "notify_addr": rf.notifyAddr}
			if err := api.call(c.Context(), "POST", "/register", body, &ans); err != nil {
				return err
			}
			if err := checker.CheckNodeConfValue(ans.Data.UUID); err != nil || ans.Data.UUID == "" {
				return errors.New("register: the collector answered no usable uuid")
			}
			// The URL is stored without the user's credentials: the node
			// authenticates with its uuid from now on.
			env := g.nodeConfEnv()
			defer env.Close()
			err = env.UpdateNodeConf(c.Context(), func(cfg *ini.File) (bool, error) {
				s := cfg.Section("node")
				s.Key("dbopensvc").SetValue(api.base)
				s.Key("uuid").SetValue(ans.Data.UUID)
				return true, nil
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "registered %s with %s (node.uuid stored in %s)\n", g.node, api.base, nodeConfPath(g.root))
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
			asset := map[string]string{}
			for k, v := range facts.Node {
				// node.uuid is the node's password to the collector;
				// secret-named keys are never sent.
				if k == "uuid" || isSecret("node", k) {
					continue
				}
				asset[k] = v
			}
			if err := api.call(c.Context(), "POST", "/nodes/self/asset", map[string]any{"node": asset}, nil); err != nil {
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
			if pkgs == nil {
				pkgs = []checker.Package{}
			}
			if err := api.call(c.Context(), "POST", "/nodes/self/packages", map[string]any{"packages": pkgs}, nil); err != nil {
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
func (g *globals) factsAndCollector(ctx context.Context) (*compliance.Facts, *collectorAPI, error) {
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

// redactor masks the node's uuid and what resource/secret's rule finds
// in a text sent to the collector or printed.
func (c *collectorAPI) redact(text string) string {
	return secret.NewSet(c.password).Redact(secret.RedactCommand(text))
}
