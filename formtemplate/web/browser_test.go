package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/formtemplate/web"
	"github.com/svckit/svckit/internal/testenv"
)

// browser starts a headless Chromium (Debian's chromium package) for the
// test, or skips it with the reason (a failure under CI=true).
func browser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		testenv.Skip(t, "needs a headless Chromium in PATH (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 1400))
	if os.Geteuid() == 0 {
		// Chromium refuses to run its sandbox as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser: no timeout on it (it would stop
	// the browser), a bounded wait for it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		require.NoError(t, err, "starting %s", path)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start within 60s", path)
	}
	return ctx
}

// step runs actions with a bound, so that a page that never comes fails
// the test instead of hanging it.
func step(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// submit clicks the form's button and waits for the answer page.
func submit(t *testing.T, ctx context.Context) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	require.NoError(t, err)
	return resp.Status
}

// screenshot saves the page (a PNG) under $FORMWEB_SCREENSHOTS when set, for a
// person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("FORMWEB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, ctx, chromedp.FullScreenshot(100))
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

	step(t, ctx, chromedp.Navigate(srv.URL+"/forms/spd"))
	require.Equal(t, "RIVER SPD service configuration generator", get(t, ctx, chromedp.Title()))
	require.Contains(t, get(t, ctx, chromedp.Text(chromedp.CSS(`label[for="in-svcname"]`))), "Service name")
	require.Equal(t, "spdsvc01", get(t, ctx, chromedp.Value(chromedp.ID("in-svcname"))))
	require.Equal(t, "password", get(t, ctx, chromedp.Evaluate[string](`document.getElementById("in-myrootpwd").type`)))
	require.Equal(t, "number", get(t, ctx, chromedp.Evaluate[string](`document.getElementById("in-npods").type`)))
	// The label is bound to its input: clicking it focuses the input.
	step(t, ctx, chromedp.Click(chromedp.CSS(`label[for="in-app"]`)))
	require.Equal(t, "in-app", get(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)))
	screenshot(t, ctx, "form.png")

	const password = "Browser-Pw-7731"
	step(t, ctx,
		chromedp.Clear(chromedp.ID("in-svcname")),
		chromedp.SendKeys(chromedp.ID("in-svcname"), "Bad_Name"),
		chromedp.Clear(chromedp.ID("in-npods")),
		chromedp.SendKeys(chromedp.ID("in-npods"), "8"),
		chromedp.SendKeys(chromedp.ID("in-myrootpwd"), password),
	)
	require.EqualValues(t, http.StatusUnprocessableEntity, submit(t, ctx))
	msg := get(t, ctx, chromedp.Text(chromedp.ID("err-svcname")))
	require.Contains(t, msg, `"Bad_Name" is not a GCE name`)
	// Beside that input: in its field, right after its hints.
	require.Equal(t, "field-svcname", get(t, ctx, chromedp.Evaluate[string](`document.getElementById("err-svcname").parentElement.id`)))
	require.Equal(t, 1, get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("ul.errors").length`)), "no other input has a problem")
	require.Equal(t, "Bad_Name", get(t, ctx, chromedp.Value(chromedp.ID("in-svcname"))))
	require.Equal(t, "8", get(t, ctx, chromedp.Value(chromedp.ID("in-npods"))))
	require.Empty(t, get(t, ctx, chromedp.Value(chromedp.ID("in-myrootpwd"))), "the password is never sent back")
	require.NotContains(t, get(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)), password)
	require.Zero(t, store.calls.Load())
	screenshot(t, ctx, "problems.png")

	step(t, ctx,
		chromedp.Clear(chromedp.ID("in-svcname")),
		chromedp.SendKeys(chromedp.ID("in-svcname"), "spdsvc03"),
		chromedp.SendKeys(chromedp.ID("in-myrootpwd"), password),
	)
	require.EqualValues(t, http.StatusOK, submit(t, ctx))
	step(t, ctx, chromedp.WaitVisible(chromedp.ID("result")))
	conf := store.read(t, "spdsvc03.conf")
	require.Contains(t, conf, "MYSQL_ROOT_PASSWORD="+password)
	sum := sha256.Sum256([]byte(conf))
	require.Equal(t, hex.EncodeToString(sum[:])[:12], get(t, ctx, chromedp.Text(chromedp.ID("stored-revision"))))
	require.Equal(t, "dir:"+filepath.Join(store.dir, "spdsvc03.conf"), get(t, ctx, chromedp.Text(chromedp.ID("stored-location"))))
	shown := get(t, ctx, chromedp.TextContent(chromedp.ID("doc-config")))
	require.Contains(t, shown, "[DEFAULT]")
	require.Contains(t, shown, "names = spdsvc03-pod8")
	require.Contains(t, shown, "MYSQL_ROOT_PASSWORD=xxxx")
	require.NotContains(t, get(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)), password)
	require.Equal(t, 0, get(t, ctx, chromedp.Evaluate[int](`document.scripts.length`)))
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
	step(t, ctx, chromedp.Navigate(evil.URL))
	require.EqualValues(t, http.StatusForbidden, submit(t, ctx))
	require.Contains(t, get(t, ctx, chromedp.Text(chromedp.CSS("body"))), "cross-origin request refused")
	require.Zero(t, store.calls.Load())
}
