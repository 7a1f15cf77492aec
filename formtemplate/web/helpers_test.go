package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/formtemplate/web"
	"github.com/svckit/svckit/internal/atomicfile"
)

// dirStore is a real store: <svcname>.conf files written atomically in a
// directory, the revision being the sha256 of the content.
type dirStore struct {
	dir   string
	root  *os.Root
	key   string // the input naming the file
	calls atomic.Int64
}

func newDirStore(t testing.TB, key string) *dirStore {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = root.Close() })
	return &dirStore{dir: dir, root: root, key: key}
}

func (s *dirStore) Store(ctx context.Context, sub web.Submission) (web.Receipt, error) {
	s.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return web.Receipt{}, err
	}
	name := sub.Values.String(s.key) + ".conf"
	data := sub.Documents[0].Data
	if err := atomicfile.WriteFileIn(s.root, name, data, 0o600, atomicfile.Keep); err != nil {
		return web.Receipt{}, err
	}
	sum := sha256.Sum256(data)
	return web.Receipt{Location: "dir:" + filepath.Join(s.dir, name), Revision: hex.EncodeToString(sum[:])[:12]}, nil
}

func (s *dirStore) read(t testing.TB, name string) string {
	t.Helper()
	data, err := s.root.ReadFile(name)
	require.NoError(t, err)
	return string(data)
}

// spdHandler serves the seed's form with the spd generator and checks.
func spdHandler(t testing.TB, opts web.Options) (*web.Handler, *dirStore) {
	t.Helper()
	gens := formtemplate.NewGenerators()
	require.NoError(t, spd.Register(gens))
	store := newDirStore(t, spd.InputSvcname)
	opts.Generators = gens
	opts.Check = func(ctx context.Context, v formtemplate.Values) error {
		_, err := spd.FromValues(v)
		return err
	}
	if opts.Store == nil {
		opts.Store = store
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := web.New(spd.Form(), opts)
	require.NoError(t, err)
	return h, store
}

// request is one call of a handler through httptest.
type request struct {
	method      string
	body        string
	contentType string
	header      map[string]string
}

func do(t testing.TB, h http.Handler, rq request) (*http.Response, string) {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	req := httptest.NewRequest(rq.method, "/form", strings.NewReader(rq.body))
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	} else if rq.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func postForm(t *testing.T, h http.Handler, v url.Values) (*http.Response, string) {
	t.Helper()
	return do(t, h, request{body: v.Encode()})
}

// spdAnswers are valid answers of the seed's form.
func spdAnswers() url.Values {
	return url.Values{
		spd.InputNPods:   {"8"},
		spd.InputSvcname: {"spdsvc02"},
		spd.InputApp:     {"RIVER_SPD"},
		spd.InputNodes:   {"spd01 spd02"},
		spd.InputSMImage: {"tanji/spdc"},
		spd.InputDBImage: {"mariadb"},
		spd.InputRootPwd: {"Root-Pw-0451"},
	}
}

// page is a parsed HTML answer.
type page struct {
	t    *testing.T
	root *html.Node
}

func parse(t *testing.T, body string) page {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	return page{t: t, root: n}
}

func (p page) find(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range p.root.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	}
	return out
}

// byID returns the element of id, failing the test when there is none.
func (p page) byID(id string) *html.Node {
	p.t.Helper()
	found := p.find(func(n *html.Node) bool { return attr(n, "id") == id })
	require.Len(p.t, found, 1, "element #%s", id)
	return found[0]
}

func (p page) has(id string) bool {
	return len(p.find(func(n *html.Node) bool { return attr(n, "id") == id })) > 0
}

func (p page) tags(tag string) []*html.Node {
	return p.find(func(n *html.Node) bool { return n.Data == tag })
}

// labelFor returns the label bound to the control of id.
func (p page) labelFor(id string) *html.Node {
	p.t.Helper()
	found := p.find(func(n *html.Node) bool { return n.Data == "label" && attr(n, "for") == id })
	require.Len(p.t, found, 1, "label for #%s", id)
	return found[0]
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func httptestPost(ctx context.Context, v url.Values) *http.Request {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/form", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
