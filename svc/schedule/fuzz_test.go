package schedule_test

import (
	"errors"
	"testing"
	"time"

	"github.com/svckit/svckit/svc/schedule"
)

// FuzzParse: any input parses or fails with an *Error, and whatever parses
// answers Next and Due, consistently, in bounded time.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "@0", "*@0", "@1440", "@60", "@10s", "~00:00-06:00", "04:00-06:00",
		"09:00-10:20@31", "23:00-01:00 mon", "* fri", "* *:-2", "* :last", "* * * %2+1",
		"* * 50-2", "* sun:29 * feb", "* :30 * feb", "* * 53",
		"16:00-17:00@1m sat:last,tue-mon:last * %2+1,feb-apr",
		`["06:00-07:00@1h *:1,-1", "! * * * feb"]`,
		`["@60", "! *"]`, `["* * * jan-feb%2", "! 00:00-11:00"]`,
		"23:00-23:59@61 *:first:*", "14-15", "@1h30m", "@11y", "* :0", "[", `["*", 5]`,
	} {
		f.Add(seed)
	}
	after := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, def string) {
		s, err := schedule.Parse(def, schedule.Options{Seed: 1})
		if err != nil {
			var perr *schedule.Error
			if !errors.As(err, &perr) || perr.Field == "" || perr.Expected == "" {
				t.Fatalf("%q: error %v is no *Error naming a field and what was expected", def, err)
			}
			return
		}
		for _, last := range []time.Time{{}, after.Add(-90 * time.Minute)} {
			next, ok := s.Next(after, last)
			if ok != !s.Never() {
				t.Fatalf("%q: Next ok %v but Never %v", def, ok, s.Never())
			}
			if !ok {
				continue
			}
			if next.Before(after) || !s.Due(next, last) {
				t.Fatalf("%q: next %s from %s is not due", def, next, after)
			}
			if prev := next.Add(-time.Second); !prev.Before(after) && s.Due(prev, last) {
				t.Fatalf("%q: due at %s, before next %s", def, prev, next)
			}
		}
	})
}
