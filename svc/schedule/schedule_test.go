package schedule_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the daylight saving test needs Europe/Paris wherever it runs

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/schedule"
)

// at reads "2006-01-02 15:04:05" in UTC; "" is the zero time (never ran).
func at(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	tm, err := time.ParseInLocation(time.DateTime, s, time.UTC)
	require.NoError(t, err)
	return tm
}

func parse(t testing.TB, def string) *schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse(def, schedule.Options{})
	require.NoError(t, err, def)
	return s
}

// The two examples of the reference's documentation (usr/share/doc/schedule
// of the older agent, which the current one points its keywords to). Its
// prose reads the first as "on last monday, tuesday and saturday of every
// even months plus february and april"; the reference's code, which svckit
// follows, reads "sat:last" as "the last day of the month if a saturday",
// "tue-mon:last" as the last day of the month whatever its weekday, and
// "%2+1" as the months m with m+1 even (the odd ones).
func TestReferenceDocumentationExamples(t *testing.T) {
	const ex1 = "16:00-17:00@1m sat:last,tue-mon:last * %2+1,feb-apr"
	const ex2 = `["06:00-07:00@1h *:1,-1", "! * * * feb"]`
	tests := []struct {
		name, def, after, last, next string
	}{
		// ex1 runs on the last day of jan, feb, mar, apr, may, jul, sep, nov.
		{"june is not kept, july 31st is", ex1, "2026-06-01 00:00:00", "", "2026-07-31 16:00:00"},
		{"october is not kept", ex1, "2026-10-01 00:00:00", "", "2026-11-30 16:00:00"},
		{"once a minute in the range", ex1, "2026-01-31 16:30:30", "2026-01-31 16:30:00", "2026-01-31 16:31:00"},
		{"after the range, the next month's last day", ex1, "2026-01-31 17:00:01", "2026-01-31 17:00:00", "2026-02-28 16:00:00"},
		{"leap february", ex1, "2028-02-01 00:00:00", "", "2028-02-29 16:00:00"},
		// ex2 runs on the first and the last day of every month but february.
		{"last day of january", ex2, "2026-01-15 00:00:00", "", "2026-01-31 06:00:00"},
		{"february excluded", ex2, "2026-02-01 00:00:00", "", "2026-03-01 06:00:00"},
		// Both ends of a range are in it, as in the reference: with @1h a
		// run at 06:00 allows one at 07:00.
		{"an hour after the last run, at the end of the range", ex2, "2026-03-01 06:30:00", "2026-03-01 06:00:00", "2026-03-01 07:00:00"},
		{"then the last day of the month", ex2, "2026-03-01 07:00:01", "2026-03-01 07:00:00", "2026-03-31 06:00:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := parse(t, tc.def)
			next, ok := s.Next(at(t, tc.after), at(t, tc.last))
			require.True(t, ok)
			require.Equal(t, at(t, tc.next), next)
			require.True(t, s.Due(next, at(t, tc.last)))
		})
	}
	s := parse(t, ex2)
	require.False(t, s.Due(at(t, "2026-02-28 06:30:00"), time.Time{}), "february is excluded")
	require.True(t, s.Due(at(t, "2026-04-30 06:30:00"), time.Time{}))
	require.False(t, s.Due(at(t, "2026-04-29 06:30:00"), time.Time{}), "neither first nor last day")
}

// The reference's own test tables (the older agent's
// tests/corelib/test_scheduler.py and the current one's
// util/schedule/main_test.go): instants a definition allows or not.
func TestDueReferenceTables(t *testing.T) {
	notAllowed := []struct{ def, now string }{
		{"", "2015-02-27 10:00:00"},
		{"@0", "2015-02-27 10:00:00"},
		{"*@0", "2015-02-27 10:00:00"},
		{"09:00-09:20", "2015-02-27 10:00:00"},
		{"09:00-09:20@31", "2015-02-27 10:00:00"},
		{"09:00-09:00", "2015-02-27 10:00:00"},
		{"09:00", "2015-02-27 10:00:00"},
		{"09:00-09:00", "2015-02-27 09:09:00"},
		{"09:00", "2015-02-27 09:09:00"},
		{"09:20-09:00", "2015-02-27 09:09:00"},
		{"* fri", "2015-10-08 10:00:00"},
		{"* *:-2", "2015-01-24 10:00:00"},
		{"* *:-2", "2015-01-31 10:00:00"},
		{"* :last", "2015-01-30 10:00:00"},
		{"* :-2", "2015-01-31 10:00:00"},
		{"* :-2", "2015-01-05 10:00:00"},
		{"* :5", "2015-01-06 10:00:00"},
		{"* :+5", "2015-01-06 10:00:00"},
		{"* :fifth", "2015-01-06 10:00:00"},
		{"* * * %2", "2015-01-06 10:00:00"},
		{"* * * jan-feb%2", "2015-01-06 10:00:00"},
	}
	for _, tc := range notAllowed {
		s := parse(t, tc.def)
		require.False(t, s.Due(at(t, tc.now), time.Time{}), "%q at %s", tc.def, tc.now)
		// The older agent also asks with the last run at now.
		require.False(t, s.Due(at(t, tc.now), at(t, tc.now)), "%q at %s, ran then", tc.def, tc.now)
	}
	allowed := []struct{ def, now string }{
		{"*", "2015-02-27 10:00:00"},
		{"*@61", "2015-02-27 10:00:00"},
		{"09:20-09:00", "2015-02-27 10:00:00"},
		{"09:00-09:20", "2015-02-27 09:09:00"},
		{"09:00-09:20@31", "2015-02-27 09:09:00"},
		{"* fri", "2015-10-09 10:00:00"},
		{"* *:fifth", "2015-01-05 10:00:00"},
		{"* *:fourth", "2015-01-04 10:00:00"},
		{"* *:third", "2015-01-03 10:00:00"},
		{"* *:second", "2015-01-02 10:00:00"},
		{"* *:first", "2015-01-01 10:00:00"},
		{"* *:1st", "2015-01-01 10:00:00"},
		{"* *:last", "2015-01-31 10:00:00"},
		{"* :fifth", "2015-01-05 10:00:00"},
		{"* :fourth", "2015-01-04 10:00:00"},
		{"* :third", "2015-01-03 10:00:00"},
		{"* :second", "2015-01-02 10:00:00"},
		{"* :first", "2015-01-01 10:00:00"},
		{"* :1st", "2015-01-01 10:00:00"},
		{"* :last", "2015-01-31 10:00:00"},
		{"* :5", "2015-01-05 10:00:00"},
		{"* :4", "2015-01-04 10:00:00"},
		{"* :3", "2015-01-03 10:00:00"},
		{"* :2", "2015-01-02 10:00:00"},
		{"* :1", "2015-01-01 10:00:00"},
		{"* :-1", "2015-01-31 10:00:00"},
		{"* :-2", "2015-01-30 10:00:00"},
		{"* :-3", "2015-01-29 10:00:00"},
		{"* :-4", "2015-01-28 10:00:00"},
		{"* *:5", "2015-01-05 10:00:00"},
		{"* *:-4", "2015-01-28 10:00:00"},
		{"* * * jan", "2015-01-06 10:00:00"},
		{"* * * jan-feb", "2015-01-06 10:00:00"},
		{"* * * %2+1", "2015-01-06 10:00:00"},
		{"* * * jan-feb%2+1", "2015-01-06 10:00:00"},
		{"18:00-18:59@60 wed", "2016-08-31 18:00:00"},
		{"23:00-23:59@61 *:first", "2016-09-01 23:00:00"},
		{"23:00-23:59", "2016-09-01 23:00:00"},
		{"23:00-00:59", "2016-09-01 23:00:00"},
		{"@10", "2015-02-27 10:00:00"},
	}
	for _, tc := range allowed {
		s := parse(t, tc.def)
		require.True(t, s.Due(at(t, tc.now), time.Time{}), "%q at %s", tc.def, tc.now)
		require.True(t, s.Due(at(t, tc.now), at(t, "1902-04-01 23:10:00")), "%q at %s, ran long ago", tc.def, tc.now)
	}
	tooSoon := []struct{ def, now, last string }{
		{"@10", "2015-02-27 10:00:00", "2015-02-27 09:52:00"},
		{"@10s", "2015-02-27 10:00:15", "2015-02-27 10:00:08"},
	}
	for _, tc := range tooSoon {
		require.False(t, parse(t, tc.def).Due(at(t, tc.now), at(t, tc.last)), "%q at %s after %s", tc.def, tc.now, tc.last)
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name, def, after, last, next string
	}{
		// The current agent's TestNext table.
		{"simple timerange", "09:00-09:20", "2015-02-27 10:00:00", "2015-02-27 09:05:00", "2015-02-28 09:00:00"},
		{"timerange and weekday", "09:00-09:20 mon", "2022-05-20 10:00:00", "2022-05-16 09:05:00", "2022-05-23 09:00:00"},
		{"over february's end, leap year", "09:00-09:20", "2020-02-28 10:00:00", "2020-02-27 09:05:00", "2020-02-29 09:00:00"},
		{"over february's end", "09:00-09:20", "2015-02-28 10:00:00", "2015-02-27 09:05:00", "2015-03-01 09:00:00"},
		{"timerange and short interval", "09:00-10:20@31", "2015-02-27 09:06:00", "2015-02-27 09:05:00", "2015-02-27 09:36:00"},
		{"every friday", "* fri", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2022-05-27 00:00:00"},
		{"last day of the month", "* *:last", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2022-05-31 00:00:00"},
		{"day -2 of the month", "* *:-2", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2022-05-30 00:00:00"},
		{"5th of the month", "* *:5", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2022-06-05 00:00:00"},
		{"+5th of the month", "* *:+5", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2022-06-05 00:00:00"},
		{"even months", "* * * %2", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2022-06-01 00:00:00"},
		{"even months of jan-feb", "* * * jan-feb%2", "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2023-02-01 00:00:00"},
		// The reference answers 11:00:00, an instant its own exclusion
		// (ends included) refuses; svckit's next run is one it allows.
		{"exclusion as a second expression", `["* * * jan-feb%2", "! 00:00-11:00"]`, "2022-05-23 09:06:00", "2022-05-20 09:05:00", "2023-02-01 11:00:01"},

		// The seed's node tasks: compliance.schedule = @1440, stats.schedule = @60.
		{"@1440 never ran: now", "@1440", "2026-12-03 10:00:00", "", "2026-12-03 10:00:00"},
		{"@1440 a day after the last run", "@1440", "2026-12-03 10:00:00", "2026-12-03 09:00:00", "2026-12-04 09:00:00"},
		{"@60 an hour after", "@60", "2026-12-03 10:00:00", "2026-12-03 09:30:00", "2026-12-03 10:30:00"},
		// Interval units (the reference's TestParsedInterval values).
		{"@3s", "@3s", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-27 10:00:03"},
		{"*@6s", "*@6s", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-27 10:00:06"},
		{"*@06s", "*@06s", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-27 10:00:06"},
		{"*@18s", "*@18s", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-27 10:00:18"},
		{"10:00-18:00@10s", "10:00-18:00@10s", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-27 10:00:10"},
		{"@1h30m", "@1h30m", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-27 11:30:00"},
		{"@1d", "@1d", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-02-28 10:00:00"},
		{"@1w", "@1w", "2015-02-27 10:00:00", "2015-02-27 10:00:00", "2015-03-06 10:00:00"},
		{"@1h in a range: the next day's begin", "08:00-09:00@1h", "2015-02-27 09:00:01", "2015-02-27 08:30:00", "2015-02-28 08:00:00"},
		// A single time is a one-second range.
		{"single time", "09:00", "2015-02-27 08:00:00", "", "2015-02-27 09:00:00"},
		{"single time, just run", "09:00", "2015-02-27 09:00:01", "2015-02-27 09:00:00", "2015-02-28 09:00:00"},
		// A range over midnight belongs to the day of each instant, as in
		// the reference: monday's 00:00-01:00 and monday's 23:00-24:00.
		{"wrapping range, tuesday is not monday", "23:00-01:00 mon", "2026-01-06 00:30:00", "", "2026-01-12 00:00:00"},
		{"wrapping range, monday evening", "23:00-01:00 mon", "2026-01-12 00:00:01", "2026-01-12 00:00:00", "2026-01-12 23:00:00"},
		// Several ranges: the earliest wins.
		{"two ranges", "02:00-03:00,14:00-15:00", "2026-01-06 03:00:01", "2026-01-06 02:00:00", "2026-01-06 14:00:00"},
		// Rare days, years apart: the reference searches this year and
		// the next only, and would say never.
		{"sunday february 29th", "* sun:29 * feb", "2026-01-01 00:00:00", "", "2032-02-29 00:00:00"},
		{"ISO week 53 this year", "* * 53", "2026-01-01 00:00:00", "", "2026-12-28 00:00:00"},
		{"ISO week 53, next long year", "* * 53", "2027-01-04 00:00:00", "", "2032-12-27 00:00:00"},
		{"week range wraps over the new year", "* mon 52-1", "2026-02-01 00:00:00", "", "2026-12-21 00:00:00"},
		{"weekday names and numbers", "* 6-sunday", "2026-12-03 12:00:00", "", "2026-12-05 00:00:00"},
		{"month range wraps", "* * * nov-jan", "2026-02-01 00:00:00", "", "2026-11-01 00:00:00"},
		{"exclusion of week-ends", `["@60", "! * sat,sun"]`, "2026-12-05 10:00:00", "", "2026-12-07 00:00:00"},
		{"exclusion over midnight ends at midnight of the excluded day", `["@60", "! 22:00-02:00 fri"]`, "2026-12-04 23:00:00", "", "2026-12-05 00:00:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := parse(t, tc.def)
			last := at(t, tc.last)
			next, ok := s.Next(at(t, tc.after), last)
			require.True(t, ok)
			require.Equal(t, at(t, tc.next), next)
			require.True(t, s.Due(next, last))
			if prev := next.Add(-time.Second); !prev.Before(at(t, tc.after)) {
				require.False(t, s.Due(prev, last), "due a second earlier")
			}
		})
	}
}

func TestNextNeverAndDisabled(t *testing.T) {
	tests := []struct {
		def      string
		disabled bool
	}{
		{"", true},
		{"   ", true},
		{"@0", true},
		{"*@0", true},
		{"@0s", true},
		{"@0 mon", true},
		{"[]", true},
		{`["@0", "*@0"]`, true},
		{`["! *"]`, true}, // only an exclusion: nothing to run
		{"* :30 * feb", false},
		{"* :31 * apr,jun,sep,nov", false},
		{"* mon:1 53", false}, // the 1st is never in ISO week 53
		{`["@60", "! *"]`, false},
		{`["@1m", "! 00:00-12:00", "! 12:00-23:59:59"]`, false}, // two exclusions cover the day
		{`["* 1", "! * * * %2", "! * * * %2+1"]`, false},        // and two cover the year
		{`["@60 mon", "! 00:00-11:59:59,12:00:01-23:59:59", "! 12:00:00-12:00:00 mon"]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.def, func(t *testing.T) {
			s := parse(t, tc.def)
			require.Equal(t, tc.disabled, s.Disabled())
			require.True(t, s.Never())
			_, ok := s.Next(at(t, "2026-12-03 10:00:00"), time.Time{})
			require.False(t, ok)
			require.False(t, s.Due(at(t, "2026-02-28 10:00:00"), time.Time{}))
		})
	}
	s := parse(t, "*@0,09:00-10:00")
	require.False(t, s.Disabled(), "only the @0 range is dropped")
	require.False(t, s.Never())
}

// Times are wall clock: 09:00 stays 09:00 on the day clocks go forward.
func TestNextDaylightSaving(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	s := parse(t, "09:00-09:20")
	after := time.Date(2026, 3, 28, 10, 0, 0, 0, paris)
	last := time.Date(2026, 3, 28, 9, 5, 0, 0, paris)
	next, ok := s.Next(after, last)
	require.True(t, ok)
	require.Equal(t, time.Date(2026, 3, 29, 9, 0, 0, 0, paris), next)
	require.Equal(t, 22*time.Hour, next.Sub(after), "a 23-hour day")
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		def, field, token string
	}{
		// The reference's invalid definitions.
		{"23:00-23:59@61 *:first:*", "days", "*:first:*"},
		{"23:00-23:59@61 *:", "days", "*:"},
		{"23:00-23:59@61 *:*", "days", "*:*"},
		{"23:00-23:59@61 * * %2%3", "months", "%2%3"},
		{"23:00-23:59@61 * * %2+1+2", "months", "%2+1+2"},
		{"23:00-23:59@61 * * %foo", "months", "%foo"},
		{"23:00-23:59@61 * * %2+foo", "months", "%2+foo"},
		{"23:00-23:59@61 freday", "days", "freday"},
		{"23:00-23:59@61 * * junuary", "months", "junuary"},
		{"23:00-23:59-01:00@61", "timerange", "23:00-23:59-01:00"},
		{"23:00-23:59:00@61 * * %2%3", "months", "%2%3"},
		{"23:00-23:59@61@10", "timerange", "23:00-23:59@61@10"},
		{"23:00-23:02 mon 1 12 4", "expression", "23:00-23:02 mon 1 12 4"},
		{"21-22 mon 1 12", "timerange", "21-22"},
		{"14-15", "timerange", "14-15"},
		{"* :0", "days", ":0"},
		{"* *:0", "days", "*:0"},
		// More.
		{"24:00", "timerange", "24:00"},
		{"09:60-10:00", "timerange", "09:60-10:00"},
		{"9h-10h", "timerange", "9h-10h"},
		{"@-5", "interval", "@-5"},
		{"@5x", "interval", "@5x"},
		{"@1.5h", "interval", "@1.5h"},
		{"@", "interval", "@"},
		{"@h", "interval", "@h"},
		{"@11y", "interval", "@11y"},
		{"@999999999", "interval", "@999999999"},
		{"* 8", "days", "8"},
		{"* 0", "days", "0"},
		{"* mon-", "days", "mon-"},
		{"* :32", "days", ":32"},
		{"* :-32", "days", ":-32"},
		{"* * 54", "weeks", "54"},
		{"* * 0", "weeks", "0"},
		{"* * mon", "weeks", "mon"},
		{"* * * 13", "months", "13"},
		{"* * * %0", "months", "%0"},
		{"* * * %13", "months", "%13"},
		{"* * * jan%12", "months", "jan%12"},
		{"[", "definition", "["},
		{`["*", 5]`, "definition", `["*", 5]`},
		{`{"a": 1}`, "timerange", `{"a":`},
		{`["*", "* freday"]`, "days", "freday"},
	}
	for _, tc := range tests {
		t.Run(tc.def, func(t *testing.T) {
			_, err := schedule.Parse(tc.def, schedule.Options{})
			require.Error(t, err)
			var perr *schedule.Error
			require.True(t, errors.As(err, &perr), "%T", err)
			require.Equal(t, tc.field, perr.Field)
			require.Equal(t, tc.token, perr.Token)
			require.Equal(t, tc.def, perr.Definition)
			require.NotEmpty(t, perr.Expected)
			require.Contains(t, err.Error(), fmt.Sprintf("%s %q: expected ", tc.field, tc.token))
		})
	}
	_, err := schedule.Parse(`["*", "* freday"]`, schedule.Options{})
	require.Contains(t, err.Error(), `expression "* freday"`, "the list element at fault is named")

	long := strings.Repeat("09:00-09:01,", 400)
	_, err = schedule.Parse(long, schedule.Options{})
	var perr *schedule.Error
	require.True(t, errors.As(err, &perr))
	require.Equal(t, "definition", perr.Field)
	many := "[" + strings.Repeat(`"* mon:1 53",`, schedule.MaxExpressions) + `"@60"]`
	_, err = schedule.Parse(many, schedule.Options{})
	require.True(t, errors.As(err, &perr))
	require.Equal(t, "definition", perr.Field)
	require.Contains(t, perr.Expected, "expressions")
	require.Panics(t, func() { schedule.MustParse("freday", schedule.Options{}) })
}

// "~" puts each node's run at its own fixed point of the range.
func TestSpread(t *testing.T) {
	begin := at(t, "2026-12-03 00:00:00")
	seen := map[time.Time]bool{}
	var lo, hi time.Time
	for i := range 200 {
		s, err := schedule.Parse("~00:00-06:00", schedule.Options{Seed: schedule.Seed(fmt.Sprintf("node%d", i), "compliance_auto")})
		require.NoError(t, err)
		first, ok := s.Next(begin, time.Time{})
		require.True(t, ok)
		require.False(t, first.Before(begin))
		require.True(t, first.Before(at(t, "2026-12-03 06:00:00")), "%s", first)
		require.True(t, s.Due(first, time.Time{}))
		if first.After(begin) {
			require.False(t, s.Due(first.Add(-time.Second), time.Time{}), "not before its point")
		}
		// The same point the next day, a day after the last run.
		second, ok := s.Next(first.Add(time.Second), first)
		require.True(t, ok)
		require.Equal(t, first.Add(24*time.Hour), second)
		seen[first] = true
		if lo.IsZero() || first.Before(lo) {
			lo = first
		}
		if first.After(hi) {
			hi = first
		}
	}
	require.Greater(t, len(seen), 190, "200 nodes spread out")
	require.Less(t, lo.Sub(begin), time.Hour, "some run early")
	require.Greater(t, hi.Sub(begin), 5*time.Hour, "some run late")

	// Deterministic for one seed.
	a := schedule.MustParse("~00:00-06:00", schedule.Options{Seed: 42})
	b := schedule.MustParse("~00:00-06:00", schedule.Options{Seed: 42})
	na, _ := a.Next(begin, time.Time{})
	nb, _ := b.Next(begin, time.Time{})
	require.Equal(t, na, nb)

	// No spread when the range runs more than once (the interval is
	// shorter than the range), as in the reference: right away.
	for _, def := range []string{"~*@1h", "~00:00-06:00@10m", "~09:00"} {
		s := schedule.MustParse(def, schedule.Options{Seed: 42})
		from := at(t, "2026-12-03 09:00:00")
		if def != "~09:00" {
			from = at(t, "2026-12-03 01:00:00")
		}
		n, ok := s.Next(from, time.Time{})
		require.True(t, ok)
		require.Equal(t, from, n, def)
	}

	// The reference's "~09:00-09:20" allowed at 09:09 (after a random
	// delay there): here allowed at 09:09 exactly when the point is passed.
	s := schedule.MustParse("~09:00-09:20", schedule.Options{Seed: schedule.Seed("n1", "t")})
	point, ok := s.Next(at(t, "2015-02-27 09:00:00"), time.Time{})
	require.True(t, ok)
	require.Equal(t, !point.After(at(t, "2015-02-27 09:09:00")), s.Due(at(t, "2015-02-27 09:09:00"), time.Time{}))
}

// Next is the first instant at or after its start at which Due holds:
// checked on random starts and last runs over varied definitions.
func TestNextAgreesWithDue(t *testing.T) {
	defs := []string{
		"@1440", "@60", "@10s", "~00:00-06:00", "04:00-06:00", "09:00-10:20@31",
		"23:00-01:00 mon", "* fri", "* *:-2", "* * * %2", "* * 50-2",
		"16:00-17:00@1m sat:last,tue-mon:last * %2+1,feb-apr",
		`["06:00-07:00@1h *:1,-1", "! * * * feb"]`,
		`["@30", "! 12:00-13:00", "! * sat,sun"]`,
		`["02:00-03:00@5m mon-fri", "08:00 sat", "! 02:30-02:40"]`,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := at(t, "2026-01-01 00:00:00")
	for _, def := range defs {
		s := schedule.MustParse(def, schedule.Options{Seed: 7})
		for range 40 {
			after := base.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
			var last time.Time
			if rng.IntN(3) > 0 {
				last = after.Add(-time.Duration(rng.Int64N(int64(48 * time.Hour)))).Truncate(time.Second)
			}
			next, ok := s.Next(after, last)
			require.True(t, ok, "%q from %s", def, after)
			require.False(t, next.Before(after))
			require.True(t, s.Due(next, last), "%q: next %s from %s, last %s", def, next, after, last)
			// Sample the gap: nothing due before next.
			gap := next.Sub(after)
			step := max(time.Second, (gap / 500).Truncate(time.Second))
			for x := after; x.Before(next); x = x.Add(step) {
				require.False(t, s.Due(x, last), "%q: due at %s, before next %s (from %s, last %s)", def, x, next, after, last)
			}
			if prev := next.Add(-time.Second); !prev.Before(after) {
				require.False(t, s.Due(prev, last))
			}
		}
	}
}

// The reference's tables of weekday, month and week ranges (names,
// numbers, wrapping), read through Due.
func TestCalendarRanges(t *testing.T) {
	weekdays := []struct {
		spec string
		want []int // ISO weekdays
	}{
		{"mon", []int{1}},
		{"monday", []int{1}},
		{"sun", []int{7}},
		{"sunday", []int{7}},
		{"monday-sunday", []int{1, 2, 3, 4, 5, 6, 7}},
		{"monday-wed", []int{1, 2, 3}},
		{"sun-mon", []int{1, 7}},
		{"sun-tue", []int{1, 2, 7}},
		{"sun-wed", []int{1, 2, 3, 7}},
		{"mon-monday", []int{1}},
		{"tuesday-tue", []int{2}},
		{"sun-fri", []int{1, 2, 3, 4, 5, 7}},
		{"MON,Fri", []int{1, 5}},
		{"6-7", []int{6, 7}},
	}
	monday := at(t, "2026-12-07 12:00:00")
	for _, tc := range weekdays {
		s := parse(t, "* "+tc.spec)
		var got []int
		for i := range 7 {
			if s.Due(monday.AddDate(0, 0, i), time.Time{}) {
				got = append(got, i+1)
			}
		}
		require.Equal(t, tc.want, got, tc.spec)
	}
	months := []struct {
		spec string
		want []int
	}{
		{"jan", []int{1}},
		{"january", []int{1}},
		{"jan-apr", []int{1, 2, 3, 4}},
		{"nov-feb", []int{1, 2, 11, 12}},
		{"nov-jan", []int{1, 11, 12}},
		{"dec-mar", []int{1, 2, 3, 12}},
		{"april-apr", []int{4}},
		{"jun", []int{6}},
		{"%2", []int{2, 4, 6, 8, 10, 12}},
		{"%2+1", []int{1, 3, 5, 7, 9, 11}},
		{"%3", []int{3, 6, 9, 12}},
		{"%3+1", []int{2, 5, 8, 11}},
		{"%3+2", []int{1, 4, 7, 10}},
		{"*%3+2,jun", []int{1, 4, 6, 7, 10}},
	}
	for _, tc := range months {
		s := parse(t, "* * * "+tc.spec)
		var got []int
		for m := 1; m <= 12; m++ {
			if s.Due(time.Date(2026, time.Month(m), 15, 12, 0, 0, 0, time.UTC), time.Time{}) {
				got = append(got, m)
			}
		}
		require.Equal(t, tc.want, got, tc.spec)
	}
	weeks := []struct {
		spec string
		want []int
	}{
		{"1", []int{1}},
		{"1-5", []int{1, 2, 3, 4, 5}},
		{"50-2", []int{1, 2, 50, 51, 52, 53}},
		{"8-10,52", []int{8, 9, 10, 52}},
	}
	for _, tc := range weeks {
		s := parse(t, "* * "+tc.spec)
		var got []int
		// 2026 has 53 ISO weeks; its week 1 starts on monday 2025-12-29.
		for w := range 53 {
			if s.Due(time.Date(2025, 12, 29+7*w, 12, 0, 0, 0, time.UTC), time.Time{}) {
				got = append(got, w+1)
			}
		}
		require.Equal(t, tc.want, got, tc.spec)
	}
}
