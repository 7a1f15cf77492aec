package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/formtemplate/web"
	"github.com/svckit/svckit/internal/testenv"
)

// allTypes has an input of every type and of every control.
func allTypes() *formtemplate.Form {
	return &formtemplate.Form{
		Label:       "All types",
		Description: "one input of each kind",
		Inputs: []formtemplate.Input{
			{ID: "name", Label: "Name", Type: formtemplate.String, Mandatory: true, Pattern: "[a-z]{1,40}", Help: "lower case letters"},
			{ID: "count", Label: "Count", Type: formtemplate.Integer, Default: "3", Min: formtemplate.Int64(1), Max: formtemplate.Int64(9)},
			{ID: "enabled", Label: "Enabled", Type: formtemplate.Boolean, Default: "true"},
			{ID: "size", Label: "Size", Type: formtemplate.Size, Default: "17g", Min: formtemplate.Int64(1 << 20)},
			{ID: "nodes", Label: "Nodes", Type: formtemplate.StringList, Default: "n1 n2"},
			{ID: "zone", Label: "Zone", Type: formtemplate.String, Mandatory: true, Default: "eu", Candidates: []string{"eu", "us", "asia"}, StrictCandidates: true},
			{ID: "tiers", Label: "Tiers", Type: formtemplate.StringList, Candidates: []string{"web", "db", "cache"}, StrictCandidates: true},
			{ID: "image", Label: "Image", Type: formtemplate.String, Candidates: []string{"mariadb", "postgres"}},
			{ID: "api_token", Label: "API token", Type: formtemplate.String, Default: "default-token-1234"},
		},
		Outputs: []formtemplate.Output{{Name: "out", Template: `name={{.name}} count={{.count}} enabled={{.enabled}} size={{.size}} nodes={{join "," .nodes}} zone={{.zone}} tiers={{with index . "tiers"}}{{join "," .}}{{end}} image={{with index . "image"}}{{.}}{{end}} api_token={{.api_token}}` + "\n"}, {Name: "raw", Template: "{{.api_token}}\n"}},
	}
}

func allTypesHandler(t testing.TB, opts web.Options) (*web.Handler, *dirStore) {
	t.Helper()
	store := newDirStore(t, "name")
	if opts.Store == nil {
		opts.Store = store
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := web.New(allTypes(), opts)
	require.NoError(t, err)
	return h, store
}

func TestGetRendersEveryInputType(t *testing.T) {
	h, _ := allTypesHandler(t, web.Options{})
	resp, body := do(t, h, request{method: http.MethodGet})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.NotContains(t, resp.Header.Get("Content-Security-Policy"), "script-src")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	p := parse(t, body)
	require.Empty(t, p.tags("script"), "no JavaScript")
	require.Equal(t, "All types", text(p.tags("h1")[0]))
	require.Contains(t, body, "one input of each kind")
	forms := p.tags("form")
	require.Len(t, forms, 1)
	require.Equal(t, "post", attr(forms[0], "method"))

	for _, tc := range []struct {
		id, tag, typ, value string
		mandatory           bool
	}{
		{"name", "input", "text", "", true},
		{"count", "input", "number", "3", false},
		{"size", "input", "text", "17g", false},
		{"nodes", "input", "text", "n1 n2", false},
		{"zone", "select", "", "", true},
		{"tiers", "select", "", "", false},
		{"image", "input", "text", "", false},
		{"api_token", "input", "password", "", false},
		{"enabled", "input", "checkbox", "true", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			in := p.byID("in-" + tc.id)
			require.Equal(t, tc.tag, in.Data)
			require.Equal(t, tc.id, attr(in, "name"))
			if tc.typ != "" {
				require.Equal(t, tc.typ, attr(in, "type"))
				require.Equal(t, tc.value, attr(in, "value"))
			}
			label := p.labelFor("in-" + tc.id)
			mark := false
			for n := range label.Descendants() {
				mark = mark || (n.Data == "abbr" && attr(n, "title") == "mandatory")
			}
			require.Equal(t, tc.mandatory, mark, "mandatory mark")
			require.Equal(t, tc.mandatory, hasAttr(in, "required"))
			// Every id aria-describedby names exists.
			for id := range strings.FieldsSeq(attr(in, "aria-describedby")) {
				require.True(t, p.has(id), "aria-describedby names #%s", id)
			}
		})
	}
	require.Equal(t, "Name", strings.TrimSpace(text(p.labelFor("in-name"))[:4]))
	require.Equal(t, "lower case letters", text(p.byID("help-name")))
	require.Equal(t, "1", attr(p.byID("in-count"), "min"))
	require.Equal(t, "9", attr(p.byID("in-count"), "max"))
	require.Contains(t, text(p.byID("hint-count")), "an integer from 1 to 9; default: 3")
	require.Contains(t, text(p.byID("hint-size")), "a size")
	require.Contains(t, text(p.byID("hint-nodes")), "words separated by blanks")
	require.True(t, hasAttr(p.byID("in-enabled"), "checked"))
	hidden := p.find(func(n *html.Node) bool { return attr(n, "type") == "hidden" && attr(n, "name") == "enabled" })
	require.Len(t, hidden, 1)
	require.Equal(t, "false", attr(hidden[0], "value"))

	// Strict candidates: a select, the default chosen; a list: multiple.
	zone := options(p.byID("in-zone"))
	require.Equal(t, []string{"eu*", "us", "asia"}, zone)
	require.False(t, hasAttr(p.byID("in-zone"), "multiple"))
	require.True(t, hasAttr(p.byID("in-tiers"), "multiple"))
	require.Equal(t, []string{"web", "db", "cache"}, options(p.byID("in-tiers")))
	// Other candidates: suggestions.
	require.Equal(t, "list-image", attr(p.byID("in-image"), "list"))
	require.Equal(t, []string{"mariadb", "postgres"}, options(p.byID("list-image")))

	// The secret: a password field with no value, its default never sent.
	pw := p.byID("in-api_token")
	require.False(t, hasAttr(pw, "value"))
	require.Equal(t, "new-password", attr(pw, "autocomplete"))
	require.NotContains(t, body, "default-token-1234")
	require.Contains(t, text(p.byID("hint-api_token")), "leave empty to keep the default")
}

// options lists a select's or datalist's option values, "*" marking the
// selected ones.
func options(n *html.Node) []string {
	var out []string
	for o := range n.Descendants() {
		if o.Type == html.ElementNode && o.Data == "option" {
			v := attr(o, "value")
			if hasAttr(o, "selected") {
				v += "*"
			}
			out = append(out, v)
		}
	}
	return out
}

func TestSubmitShowsEveryProblemBesideItsInput(t *testing.T) {
	h, store := allTypesHandler(t, web.Options{})
	resp, body := postForm(t, h, url.Values{
		"name":      {"Bad Name"},
		"count":     {"12"},
		"enabled":   {"false", "true"},
		"size":      {"huge"},
		"nodes":     {"n1 n3"},
		"zone":      {"mars"},
		"tiers":     {"web", "gpu"},
		"image":     {"my-image"},
		"api_token": {"Typed-Secret-9876"},
	})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Zero(t, store.calls.Load(), "nothing stored")
	p := parse(t, body)
	require.Contains(t, text(p.byID("problems")), "5 problems")
	require.Contains(t, text(p.byID("err-name")), `"Bad Name" does not match [a-z]{1,40}`)
	require.Contains(t, text(p.byID("err-count")), "12 is more than the maximum 9")
	require.Contains(t, text(p.byID("err-size")), `"huge" is not a size`)
	require.Contains(t, text(p.byID("err-zone")), "not one of eu, us, asia")
	require.Contains(t, text(p.byID("err-tiers")), `"gpu" is not one of web, db, cache`)
	for _, id := range []string{"nodes", "image", "enabled", "api_token"} {
		require.False(t, p.has("err-"+id), "no problem for %s", id)
	}
	require.Equal(t, "true", attr(p.byID("in-name"), "aria-invalid"))
	require.Contains(t, attr(p.byID("in-name"), "aria-describedby"), "err-name")
	// What was typed is kept...
	require.Equal(t, "Bad Name", attr(p.byID("in-name"), "value"))
	require.Equal(t, "12", attr(p.byID("in-count"), "value"))
	require.Equal(t, "huge", attr(p.byID("in-size"), "value"))
	require.Equal(t, "n1 n3", attr(p.byID("in-nodes"), "value"))
	require.Equal(t, "my-image", attr(p.byID("in-image"), "value"))
	require.True(t, hasAttr(p.byID("in-enabled"), "checked"))
	require.Equal(t, []string{"web*", "db", "cache"}, options(p.byID("in-tiers")))
	// ...but the secret.
	require.False(t, hasAttr(p.byID("in-api_token"), "value"))
	require.NotContains(t, body, "Typed-Secret-9876")
	require.Contains(t, text(p.byID("problems")), "type the secrets again")
}

func TestSubmitEveryTypeJSONAndForm(t *testing.T) {
	h, store := allTypesHandler(t, web.Options{})
	resp, body := postForm(t, h, url.Values{
		"name": {"alpha"}, "count": {"7"}, "enabled": {"false"}, "size": {"2m"}, "nodes": {"a b  c"},
		"zone": {"us"}, "tiers": {"web", "db"}, "image": {"custom"}, "api_token": {"Typed-Secret-9876"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	want := "name=alpha count=7 enabled=false size=2097152 nodes=a,b,c zone=us tiers=web,db image=custom api_token=Typed-Secret-9876\n"
	require.Equal(t, want, store.read(t, "alpha.conf"))
	p := parse(t, body)
	require.Equal(t, strings.ReplaceAll(want, "Typed-Secret-9876", "xxxx"), text(p.byID("doc-out")))
	require.NotContains(t, body, "Typed-Secret-9876")
	require.Contains(t, text(p.byID("stored-location")), "alpha.conf")
	require.Len(t, text(p.byID("stored-revision")), 12)

	// The same as JSON, typed values and defaults (the secret's too).
	resp, body = do(t, h, request{body: `{"name":"beta","count":5,"enabled":true,"nodes":["x","y"],"tiers":["cache"]}`,
		contentType: "application/json"})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var res web.Result
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	require.Equal(t, "name=beta count=5 enabled=true size=18253611008 nodes=x,y zone=eu tiers=cache image= api_token=xxxx\n", res.Documents[0].Data)
	require.Contains(t, store.read(t, "beta.conf"), "api_token=default-token-1234")
	require.Equal(t, "xxxx\n", res.Documents[1].Data, "the secret's default is masked wherever it goes")
	require.NotNil(t, res.Stored)
	require.Contains(t, res.Stored.Location, "beta.conf")
}

func TestJSONVariant(t *testing.T) {
	h, store := spdHandler(t, web.Options{})
	resp, body := do(t, h, request{method: http.MethodGet, header: map[string]string{"Accept": "application/json"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var def struct {
		Label  string
		Inputs []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &def))
	require.Equal(t, spd.Form().Label, def.Label)
	require.Len(t, def.Inputs, 7)
	require.Equal(t, "myrootpwd", def.Inputs[6]["id"])
	require.Equal(t, true, def.Inputs[6]["secret"])
	require.Equal(t, "32", def.Inputs[0]["default"])

	// A browser's Accept gets HTML; a program's gets JSON.
	resp, _ = do(t, h, request{method: http.MethodGet, header: map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}})
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	resp, _ = do(t, h, request{method: http.MethodGet, header: map[string]string{"Accept": "text/html;q=0.5, application/json"}})
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	// Problems as JSON, all at once, with the spd checks.
	bad := spdAnswers()
	bad.Set(spd.InputSvcname, "Bad_Svc")
	bad.Set(spd.InputNodes, "spd01 spd01")
	bad.Set(spd.InputNPods, "500")
	resp, body = do(t, h, request{body: bad.Encode(), header: map[string]string{"Accept": "application/json"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	var probs struct {
		Problems []struct{ Input, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &probs))
	var ids []string
	for _, p := range probs.Problems {
		ids = append(ids, p.Input)
	}
	require.Equal(t, []string{spd.InputNPods, spd.InputSvcname, spd.InputNodes}, ids, body)
	require.Zero(t, store.calls.Load())

	resp, body = do(t, h, request{body: spdAnswers().Encode(), header: map[string]string{"Accept": "application/json"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var res web.Result
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	require.Contains(t, res.Documents[0].Data, "MYSQL_ROOT_PASSWORD=xxxx")
	require.NotContains(t, body, "Root-Pw-0451")
	require.Contains(t, store.read(t, "spdsvc02.conf"), "Root-Pw-0451")
	require.Len(t, res.Stored.Revision, 12)
}

// hostile is what a hostile user types everywhere.
const hostile = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`

func TestEscapingEverywhere(t *testing.T) {
	form := &formtemplate.Form{
		Label:       hostile,
		Description: hostile,
		Inputs: []formtemplate.Input{
			{ID: "s", Label: hostile, Help: hostile, Type: formtemplate.String, Default: hostile, Candidates: []string{hostile}},
			{ID: "c", Label: hostile, Type: formtemplate.String, Candidates: []string{hostile, "b"}, StrictCandidates: true},
			{ID: "l", Label: hostile, Type: formtemplate.StringList},
			{ID: "i", Label: hostile, Type: formtemplate.Integer},
			{ID: "z", Label: hostile, Type: formtemplate.Size},
			{ID: "b", Label: hostile, Type: formtemplate.Boolean},
			{ID: "p", Label: hostile + " password", Type: formtemplate.String},
		},
		// The template echoes the typed string into the document.
		Outputs: []formtemplate.Output{{Name: "o", Template: "{{.s}}\n"}},
	}
	store := newDirStore(t, "c")
	h, err := web.New(form, web.Options{Store: web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
		return web.Receipt{Location: hostile, Revision: hostile}, nil
	})})
	require.NoError(t, err)
	check := func(t *testing.T, status int, body string) {
		t.Helper()
		p := parse(t, body)
		require.Empty(t, p.tags("script"), "a script element made it into the page")
		require.Empty(t, p.tags("img"), "an img element made it into the page")
		require.NotContains(t, body, "<script>")
		for n := range p.root.Descendants() {
			for _, a := range n.Attr {
				require.False(t, strings.HasPrefix(a.Key, "on"), "event handler attribute %s", a.Key)
			}
		}
	}
	resp, body := do(t, h, request{method: http.MethodGet})
	check(t, resp.StatusCode, body)
	require.Contains(t, body, "&lt;script&gt;")

	every := url.Values{}
	for _, in := range form.Inputs {
		every.Set(in.ID, hostile)
	}
	every.Set("p", "a typed password")
	every.Set(hostile, hostile) // an unknown field named hostile
	resp, body = postForm(t, h, every)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	check(t, resp.StatusCode, body)
	p := parse(t, body)
	require.Equal(t, hostile, attr(p.byID("in-s"), "value"), "kept as typed, as an attribute value")
	require.Contains(t, text(p.byID("problems")), hostile+": not an input of the form")
	require.Contains(t, text(p.byID("err-i")), "is not an integer")

	// Valid, the hostile string flows into the document and the receipt.
	resp, body = postForm(t, h, url.Values{"s": {hostile}, "c": {hostile}, "l": {"<b> <i>"}, "i": {"1"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	check(t, resp.StatusCode, body)
	p = parse(t, body)
	require.Equal(t, hostile+"\n", text(p.byID("doc-o")))
	require.Equal(t, hostile, text(p.byID("stored-location")))
	_ = store
}

func TestCrossOriginRefused(t *testing.T) {
	h, store := spdHandler(t, web.Options{})
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}},
		{"foreign origin json", map[string]string{"Origin": "https://evil.example", "Accept": "application/json"}},
		{"foreign origin json body", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, h, request{body: spdAnswers().Encode(), header: tc.header})
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Contains(t, body, "cross-origin request refused")
			if tc.header["Accept"] != "" || tc.header["Content-Type"] != "" {
				require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			}
			require.Zero(t, store.calls.Load())
		})
	}
	// The form's own page, and programs (no browser headers), may post.
	for _, header := range []map[string]string{
		{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"},
		{"Origin": "http://example.com"}, // httptest's Host
		{},
	} {
		resp, body := do(t, h, request{body: spdAnswers().Encode(), header: header})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	}
	require.EqualValues(t, 3, store.calls.Load())

	// A trusted origin, on purpose.
	cop := http.NewCrossOriginProtection()
	require.NoError(t, cop.AddTrustedOrigin("https://portal.example"))
	h2, _ := spdHandler(t, web.Options{CrossOrigin: cop})
	resp, body := do(t, h2, request{body: spdAnswers().Encode(), header: map[string]string{"Origin": "https://portal.example", "Sec-Fetch-Site": "cross-site"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	// GET is always served: it changes nothing.
	resp, _ = do(t, h, request{method: http.MethodGet, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestSizeLimit(t *testing.T) {
	h, store := spdHandler(t, web.Options{MaxBodyBytes: 1024})
	big := spdAnswers()
	big.Set(spd.InputApp, strings.Repeat("a", 2000))
	resp, body := do(t, h, request{body: big.Encode()})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Contains(t, body, "larger than 1024 bytes")
	resp, body = do(t, h, request{body: `{"app":"` + strings.Repeat("a", 2000) + `"}`, contentType: "application/json"})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Contains(t, body, `"error"`)
	require.Zero(t, store.calls.Load())

	// The default limit, with many fields: bounded, answered, not stored.
	h, store = spdHandler(t, web.Options{})
	var b strings.Builder
	for i := 0; b.Len() < web.DefaultMaxBodyBytes+1; i++ {
		fmt.Fprintf(&b, "f%d=x&", i)
	}
	resp, _ = do(t, h, request{body: b.String()})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	// Just under it: every unknown field is a problem, the page says so.
	b.Reset()
	for i := 0; b.Len() < web.DefaultMaxBodyBytes/2; i++ {
		fmt.Fprintf(&b, "f%d=x&", i)
	}
	resp, body = do(t, h, request{body: b.String()})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, "f1: not an input of the form")
	require.Zero(t, store.calls.Load())
}

func TestMethodsAndBodies(t *testing.T) {
	h, store := spdHandler(t, web.Options{})
	resp, _ := do(t, h, request{method: http.MethodPut, body: spdAnswers().Encode()})
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD, POST", resp.Header.Get("Allow"))
	resp, _ = do(t, h, request{method: http.MethodHead})
	require.Equal(t, http.StatusOK, resp.StatusCode)

	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		says                    string
	}{
		{"multipart", "multipart/form-data; boundary=x", "--x--", http.StatusUnsupportedMediaType, "expected application/x-www-form-urlencoded or application/json"},
		{"text", "text/plain", "a=b", http.StatusUnsupportedMediaType, "text/plain"},
		{"bad content type", "a/b; ;", "", http.StatusUnsupportedMediaType, "content type"},
		{"bad json", "application/json", "{", http.StatusBadRequest, "reading the JSON answers"},
		{"json null", "application/json", "null", http.StatusBadRequest, "not null"},
		{"json array", "application/json", "[1]", http.StatusBadRequest, "cannot unmarshal"},
		{"json trailing", "application/json", `{"app":"x"} {}`, http.StatusBadRequest, "nothing after it"},
		{"json nested", "application/json", `{"app":{"a":1},"nodes":["a",1]}`, http.StatusUnprocessableEntity, "expected a list of strings"},
		{"bad escape", "application/x-www-form-urlencoded", "app=%zz", http.StatusBadRequest, "reading the form"},
		{"twice", "application/x-www-form-urlencoded", "app=a&app=b", http.StatusUnprocessableEntity, "given 2 times: expected one value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, h, request{body: tc.body, contentType: tc.contentType, header: map[string]string{"Accept": "application/json"}})
			require.Equal(t, tc.status, resp.StatusCode, body)
			require.Contains(t, body, tc.says)
		})
	}
	require.Zero(t, store.calls.Load())
}

func TestEmptyAnswers(t *testing.T) {
	h, store := allTypesHandler(t, web.Options{})
	for _, body := range []string{"", "{}"} {
		ct := "application/x-www-form-urlencoded"
		if body != "" {
			ct = "application/json"
		}
		resp, out := do(t, h, request{body: body, contentType: ct})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		if body == "" {
			require.Contains(t, text(parse(t, out).byID("err-name")), "is mandatory")
		} else {
			require.JSONEq(t, `{"problems":[{"input":"name","message":"is mandatory"}]}`, out)
		}
	}
	require.Zero(t, store.calls.Load())
	// The spd form has a default for every mandatory input.
	h, spdStore := spdHandler(t, web.Options{})
	resp, out := do(t, h, request{body: "{}", contentType: "application/json"})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Contains(t, spdStore.read(t, "spdsvc01.conf"), "[ip#32dbg]")
}

func TestSecretsNeverShown(t *testing.T) {
	failing := web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
		return web.Receipt{}, fmt.Errorf("store refused %q for %s", s.Values.String(spd.InputRootPwd), s.Values.String(spd.InputSvcname))
	})
	var logged strings.Builder
	h, _ := spdHandler(t, web.Options{Store: failing, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	// A failure after validation: the page keeps the answers, not the
	// secret, and masks it in the error.
	resp, body := postForm(t, h, spdAnswers())
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.NotContains(t, body, "Root-Pw-0451")
	p := parse(t, body)
	require.Contains(t, text(p.byID("problems")), "store: store refused xxxx for spdsvc02")
	require.Equal(t, "spdsvc02", attr(p.byID("in-svcname"), "value"))
	require.Contains(t, logged.String(), `stage=store error="store refused xxxx for spdsvc02"`)
	require.NotContains(t, logged.String(), "Root-Pw-0451")

	// A store naming the secret in its receipt: masked.
	leaky := web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
		pw := s.Values.String(spd.InputRootPwd)
		return web.Receipt{Location: "mysql://root:" + pw + "@db/x", Revision: pw}, nil
	})
	h3, _ := spdHandler(t, web.Options{Store: leaky})
	resp, body = do(t, h3, request{body: spdAnswers().Encode(), header: map[string]string{"Accept": "application/json"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, "Root-Pw-0451")
	require.Contains(t, body, `"location": "mysql://root:xxxx@db/x"`)

	// A short secret quoted in a problem message is masked too.
	h2, err := web.New(&formtemplate.Form{Label: "f", Inputs: []formtemplate.Input{
		{ID: "db_pass", Type: formtemplate.String, Pattern: "[a-z]{8,}"},
	}, Outputs: []formtemplate.Output{{Template: "x"}}}, web.Options{})
	require.NoError(t, err)
	for _, accept := range []string{"text/html", "application/json"} {
		resp, body = do(t, h2, request{body: "db_pass=Zq", header: map[string]string{"Accept": accept}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.NotContains(t, body, "Zq")
		require.Contains(t, body, "xxxx does not match")
	}
}

func TestStoreConflict(t *testing.T) {
	var mu sync.Mutex
	taken := map[string]bool{}
	createOnly := web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
		mu.Lock()
		defer mu.Unlock()
		name := s.Values.String(spd.InputSvcname)
		if taken[name] {
			return web.Receipt{}, fmt.Errorf("service %s exists: %w", name, web.ErrConflict)
		}
		taken[name] = true
		return web.Receipt{Location: "memory " + name, Revision: "1"}, nil
	})
	h, _ := spdHandler(t, web.Options{Store: createOnly})
	resp, _ := postForm(t, h, spdAnswers())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := postForm(t, h, spdAnswers())
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	p := parse(t, body)
	require.Contains(t, text(p.byID("problems")), "store: service spdsvc02 exists: conflict with the stored version")
	require.Equal(t, "spdsvc02", attr(p.byID("in-svcname"), "value"))
}

func TestChecksAndGeneratorErrors(t *testing.T) {
	// A Check error that is no validation error is a server error.
	gens := formtemplate.NewGenerators()
	require.NoError(t, spd.Register(gens))
	h, err := web.New(spd.Form(), web.Options{Generators: gens, Check: func(ctx context.Context, v formtemplate.Values) error {
		return errors.New("inventory unreachable")
	}})
	require.NoError(t, err)
	resp, body := do(t, h, request{body: spdAnswers().Encode(), header: map[string]string{"Accept": "application/json"}})
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, body, "check: inventory unreachable")

	// Without Check, the generator's own validation is still shown per
	// input: the spd generator re-validates.
	h, err = web.New(spd.Form(), web.Options{Generators: gens})
	require.NoError(t, err)
	bad := spdAnswers()
	bad.Set(spd.InputSvcname, "Bad_Svc")
	resp, body = postForm(t, h, bad)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, text(parse(t, body).byID("err-svcname")), "is not a GCE name")
}

func TestNewRefusesBrokenForms(t *testing.T) {
	_, err := web.New(nil, web.Options{})
	require.Error(t, err)
	_, err = web.New(spd.Form(), web.Options{})
	require.ErrorContains(t, err, `needs the generator "spd": Options.Generators is nil`)
	_, err = web.New(spd.Form(), web.Options{Generators: formtemplate.NewGenerators()})
	require.ErrorContains(t, err, `needs the generator "spd", not among []`)
	_, err = web.New(&formtemplate.Form{Label: "m", Outputs: []formtemplate.Output{{Mangle: "function(d){}"}}}, web.Options{})
	require.ErrorContains(t, err, "Mangle")
	_, err = web.New(&formtemplate.Form{Label: "bad", Inputs: []formtemplate.Input{{ID: "1x", Type: "float"}}}, web.Options{})
	require.ErrorContains(t, err, `id "1x"`)
	require.ErrorContains(t, err, `type "float"`)

	// The handler keeps its own copy: changing the form later changes
	// nothing it serves.
	f := allTypes()
	h, err := web.New(f, web.Options{})
	require.NoError(t, err)
	f.Inputs[0].Label = "Changed"
	f.Inputs[1].Max = formtemplate.Int64(100)
	*f.Inputs[3].Min = 0
	f.Inputs[5].Candidates[0] = "Mars"
	_, body := do(t, h, request{method: http.MethodGet})
	require.NotContains(t, body, "Changed")
	require.NotContains(t, body, "Mars")
	p := parse(t, body)
	require.Equal(t, "9", attr(p.byID("in-count"), "max"))
	require.Contains(t, text(p.byID("hint-size")), "of at least 1048576 bytes")
}

func TestConcurrentSubmissions(t *testing.T) {
	h, store := spdHandler(t, web.Options{})
	const n = 16
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range n {
		wg.Go(func() {
			a := spdAnswers()
			a.Set(spd.InputSvcname, fmt.Sprintf("svc%02d", i))
			a.Set(spd.InputNPods, fmt.Sprint(1+i))
			resp, _ := postForm(t, h, a)
			status[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i := range n {
		require.Equal(t, http.StatusOK, status[i])
		conf := store.read(t, fmt.Sprintf("svc%02d.conf", i))
		require.Contains(t, conf, fmt.Sprintf("svc%02d-pod%d", i, 1+i))
		require.NotContains(t, conf, fmt.Sprintf("pod%d\n", 2+i), "no pod beyond the answer")
	}
	require.EqualValues(t, n, store.calls.Load())
}

func TestCancelledRequestStoresNothing(t *testing.T) {
	h, store := spdHandler(t, web.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptestPost(ctx, spdAnswers())
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Contains(t, rec.Body.String(), "context canceled")
	require.EqualValues(t, 1, store.calls.Load())
	_, err := store.root.Stat("spdsvc02.conf")
	require.Error(t, err)
}

// DESIGN.md: forms on the web live under formtemplate and never import
// the service package (nor a driver): a tool serving forms links none.
func TestImportsNoService(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		testenv.Skip(t, "needs the go command in PATH")
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for pkg := range strings.FieldsSeq(string(out)) {
		require.False(t, pkg == "github.com/svckit/svckit/svc" || strings.HasPrefix(pkg, "github.com/svckit/svckit/svc/"), "formtemplate/web imports %s", pkg)
		require.False(t, strings.HasPrefix(pkg, "github.com/svckit/svckit/driver/"), "formtemplate/web imports %s", pkg)
	}
}
