package web_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/formtemplate/web"
)

// BenchmarkSubmitSpd32 posts the seed's form (32 pods on 4 nodes) as a
// browser does and reports the latency of a submission (validation, the
// spd checks, generation of the 71 KB config, redaction, the store's
// atomic write, the result page) at p50 and p99.
func BenchmarkSubmitSpd32(b *testing.B) {
	h, store := spdHandler(b, web.Options{})
	answers := spdAnswers()
	answers.Set(spd.InputNPods, "32")
	answers.Set(spd.InputNodes, "spd01 spd02 spd03 spd04")
	body := answers.Encode()
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, page := do(b, h, request{body: body})
		lat = append(lat, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %.300s", resp.StatusCode, page)
		}
	}
	b.StopTimer()
	if store.calls.Load() != int64(len(lat)) {
		b.Fatalf("%d stores for %d submissions", store.calls.Load(), len(lat))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
