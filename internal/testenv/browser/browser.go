// Package browser starts a headless Chromium for the tests that drive a
// real browser (chromedp), and bounds every step so that a page that
// never comes fails the test instead of hanging it.
package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/internal/testenv"
)

// StepTimeout bounds each Do, Get and Click.
const StepTimeout = 30 * time.Second

// Start starts a headless Chromium (Debian's chromium package) with a
// window of width x height for the test, or skips it with the reason (a
// failure under CI=true). The browser stops at the end of the test.
func Start(t *testing.T, width, height int) context.Context {
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
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
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

// Do runs actions within StepTimeout.
func Do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// Get runs an action that answers a value within StepTimeout.
func Get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// Click clicks the element sel selects and waits for the page the click
// brings; it returns that page's HTTP status.
func Click(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	require.NoError(t, err)
	return resp.Status
}
