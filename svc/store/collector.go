package store

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
	"strings"
	"time"
)

// Collector is a store on the OpenSVC collector's REST API, where the
// seed's configuration form posts the generated config:
//
//	GET  <BaseURL>/services/<svc>?props=svc_name,svc_envfile,updated
//	     -> {"data": [{"svc_name": ..., "svc_envfile": ..., "updated": ...}]}
//	POST <BaseURL>/services  {"svc_name": ..., "svc_envfile": ..., "svc_app": ...}
//	     (creates or modifies; answers like GET)
//
// BaseURL is the API root, like https://collector.example.com/init/rest/api.
// Put sends the expected revision as a conditional write (If-Match
// "<checksum>", If-None-Match * to create): svckit's collector
// (examples/collector) refuses a stale write atomically with 412. The
// reference collector ignores those headers: against it Put also reads
// the current config and compares its checksum first, which catches a
// stale change but leaves a window of one round trip.
type Collector struct {
	BaseURL string
	// User and Password authenticate (HTTP basic). Never printed.
	User, Password string
	// Client does the requests; default: a client with a 30s timeout.
	Client *http.Client
}

// NewCollector returns the collector store at baseURL; user:password in
// the URL are taken as the credentials and removed from it.
func NewCollector(baseURL string) (*Collector, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("collector url %q: expected http(s)://host[:port]/init/rest/api", redactURL(baseURL))
	}
	c := &Collector{}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
		u.User = nil
	}
	c.BaseURL = strings.TrimRight(u.String(), "/")
	return c, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func (c *Collector) String() string { return "collector:" + c.BaseURL }

func (c *Collector) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

type collectorService struct {
	Name    string `json:"svc_name"`
	EnvFile string `json:"svc_envfile"`
	App     string `json:"svc_app,omitempty"`
	Updated string `json:"updated,omitempty"`
}

type collectorAnswer struct {
	Data  []collectorService `json:"data"`
	Error any                `json:"error,omitempty"`
	Info  any                `json:"info,omitempty"`
	// Actual is the revision a refused conditional write met.
	Actual any `json:"actual,omitempty"`
}

func (c *Collector) do(ctx context.Context, method, path string, body any, header http.Header) (*collectorAnswer, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	var ans collectorAnswer
	jerr := json.Unmarshal(raw, &ans)
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(raw))
		if jerr == nil && ans.Error != nil {
			msg = fmt.Sprint(ans.Error)
		}
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return &ans, resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	if jerr != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: answer is not the collector's JSON: %w", method, path, jerr)
	}
	return &ans, resp.StatusCode, nil
}

// Get fetches the service's svc_envfile.
func (c *Collector) Get(ctx context.Context, svcname string) (*Config, error) {
	if err := ValidServiceName(svcname); err != nil {
		return nil, fmt.Errorf("%s: get: %w", c, err)
	}
	ans, code, err := c.do(ctx, http.MethodGet, "/services/"+url.PathEscape(svcname)+"?props=svc_name,svc_envfile,updated", nil, nil)
	if code == http.StatusNotFound || (err == nil && len(ans.Data) == 0) {
		return nil, fmt.Errorf("%s: get %s: %w", c, svcname, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: get %s: %w", c, svcname, err)
	}
	s := ans.Data[0]
	if s.EnvFile == "" {
		return nil, fmt.Errorf("%s: get %s: the service has no config (svc_envfile is empty): %w", c, svcname, ErrNotFound)
	}
	data := []byte(s.EnvFile)
	sum := Checksum(data)
	cfg := &Config{Service: svcname, Data: data, Checksum: sum, Revision: sum}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s.Updated); err == nil {
			cfg.Time = t
			break
		}
	}
	return cfg, nil
}

// Put posts the config as the service's svc_envfile, with svc_app taken
// from the config's DEFAULT app keyword, as the seed's form does.
func (c *Collector) Put(ctx context.Context, svcname string, data []byte, expect string) (*Config, error) {
	if err := ValidServiceName(svcname); err != nil {
		return nil, fmt.Errorf("%s: put: %w", c, err)
	}
	if expect != AnyRevision {
		cur, err := c.Get(ctx, svcname)
		actual := ""
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		default:
			actual = cur.Revision
		}
		if actual != expect {
			return nil, &ConflictError{Store: c.String(), Service: svcname, Expected: expect, Actual: actual}
		}
	}
	body := collectorService{Name: svcname, EnvFile: string(data), App: defaultApp(data)}
	h := http.Header{}
	switch expect {
	case AnyRevision:
	case Absent:
		h.Set("If-None-Match", "*")
	default:
		h.Set("If-Match", `"`+expect+`"`)
	}
	ans, code, err := c.do(ctx, http.MethodPost, "/services", body, h)
	if code == http.StatusPreconditionFailed {
		actual := ""
		if ans != nil {
			actual, _ = ans.Actual.(string)
		}
		return nil, &ConflictError{Store: c.String(), Service: svcname, Expected: expect, Actual: actual}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: put %s: %w", c, svcname, err)
	}
	sum := Checksum(data)
	return &Config{Service: svcname, Data: data, Checksum: sum, Revision: sum, Time: time.Now().UTC()}, nil
}

// defaultApp returns the app keyword of the DEFAULT section, or "".
func defaultApp(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inDefault := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inDefault = line == "[DEFAULT]"
			continue
		}
		if !inDefault {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "app" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
