package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/html"
	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/examples/collector/client"
	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/formtemplate/web"
)

// Where the scenario keeps the service config: the collector (the seed's
// way) or a directory store.
const (
	StoreCollector = "collector"
	StoreDir       = "dir"
)

// formPath is where the collector serves the seed's form.
const formPath = "/forms/spd"

// collectorRun is the run's collector: the server of examples/collector
// on SQLite in the run's directory, on loopback, with its pages (the
// seed's form among them) and an admin user whose random password is
// never printed, a browser-like session of that admin, and one client
// per registered node.
type collectorRun struct {
	db    *server.DB
	http  *http.Server
	url   string // http://127.0.0.1:port
	admin *client.API
	// nodes are the registered nodes' clients, authenticated as
	// nodename:uuid.
	nodes map[string]*client.API
	// browser holds the admin's session cookie for the pages.
	browser *http.Client
}

// startCollector starts the collector on a loopback port.
func startCollector(ctx context.Context, dir string) (*collectorRun, error) {
	db, err := server.OpenDB(ctx, "", filepath.Join(dir, "collector"))
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	password := rand.Text()
	// The lowest cost: the hash never leaves this run, and a run should
	// not spend a second of CPU on it.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		db.Close()
		return nil, err
	}
	users, err := server.ParseUsers("spd users", []byte("admin:"+string(hash)+":admin\n"))
	if err != nil {
		db.Close()
		return nil, err
	}
	srv := server.New(db, server.Options{Users: users, NotifyPort: -1, Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("collector: %w", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		ln.Close()
		db.Close()
		return nil, err
	}
	c := &collectorRun{db: db, url: "http://" + ln.Addr().String(), nodes: map[string]*client.API{},
		browser: &http.Client{Timeout: 30 * time.Second, Jar: jar}}
	if c.admin, err = client.New(c.url); err != nil {
		ln.Close()
		db.Close()
		return nil, err
	}
	c.admin = c.admin.As("admin", password)
	c.http = srv.HTTPServer("")
	go c.http.Serve(ln)
	return c, nil
}

// Close stops the server and closes the database.
func (c *collectorRun) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.http.Shutdown(ctx)
	c.db.Close()
}

// page GETs a page of the collector as the browser and returns its HTML
// and the CSRF token of its first form.
func (c *collectorRun) page(ctx context.Context, path string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+path, nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.browser.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return string(body), csrfToken(string(body)), nil
}

// csrfToken finds the value of the first hidden csrf_token input.
func csrfToken(page string) string {
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if t.Data != "input" {
				continue
			}
			var name, value string
			for _, a := range t.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name == "csrf_token" {
				return value
			}
		}
	}
}

// post sends a form-encoded POST as the browser, from the collector's own
// page (Origin and Sec-Fetch-Site as a browser sets them).
func (c *collectorRun) post(ctx context.Context, path string, form url.Values, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", accept)
	req.Header.Set("Origin", c.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.browser.Do(req)
}

// login logs the admin in through the login page, once.
func (c *collectorRun) login(ctx context.Context) error {
	u, _ := url.Parse(c.url)
	for _, ck := range c.browser.Jar.Cookies(u) {
		if strings.Contains(ck.Name, "session") {
			return nil
		}
	}
	_, tok, err := c.page(ctx, "/login")
	if err != nil {
		return err
	}
	if tok == "" {
		return errors.New("GET /login: no csrf_token in the login page")
	}
	resp, err := c.post(ctx, "/login", url.Values{"username": {c.admin.User}, "password": {c.admin.Password}, "csrf_token": {tok}, "next": {formPath}}, "text/html")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != formPath {
		return fmt.Errorf("POST /login: %s (at %s)", resp.Status, resp.Request.URL.Path)
	}
	return nil
}

// submitForm submits the seed's form as a browser does: log in, GET the
// form page, then a form-encoded POST of the answers with the page's
// CSRF token (asking for the JSON answer, which a program reads more
// safely than the result page). It returns the receipt and the
// generated config's size.
func (c *collectorRun) submitForm(ctx context.Context, answers url.Values) (*web.Receipt, int, error) {
	if err := c.login(ctx); err != nil {
		return nil, 0, fmt.Errorf("collector login: %w", err)
	}
	page, tok, err := c.page(ctx, formPath)
	if err != nil {
		return nil, 0, err
	}
	if !strings.Contains(page, "<form") || tok == "" {
		return nil, 0, fmt.Errorf("GET %s: not the form page", formPath)
	}
	form := url.Values{}
	for k, v := range answers {
		form[k] = v
	}
	form.Set("csrf_token", tok)
	resp, err := c.post(ctx, formPath, form, "application/json")
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, 0, err
	}
	var ans struct {
		web.Result
		Problems []struct {
			Input   string `json:"input"`
			Message string `json:"message"`
		} `json:"problems"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, 0, fmt.Errorf("POST %s: %s: the answer is not JSON: %w", formPath, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || ans.Stored == nil {
		var msgs []string
		for _, p := range ans.Problems {
			msgs = append(msgs, p.Input+": "+p.Message)
		}
		if ans.Error != "" {
			msgs = append(msgs, ans.Error)
		}
		return nil, 0, fmt.Errorf("POST %s: %s: %s", formPath, resp.Status, strings.Join(msgs, "; "))
	}
	size := 0
	for _, d := range ans.Documents {
		size += d.Bytes
	}
	return ans.Stored, size, nil
}

// checkLatest checks that the service's latest revision in the collector
// is rev, with checksum sum: what the form stored is what the nodes pull.
func (c *collectorRun) checkLatest(ctx context.Context, svcname, rev, sum string) error {
	var ans struct {
		Data []server.Revision `json:"data"`
	}
	if err := c.admin.Call(ctx, http.MethodGet, "/services/"+svcname+"/revisions", nil, &ans); err != nil {
		return err
	}
	if len(ans.Data) == 0 {
		return fmt.Errorf("the collector holds no revision of %s", svcname)
	}
	latest := ans.Data[0]
	for _, r := range ans.Data {
		if r.Rev > latest.Rev {
			latest = r
		}
	}
	if strconv.FormatInt(latest.Rev, 10) != rev || latest.Checksum != sum {
		return fmt.Errorf("the collector's latest revision of %s is %d (sha256 %.12s), the form stored revision %s (the config pulled has sha256 %.12s)", svcname, latest.Rev, latest.Checksum, rev, sum)
	}
	return nil
}

// formAnswers are the seed's form answers as a browser posts them.
func formAnswers(in spd.Inputs) url.Values {
	return url.Values{
		spd.InputNPods:   {strconv.Itoa(in.NPods)},
		spd.InputSvcname: {in.Svcname},
		spd.InputApp:     {in.App},
		spd.InputNodes:   {strings.Join(in.Nodes, " ")},
		spd.InputSMImage: {in.SMImage},
		spd.InputDBImage: {in.DBImage},
		spd.InputRootPwd: {in.RootPassword.Reveal()},
	}
}

// register registers a node as `nodemgr register` does (node.dbopensvc
// and node.uuid in its node.conf), then pushes its asset and packages
// as `nodemgr pushasset` and `pushpkg` do; the node's client
// authenticates with its uuid from then on.
func (c *collectorRun) register(ctx context.Context, root, node, path string) (*client.API, error) {
	uuid, err := c.admin.Register(ctx, node, app, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	env := &checker.Env{Root: root}
	defer env.Close()
	err = env.UpdateNodeConf(ctx, func(cfg *ini.File) (bool, error) {
		s := cfg.Section("node")
		s.Key("dbopensvc").SetValue(c.admin.Base)
		s.Key("uuid").SetValue(uuid)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	api := c.admin.As(node, uuid)
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: root, Nodename: node, Path: path})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	if err := api.PushAsset(ctx, client.Asset(facts)); err != nil {
		return nil, fmt.Errorf("%s: pushasset: %w", node, err)
	}
	if err := api.PushPackages(ctx, facts.Packages); err != nil {
		return nil, fmt.Errorf("%s: pushpkg: %w", node, err)
	}
	c.nodes[node] = api
	return api, nil
}

// registerNodes registers every node (the relayout's too) with the
// collector and makes it pull from there as itself; the collector's
// admin imports the seed's node compliance export and attaches spdc.node
// to the service's nodes. It returns the collector's revision of the
// config.
func (s *scenario) registerNodes(ctx context.Context) (string, error) {
	fmt.Fprintf(s.out, "   $ nodemgr register --collector %s --app %s; nodemgr pushasset; nodemgr pushpkg (on %d nodes)\n", s.coll.url, app, len(s.agents))
	for _, n := range slices.Sorted(maps.Keys(s.agents)) {
		a := s.agents[n]
		api, err := s.coll.register(ctx, a.Root, n, s.paths[n])
		if err != nil {
			return "", err
		}
		a.Store = api.Services()
	}
	export, err := compliance.ParseExport("spdc-node.json", spdcNodeExport)
	if err != nil {
		return "", err
	}
	if err := s.coll.admin.Call(ctx, http.MethodPost, "/compliance/import", export, nil); err != nil {
		return "", err
	}
	for _, n := range s.nodes() {
		body := map[string]any{"modulesets": []string{nodeModuleset}}
		if err := s.coll.admin.Call(ctx, http.MethodPost, "/compliance/nodes/"+n+"/modulesets", body, nil); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(s.out, "   collector: spdc-node.json imported (%d modulesets), %s attached to %s\n", len(export.ModulesetNames()), nodeModuleset, strings.Join(s.nodes(), " "))
	cfg, err := s.coll.admin.Services().Get(ctx, svcname)
	if err != nil {
		return "", err
	}
	return cfg.Revision, nil
}

// nodeRules returns each node's compliance rules: from the collector, the
// node's effective rules (what is attached to it, the rulesets whose
// filtersets its pushed inventory passes), as `nodemgr compliance
// --rules URL` reads them; with -store dir, the seed's export.
func (s *scenario) nodeRules(ctx context.Context, nodes []string) ([]*compliance.Export, error) {
	out := make([]*compliance.Export, len(nodes))
	if !s.collector() {
		export, err := compliance.ParseExport("spdc-node.json", spdcNodeExport)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = export
		}
		return out, nil
	}
	for i, n := range nodes {
		api := s.coll.nodes[n]
		if api == nil {
			return nil, fmt.Errorf("%s: not registered with the collector", n)
		}
		e, err := api.NodeRules(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if _, ok := e.Moduleset(nodeModuleset); !ok {
			return nil, fmt.Errorf("%s: the collector serves no %s to this node (modulesets: %s)", n, nodeModuleset, strings.Join(e.ModulesetNames(), " "))
		}
		out[i] = e
	}
	fmt.Fprintf(s.out, "   $ nodemgr compliance check --rules %s/compliance/nodes/self/rules (the node's effective rules, as each node)\n", s.coll.admin.Base)
	return out, nil
}
