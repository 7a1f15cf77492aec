package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/formtemplate/web"
	browserpkg "github.com/svckit/svckit/internal/testenv/browser"
)

// browser starts the test's headless Chromium.
func browser(t *testing.T) context.Context { return browserpkg.Start(t, 1000, 1400) }

// submit clicks the form's button and waits for the answer page.
func submit(t *testing.T, ctx context.Context) int64 {
	return browserpkg.Click(t, ctx, `button[type="submit"]`)
}

// screenshot saves the page (a PNG) under $FORMWEB_SCREENSHOTS when set, for a
// person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("FORMWEB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := browserpkg.Get(t, ctx, chromedp.FullScreenshot(100))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// The seed's form in a real browser: a bad service name comes back next
// to its input with the answers kept and the password not; corrected, the
// submission generates, stores and shows the config with the password
// masked.
func TestBrowserSpdForm(t *testing.T) {
	ctx := browser(t)
	h, store := spdHandler(t, web.Options{})
	mux := http.NewServeMux()
	mux.Handle("/forms/spd", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	browserpkg.Do(t, ctx, chromedp.Navigate(srv.URL+"/forms/spd"))
	require.Equal(t, "RIVER SPD service configuration generator", browserpkg.Get(t, ctx, chromedp.Title()))
	require.Contains(t, browserpkg.Get(t, ctx, chromedp.Text(chromedp.CSS(`label[for="in-svcname"]`))), "Service name")
	require.Equal(t, "spdsvc01", browserpkg.Get(t, ctx, chromedp.Value(chromedp.ID("in-svcname"))))
	require.Equal(t, "password", browserpkg.Get(t, ctx, chromedp.Evaluate[string](`document.getElementById("in-myrootpwd").type`)))
	require.Equal(t, "number", browserpkg.Get(t, ctx, chromedp.Evaluate[string](`document.getElementById("in-npods").type`)))
	// The label is bound to its input: clicking it focuses the input.
	browserpkg.Do(t, ctx, chromedp.Click(chromedp.CSS(`label[for="in-app"]`)))
	require.Equal(t, "in-app", browserpkg.Get(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)))
	screenshot(t, ctx, "form.png")

	const password = "Browser-Pw-7731"
	browserpkg.Do(t, ctx,
		chromedp.Clear(chromedp.ID("in-svcname")),
		chromedp.SendKeys(chromedp.ID("in-svcname"), "Bad_Name"),
		chromedp.Clear(chromedp.ID("in-npods")),
		chromedp.SendKeys(chromedp.ID("in-npods"), "8"),
		chromedp.SendKeys(chromedp.ID("in-myrootpwd"), password),
	)
	require.EqualValues(t, http.StatusUnprocessableEntity, submit(t, ctx))
	msg := browserpkg.Get(t, ctx, chromedp.Text(chromedp.ID("err-svcname")))
	require.Contains(t, msg, `"Bad_Name" is not a GCE name`)
	// Beside that input: in its field, right after its hints.
	require.Equal(t, "field-svcname", browserpkg.Get(t, ctx, chromedp.Evaluate[string](`document.getElementById("err-svcname").parentElement.id`)))
	require.Equal(t, 1, browserpkg.Get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("ul.errors").length`)), "no other input has a problem")
	require.Equal(t, "Bad_Name", browserpkg.Get(t, ctx, chromedp.Value(chromedp.ID("in-svcname"))))
	require.Equal(t, "8", browserpkg.Get(t, ctx, chromedp.Value(chromedp.ID("in-npods"))))
	require.Empty(t, browserpkg.Get(t, ctx, chromedp.Value(chromedp.ID("in-myrootpwd"))), "the password is never sent back")
	require.NotContains(t, browserpkg.Get(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)), password)
	require.Zero(t, store.calls.Load())
	screenshot(t, ctx, "problems.png")

	browserpkg.Do(t, ctx,
		chromedp.Clear(chromedp.ID("in-svcname")),
		chromedp.SendKeys(chromedp.ID("in-svcname"), "spdsvc03"),
		chromedp.SendKeys(chromedp.ID("in-myrootpwd"), password),
	)
	require.EqualValues(t, http.StatusOK, submit(t, ctx))
	browserpkg.Do(t, ctx, chromedp.WaitVisible(chromedp.ID("result")))
	conf := store.read(t, "spdsvc03.conf")
	require.Contains(t, conf, "MYSQL_ROOT_PASSWORD="+password)
	sum := sha256.Sum256([]byte(conf))
	require.Equal(t, hex.EncodeToString(sum[:])[:12], browserpkg.Get(t, ctx, chromedp.Text(chromedp.ID("stored-revision"))))
	require.Equal(t, "dir:"+filepath.Join(store.dir, "spdsvc03.conf"), browserpkg.Get(t, ctx, chromedp.Text(chromedp.ID("stored-location"))))
	shown := browserpkg.Get(t, ctx, chromedp.TextContent(chromedp.ID("doc-config")))
	require.Contains(t, shown, "[DEFAULT]")
	require.Contains(t, shown, "names = spdsvc03-pod8")
	require.Contains(t, shown, "MYSQL_ROOT_PASSWORD=xxxx")
	require.NotContains(t, browserpkg.Get(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)), password)
	require.Equal(t, 0, browserpkg.Get(t, ctx, chromedp.Evaluate[int](`document.scripts.length`)))
	screenshot(t, ctx, "result.png")
}

// A page of another origin posting to the form, as a CSRF attack does:
// the browser says where the request comes from and the handler refuses.
func TestBrowserCrossOriginRefused(t *testing.T) {
	ctx := browser(t)
	h, store := spdHandler(t, web.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><title>evil</title><form method="post" action="%s"><input name="svcname" value="evil"><button type="submit">win</button></form>`, srv.URL)
	}))
	defer evil.Close()
	browserpkg.Do(t, ctx, chromedp.Navigate(evil.URL))
	require.EqualValues(t, http.StatusForbidden, submit(t, ctx))
	require.Contains(t, browserpkg.Get(t, ctx, chromedp.Text(chromedp.CSS("body"))), "cross-origin request refused")
	require.Zero(t, store.calls.Load())
}
