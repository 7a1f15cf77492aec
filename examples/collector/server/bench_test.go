package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc/store"
)

// BenchmarkPostService posts the seed's 32-pod, 4-node config (about
// 71 KB) to POST /services as svc/store.Collector does, each post a
// compare-and-swap (If-Match) on the previous revision, and prints the
// p50/p99 latency of the request on each database.
func BenchmarkPostService(b *testing.B) {
	cfg, err := spd.Generate(spd.Inputs{NPods: 32, Svcname: "spdsvc01", App: "RIVER_SPD",
		Nodes: []string{"spd01", "spd02", "spd03", "spd04"}, SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "Bench-Root-Pw1"})
	require.NoError(b, err)
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open, server.Options{})
			cur, err := e.client(adminUser, adminPass).Put(context.Background(), "spdsvc01", cfg, store.Absent)
			require.NoError(b, err)
			var lat []time.Duration
			b.SetBytes(int64(len(cfg)))
			b.ResetTimer()
			sum := cur.Revision
			for i := 0; b.Loop(); i++ {
				// Each revision differs, as an edited config does.
				data := fmt.Appendf(slices.Clip(cfg), "# edit %d\n", i)
				body, err := json.Marshal(map[string]string{"svc_name": "spdsvc01", "svc_envfile": string(data), "svc_app": "RIVER_SPD"})
				require.NoError(b, err)
				req, err := http.NewRequest("POST", e.api()+"/services", bytes.NewReader(body))
				require.NoError(b, err)
				req.SetBasicAuth(adminUser, adminPass)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("If-Match", `"`+sum+`"`)
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				require.NoError(b, err)
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				require.NoError(b, err)
				require.Equal(b, http.StatusOK, resp.StatusCode)
				sum = store.Checksum(data)
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
			b.Logf("%s: POST /services, %d-byte config, %d pushes: p50 %v, p99 %v", be.name, len(cfg), len(lat), pct(0.50), pct(0.99))
			b.ReportMetric(float64(pct(0.50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(pct(0.99).Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkFormSubmit submits the seed's form as a browser does (a
// logged-in session, its CSRF token, form-encoded answers) for the
// 32-pod, 4-node service: each submission generates the 71 KB config
// and stores it as the service's next revision. It prints the p50/p99
// latency of the request on each database.
func BenchmarkFormSubmit(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open, server.Options{})
			c := e.browser()
			csrf := c.login(adminUser, adminPass)
			answers := url.Values{"csrf_token": {csrf}, "svcname": {"spdsvc01"}, "app": {"RIVER_SPD"}, "npods": {"32"},
				"nodes": {"spd01 spd02 spd03 spd04"}, "dism": {"tanji/spdc"}, "didb": {"mariadb"}, "myrootpwd": {"Bench-Root-Pw1"}}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				ans := c.post("/forms/spd", answers)
				lat = append(lat, time.Since(start))
				require.Equal(b, http.StatusOK, ans.status, ans.body)
			}
			b.StopTimer()
			cur, err := e.db.GetService(context.Background(), "spdsvc01")
			require.NoError(b, err)
			require.Equal(b, int64(len(lat)), cur.Rev, "one revision per submission")
			slices.Sort(lat)
			pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
			b.Logf("%s: form submit, %d-byte config, %d submissions: p50 %v, p99 %v", be.name, len(cur.EnvFile), len(lat), pct(0.50), pct(0.99))
			b.ReportMetric(float64(pct(0.50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(pct(0.99).Microseconds()), "p99-µs")
		})
	}
}
