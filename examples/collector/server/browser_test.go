package server_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/internal/testenv"
)

// startBrowser starts a headless Chromium (Debian's chromium package)
// for the test, or skips it with the reason (a failure under CI=true).
func startBrowser(t *testing.T) context.Context {
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
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 1400))
	if os.Geteuid() == 0 {
		// Chromium refuses to run its sandbox as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
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

// run runs actions with a bound, so that a page that never comes fails
// the test instead of hanging it.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// click clicks and waits for the page the click brings.
func click(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	require.NoError(t, err)
	return resp.Status
}

// shot saves the page (a PNG) under $COLLECTOR_SCREENSHOTS when set, for
// a person to look at.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("COLLECTOR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := value(t, ctx, chromedp.FullScreenshot(100))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// A person in a real browser: logs in, opens the seed's form, submits
// it twice, and finds the second revision on the service's page with
// its author and what it changed; the password shows nowhere.
func TestBrowserFormToRevision(t *testing.T) {
	ctx := startBrowser(t)
	e := newEnv(t, openSQLite, server.Options{})
	base := e.srv.URL

	run(t, ctx, chromedp.Navigate(base+"/forms/spd"))
	require.Equal(t, base+"/login?next=%2Fforms%2Fspd", value(t, ctx, chromedp.Location()))
	shot(t, ctx, "login.png")
	run(t, ctx, chromedp.SendKeys(chromedp.ID("username"), aliceUser), chromedp.SendKeys(chromedp.ID("password"), adminPass))
	require.EqualValues(t, http.StatusOK, click(t, ctx, "#login"))
	require.Equal(t, base+"/forms/spd", value(t, ctx, chromedp.Location()))
	require.Equal(t, "RIVER SPD service configuration generator", value(t, ctx, chromedp.Title()))
	require.Equal(t, "Services Nodes Forms", strings.Join(strings.Fields(value(t, ctx, chromedp.Text(chromedp.ID("nav")))), " "))
	shot(t, ctx, "form.png")

	const password = "Browser-Root-Pw-9"
	fill := func(npods string) {
		run(t, ctx,
			chromedp.Clear(chromedp.ID("in-svcname")), chromedp.SendKeys(chromedp.ID("in-svcname"), "spdsvc07"),
			chromedp.Clear(chromedp.ID("in-npods")), chromedp.SendKeys(chromedp.ID("in-npods"), npods),
			chromedp.Clear(chromedp.ID("in-nodes")), chromedp.SendKeys(chromedp.ID("in-nodes"), "spd01 spd02"),
			chromedp.SendKeys(chromedp.ID("in-myrootpwd"), password))
	}
	fill("4")
	require.EqualValues(t, http.StatusOK, click(t, ctx, `button[type="submit"]`))
	run(t, ctx, chromedp.WaitVisible(chromedp.ID("result")))
	require.Equal(t, "/services/spdsvc07", value(t, ctx, chromedp.Text(chromedp.ID("stored-location"))))
	require.Equal(t, "1", value(t, ctx, chromedp.Text(chromedp.ID("stored-revision"))))
	shot(t, ctx, "result.png")

	run(t, ctx, chromedp.Navigate(base+"/forms/spd"))
	fill("5")
	require.EqualValues(t, http.StatusOK, click(t, ctx, `button[type="submit"]`))
	require.Equal(t, "2", value(t, ctx, chromedp.Text(chromedp.ID("stored-revision"))))

	// The result page links to the service's page.
	require.EqualValues(t, http.StatusOK, click(t, ctx, "#stored-url"))
	require.Equal(t, base+"/services/spdsvc07", value(t, ctx, chromedp.Location()))
	run(t, ctx, chromedp.Navigate(base+"/services"))
	require.EqualValues(t, http.StatusOK, click(t, ctx, `a[href="/services/spdsvc07"]`))
	require.Equal(t, "alice (apps RIVER_SPD)", value(t, ctx, chromedp.Text(chromedp.ID("who"))))
	require.Equal(t, "2", value(t, ctx, chromedp.Text(chromedp.ID("svc-rev"))))
	require.Equal(t, "Changes in revision 2 (from 1)", value(t, ctx, chromedp.Text(chromedp.ID("diff-title"))))
	require.Equal(t, "alice", value(t, ctx, chromedp.Text(chromedp.CSS("#rev-2 .author"))))
	diff := value(t, ctx, chromedp.TextContent(chromedp.ID("diff")))
	require.Contains(t, diff, "+[disk#05]")
	require.Contains(t, diff, "-# generated by svckit formtemplate/spd: 4 pods on 2 nodes")
	page := value(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NotContains(t, page, password)
	require.True(t, strings.Contains(page, "MYSQL_ROOT_PASSWORD=xxxx"))
	require.Equal(t, 0, value(t, ctx, chromedp.Evaluate[int](`document.scripts.length`)))
	shot(t, ctx, "service.png")

	// The links of the revisions table: the diff page, an old revision.
	require.EqualValues(t, http.StatusOK, click(t, ctx, `#rev-2 a[href$="diff?from=1&to=2"]`))
	require.Equal(t, base+"/services/spdsvc07/diff?from=1&to=2", value(t, ctx, chromedp.Location()))
	require.Equal(t, "Revision 1 to 2", value(t, ctx, chromedp.Text(chromedp.ID("diff-title"))))
	run(t, ctx, chromedp.Navigate(base+"/services/spdsvc07"))
	require.EqualValues(t, http.StatusOK, click(t, ctx, `#rev-1 a`))
	require.Equal(t, base+"/services/spdsvc07?rev=1", value(t, ctx, chromedp.Location()))
	require.Contains(t, value(t, ctx, chromedp.TextContent(chromedp.ID("config"))), "4 pods on 2 nodes")

	// Log out: the pages ask for a login again.
	require.EqualValues(t, http.StatusOK, click(t, ctx, "#logout"))
	require.Equal(t, base+"/login", value(t, ctx, chromedp.Location()))
	run(t, ctx, chromedp.Navigate(base+"/services"))
	require.True(t, strings.HasPrefix(value(t, ctx, chromedp.Location()), base+"/login?next="))
}
