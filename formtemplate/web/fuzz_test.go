package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/formtemplate/web"
)

// FuzzSubmit posts whatever a hostile client sends to a form of every
// input type: the answer is never a server error, never a page with an
// element the form did not make, and never shows the secret typed.
func FuzzSubmit(f *testing.F) {
	for _, seed := range []string{
		"", "name=abc&count=3", "name=" + hostile, "count=1e400&size=-1g&nodes=%00",
		"enabled=maybe&zone=eu&zone=us&tiers=web&tiers=web", "api_token=%3Cscript%3E&name=x",
		"%zz=1", "name=a&name=b&name=c", strings.Repeat("x=1&", 100),
	} {
		f.Add(seed, false)
	}
	f.Add(`{"name":"abc","count":3,"enabled":true,"nodes":["a","b"]}`, true)
	f.Add(`{"name":{"x":1},"tiers":[1,2]}`, true)
	f.Add(`[]`, true)
	h, _ := allTypesHandler(f, web.Options{})
	const typed = "Fuzz-Secret-4242"
	f.Fuzz(func(t *testing.T, body string, isJSON bool) {
		ct := "application/x-www-form-urlencoded"
		if isJSON {
			ct = "application/json"
		} else {
			body += "&api_token=" + typed
		}
		resp, out := do(t, h, request{body: body, contentType: ct})
		require.Less(t, resp.StatusCode, 500, "%s", out)
		require.NotContains(t, out, typed)
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnprocessableEntity {
			if isJSON {
				return
			}
			p := parse(t, out)
			require.Empty(t, p.tags("script"))
			require.Empty(t, p.tags("img"))
			require.Empty(t, p.tags("iframe"))
		}
	})
}
