package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/formtemplate/web"
)

// What a program that mounts the form adds: hidden fields (its CSRF
// token) rendered escaped in the form, on every page the form shows,
// and dropped from the answers on POST; links back to its pages; a
// store's refusal of the person as 403 with the answers kept.
func TestEmbedding(t *testing.T) {
	const hostile = `"><script>alert(1)</script>`
	h, store := spdHandler(t, web.Options{
		HiddenFields: func(r *http.Request) map[string]string {
			return map[string]string{"csrf_token": hostile, "z_other": "2"}
		},
		Nav: []web.Link{{Label: "Services <b>", Href: "/services"}, {Label: "Evil", Href: "javascript:alert(1)"}},
	})
	for _, tc := range []struct {
		name   string
		req    request
		status int
	}{
		{name: "form", req: request{method: http.MethodGet}, status: http.StatusOK},
		{name: "problems", req: request{body: "npods=0&csrf_token=x"}, status: http.StatusUnprocessableEntity},
		{name: "result", req: request{body: spdAnswers().Encode() + "&csrf_token=x&z_other=y"}, status: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, h, tc.req)
			require.Equal(t, tc.status, resp.StatusCode, body)
			require.NotContains(t, body, "<script>")
			require.NotContains(t, body, "<b>")
			require.NotContains(t, body, "not an input of the form", "the hidden fields are not answers")
			p := parse(t, body)
			nav := p.byID("nav")
			require.Contains(t, text(nav), "Services <b>")
			links := p.find(func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "#ZgotmplZ" })
			require.Len(t, links, 1, "a javascript: link is neutralized")
			if tc.name == "result" {
				return
			}
			hidden := p.find(func(n *html.Node) bool {
				return n.Data == "input" && attr(n, "type") == "hidden" && attr(n, "name") == "csrf_token"
			})
			require.Len(t, hidden, 1)
			require.Equal(t, hostile, attr(hidden[0], "value"))
		})
	}
	require.EqualValues(t, 1, store.calls.Load())

	// A receipt's URL is a link on the result page, sanitized.
	for _, tc := range []struct{ url, href string }{{"/services/spdsvc02", "/services/spdsvc02"}, {"javascript:alert(1)", "#ZgotmplZ"}} {
		linked := web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
			return web.Receipt{Location: "memory", Revision: "1", URL: tc.url}, nil
		})
		h, _ := spdHandler(t, web.Options{Store: linked})
		resp, body := postForm(t, h, spdAnswers())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, tc.href, attr(parse(t, body).byID("stored-url"), "href"))
	}

	refuse := web.StoreFunc(func(ctx context.Context, s web.Submission) (web.Receipt, error) {
		return web.Receipt{}, fmt.Errorf("service %s belongs to another team: %w", s.Values.String(spd.InputSvcname), web.ErrForbidden)
	})
	h, _ = spdHandler(t, web.Options{Store: refuse})
	resp, body := postForm(t, h, spdAnswers())
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	p := parse(t, body)
	require.Contains(t, text(p.byID("problems")), "store: service spdsvc02 belongs to another team: forbidden")
	require.Equal(t, "spdsvc02", attr(p.byID("in-svcname"), "value"))
}
