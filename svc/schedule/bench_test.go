package schedule_test

import (
	"testing"
	"time"

	"github.com/svckit/svckit/svc/schedule"
)

// BenchmarkNext: the next run of typical definitions, the last run an
// interval ago (what a daemon asks after each run).
func BenchmarkNext(b *testing.B) {
	after := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, bc := range []struct{ name, def string }{
		{"interval", "@1440"},
		{"spread", "~00:00-06:00"},
		{"weekdays", "02:00-04:00@1h mon-fri"},
		{"doc1", "16:00-17:00@1m sat:last,tue-mon:last * %2+1,feb-apr"},
		{"doc2", `["06:00-07:00@1h *:1,-1", "! * * * feb"]`},
		{"week53", "* * 53"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := schedule.MustParse(bc.def, schedule.Options{Seed: schedule.Seed("spd01", "compliance_auto")})
			last := after.Add(-time.Hour)
			for b.Loop() {
				if _, ok := s.Next(after, last); !ok {
					b.Fatal("never")
				}
			}
		})
	}
}

// BenchmarkParse includes the check that the definition can ever run.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, def string }{
		{"interval", "@1440"},
		{"doc1", "16:00-17:00@1m sat:last,tue-mon:last * %2+1,feb-apr"},
		{"feb30", "* :30 * feb"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := schedule.Parse(bc.def, schedule.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
