package server_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// browserClient is what a browser does with the pages, without one:
// cookies kept, redirects seen (not followed), forms posted with the
// token the page carries.
type browserClient struct {
	t  testing.TB
	e  *env
	hc *http.Client
}

func (e *env) browser() *browserClient {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &browserClient{t: e.t, e: e, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type pageAnswer struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browserClient) do(method, path string, form url.Values, header map[string]string) pageAnswer {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, rd)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.hc.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return pageAnswer{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browserClient) get(path string) pageAnswer { return b.do("GET", path, nil, nil) }

func (b *browserClient) post(path string, form url.Values) pageAnswer {
	return b.do("POST", path, form, nil)
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// token returns the CSRF token of a page's form.
func token(t testing.TB, page string) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(page)
	require.NotNil(t, m, "no csrf_token in the page")
	return html.UnescapeString(m[1])
}

// login logs in as user and returns the session's CSRF token.
func (b *browserClient) login(user, password string) string {
	b.t.Helper()
	page := b.get("/login")
	require.Equal(b.t, http.StatusOK, page.status)
	ans := b.post("/login", url.Values{"csrf_token": {token(b.t, page.body)}, "username": {user}, "password": {password}, "next": {"/services"}})
	require.Equal(b.t, http.StatusSeeOther, ans.status, ans.body)
	require.Equal(b.t, "/services", ans.location)
	list := b.get("/services")
	require.Equal(b.t, http.StatusOK, list.status)
	require.Contains(b.t, list.body, user)
	return token(b.t, list.body)
}

// clock is the collector's clock in tests: time moves when the test
// says.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// spdAnswers are the seed form's answers for a small service.
func spdAnswers(csrf, svc, app string, npods int, password string) url.Values {
	return url.Values{"csrf_token": {csrf}, "svcname": {svc}, "app": {app}, "npods": {strconv.Itoa(npods)},
		"nodes": {"spd01 spd02"}, "dism": {"tanji/spdc"}, "didb": {"mariadb"}, "myrootpwd": {password}}
}
