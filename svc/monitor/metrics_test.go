package monitor_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/monitor"
)

// TestComplianceMetric checks svckit_compliance_last_result after a node
// compliance run that fails, then one that passes, and that the scrape
// passes the Prometheus lint.
func TestComplianceMetric(t *testing.T) {
	root := newRoot(t, "[compliance]\nschedule = @1\n")
	clock := newClock()
	results := []error{errors.New("module nodeconf: nok"), nil}
	d := newDaemon(t, root, clock, func(o *monitor.DaemonOptions) {
		o.NodeRunners = map[string]monitor.NodeRunner{monitor.TaskCompliance: func(ctx context.Context) (string, error) {
			err := results[0]
			results = results[1:]
			return "", err
		}}
	})
	for _, want := range []float64{0, 1} {
		d.Step(context.Background())
		d.Wait()
		clock.Add(2 * time.Minute)
		rec := httptest.NewRecorder()
		d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		require.Equal(t, 200, rec.Code)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
		require.NoError(t, err)
		require.Equal(t, want, gauge(t, families, "svckit_compliance_last_result", map[string]string{"scope": "node"}))
		problems, err := promlint.New(strings.NewReader(rec.Body.String())).Lint()
		require.NoError(t, err)
		require.Empty(t, problems)
	}
	require.Empty(t, results)
}

// TestNodeConfOutsideRoot checks that node.conf is read inside
// <root>/etc only: a symbolic link out of it is an error, not followed.
func TestNodeConfOutsideRoot(t *testing.T) {
	root := newRoot(t, "")
	outside := filepath.Join(t.TempDir(), "node.conf")
	require.NoError(t, os.WriteFile(outside, []byte("[compliance]\nschedule = @1\n"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc", "node.conf")))
	_, err := monitor.ReadNodeConf(root)
	require.Error(t, err)
	d := newDaemon(t, root, newClock(), func(o *monitor.DaemonOptions) {
		o.NodeRunners = map[string]monitor.NodeRunner{monitor.TaskCompliance: func(ctx context.Context) (string, error) { return "", nil }}
	})
	d.Step(context.Background())
	d.Wait()
	require.NotEmpty(t, d.State().NodeConf)
}
