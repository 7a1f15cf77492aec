// Package client is a node's (or a user's) client of the collector's REST
// API (examples/collector): register, the inventory pushes, the
// compliance rules the collector serves to a node, and the JSON calls the
// action queue uses. The service configs go through svc/store.Collector,
// which Services returns with the same credentials.
//
// A node authenticates as nodename:uuid (HTTP basic), the uuid being what
// register answered, as with the reference's collector; a user with a
// name and password of the collector's users file.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/resource/secret"
	"github.com/svckit/svckit/svc/store"
)

// APIPrefix is where the collector's REST API lives; a URL without a path
// gets it.
const APIPrefix = "/init/rest/api"

// MaxAnswer bounds what the client reads of an answer (an export of
// rules is bounded by compliance.MaxExportSize, which is smaller).
const MaxAnswer = 16 << 20

// DefaultTimeout bounds a request when the API has no HTTP client.
const DefaultTimeout = 30 * time.Second

// API is the collector's REST API at Base, with credentials.
type API struct {
	// Base is the API root, like https://collector:8080/init/rest/api,
	// without credentials.
	Base string
	// User and Password authenticate (HTTP basic): a node's name and
	// uuid, or a user's. Never printed.
	User, Password string
	// HTTP does the requests; nil: a client with DefaultTimeout.
	HTTP *http.Client
}

// New parses a collector URL with svc/store's rule (http or https;
// user:password in it are taken as the credentials and removed from it)
// and adds APIPrefix when the URL has no path.
func New(raw string) (*API, error) {
	c, err := store.NewCollector(raw)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = APIPrefix
	}
	return &API{Base: strings.TrimRight(u.String(), "/"), User: c.User, Password: c.Password}, nil
}

// As returns a copy of the API authenticated as user:password.
func (a *API) As(user, password string) *API {
	c := *a
	c.User, c.Password = user, password
	return &c
}

func (a *API) client() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// Services is the service config store of this collector with the same
// credentials: pull and push of svc/store.
func (a *API) Services() *store.Collector {
	return &store.Collector{BaseURL: a.Base, User: a.User, Password: a.Password, Client: a.HTTP}
}

// Redact masks the API's password and what resource/secret's rule finds
// in a text sent to the collector or printed.
func (a *API) Redact(text string) string {
	return secret.NewSet(a.Password).Redact(secret.RedactCommand(text))
}

// StatusError is a non-2xx answer: its status and the collector's message.
type StatusError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("collector: %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// Call does one JSON request on Base+path; out (when not nil) receives the
// answer's JSON. A non-2xx answer is a *StatusError.
func (a *API) Call(ctx context.Context, method, path string, in, out any) error {
	raw, err := a.do(ctx, method, a.Base+path, path, in, MaxAnswer, true)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("collector: %s %s: answer: %w", method, path, err)
		}
	}
	return nil
}

// do sends the request to target (shown as name in errors) with the
// credentials when auth is set.
func (a *API) do(ctx context.Context, method, target, name string, in any, limit int64, auth bool) ([]byte, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("collector: %s %s: %w", method, name, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && a.User != "" {
		req.SetBasicAuth(a.User, a.Password)
	}
	resp, err := a.client().Do(req)
	if err != nil {
		// *url.Error holds the URL, which holds no credentials here.
		return nil, fmt.Errorf("collector: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("collector: %s %s: %w", method, name, err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("collector: %s %s: the answer is larger than %d bytes", method, name, limit)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		return nil, &StatusError{Method: method, Path: name, Status: resp.StatusCode, Message: a.Redact(e.Error)}
	}
	return raw, nil
}

// Register registers node with the collector (as the API's user, or
// anonymously when the collector allows it) and returns the node's uuid:
// its password from now on. notifyAddr is where the collector connects
// when actions are queued for the node ("" the node name, port 1214).
func (a *API) Register(ctx context.Context, node, app, notifyAddr string) (string, error) {
	if err := nodename.Check(node); err != nil {
		return "", fmt.Errorf("register: %w", err)
	}
	var ans struct {
		Data struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	body := map[string]string{"nodename": node, "app": app, "notify_addr": notifyAddr}
	if err := a.Call(ctx, http.MethodPost, "/register", body, &ans); err != nil {
		return "", err
	}
	if ans.Data.UUID == "" || checker.CheckNodeConfValue(ans.Data.UUID) != nil {
		return "", errors.New("register: the collector answered no usable uuid")
	}
	return ans.Data.UUID, nil
}

// Asset is what a node sends as its asset: the [node] keys of its facts
// but node.uuid (its password) and the secret-named ones.
func Asset(facts *compliance.Facts) map[string]string {
	asset := map[string]string{}
	for k, v := range facts.Node {
		if k == "uuid" || secret.IsName(k) || secret.IsName("node."+k) {
			continue
		}
		asset[k] = v
	}
	return asset
}

// PushAsset sends the node's asset (see Asset); the API's user is the node.
func (a *API) PushAsset(ctx context.Context, asset map[string]string) error {
	return a.Call(ctx, http.MethodPost, "/nodes/self/asset", map[string]any{"node": asset}, nil)
}

// PushPackages sends the node's installed packages.
func (a *API) PushPackages(ctx context.Context, pkgs []checker.Package) error {
	if pkgs == nil {
		pkgs = []checker.Package{}
	}
	return a.Call(ctx, http.MethodPost, "/nodes/self/packages", map[string]any{"packages": pkgs}, nil)
}

// NodeRules fetches the node's effective rules: the modulesets attached
// to it, with the rulesets whose filtersets its inventory passes, as an
// export.
func (a *API) NodeRules(ctx context.Context) (*compliance.Export, error) {
	return a.FetchExport(ctx, a.Base+"/compliance/nodes/self/rules")
}

// ServiceRules fetches the rules of a service's modulesets for this node.
func (a *API) ServiceRules(ctx context.Context, svcname string) (*compliance.Export, error) {
	if err := store.ValidServiceName(svcname); err != nil {
		return nil, err
	}
	return a.FetchExport(ctx, a.Base+"/compliance/services/"+url.PathEscape(svcname)+"/rules")
}

// FetchExport reads an export JSON at an http(s) URL. The API's
// credentials go only to the API's own scheme and host: a URL elsewhere
// is fetched with the credentials it holds itself, or none, so that a
// rules URL can never take the node's uuid to another server.
func (a *API) FetchExport(ctx context.Context, raw string) (*compliance.Export, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rules url %q: expected http(s)://host[:port]/path", redactURL(raw))
	}
	c := *a
	auth := sameOrigin(u, a.Base)
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
		u.User = nil
		auth = true
	}
	name := u.String()
	data, err := c.do(ctx, http.MethodGet, name, name, nil, compliance.MaxExportSize, auth)
	if err != nil {
		return nil, err
	}
	return compliance.ParseExport(name, data)
}

func sameOrigin(u *url.URL, base string) bool {
	b, err := url.Parse(base)
	return err == nil && strings.EqualFold(u.Scheme, b.Scheme) && strings.EqualFold(u.Host, b.Host)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// IsURL tells whether a --rules argument is a URL rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
