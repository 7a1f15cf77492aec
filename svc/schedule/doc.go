// Package schedule reads the schedule definitions of the OpenSVC agent
// (node.conf's compliance.schedule = @1440, a service's status_schedule)
// and answers the two questions a scheduler asks: when is the next run
// after t (Schedule.Next), and is the task due now given its last run
// (Schedule.Due). Task adds a name, the last runs, their persistence
// across restarts (Store, Task.Restore) and the rule that a task never runs
// twice at once (Task.ClaimDue, Run.Release).
//
// Everything takes the time as an argument: no clock is read, so tests and
// simulations drive it. Times are wall clock in the location of the time
// given (09:00 stays 09:00 across a daylight saving change).
//
// # Grammar
//
// A definition is one expression, or a JSON list of expressions:
//
//	@60
//	["06:00-07:00@1h *:1,-1", "! * * * feb"]
//
// An expression is up to four fields separated by spaces, the later ones
// defaulting to "any":
//
//	[!] <timeranges> [<days> [<weeks> [<months>]]]
//
// "!" makes it an exclusion: no run at an instant an exclusion holds,
// whatever the other expressions say.
//
// <timeranges> is a comma-separated list of [~]<begin>[-<end>][@<interval>]:
//   - begin and end are HH:MM or HH:MM:SS, both inclusive; end before begin
//     wraps over midnight (23:00-01:00); a single time (09:00) is, as in the
//     reference, the range from it to the next second (09:00:00-09:00:01); "*" or nothing is the whole day (00:00:00-23:59:59).
//   - @<interval> is the least time between two runs: a bare number is
//     minutes (@1440 is a day), else numbers with units s, m, h, d, w, y
//     (@30s, @1h30m), at most 10y. Without it a range runs once (its
//     interval is its length plus one second), and "*" once a day.
//   - "~" spreads the run over the range, so that nodes do not all hit the
//     collector at its first second. The reference draws a random delay;
//     here the run is at a fixed point of the range derived from
//     Options.Seed (Seed(node, task) in a Task): the same every day on one
//     node, different across nodes, and predictable by Next. As in the
//     reference it applies only to a range that runs once (interval at
//     least its length) and is longer than two seconds.
//
// <days> is a comma-separated list of <weekday>[-<weekday>][:<monthday>]:
// weekdays mon..sun, monday..sunday or ISO numbers 1 (monday) to 7, "*" or
// nothing for any; a range can wrap (sun-tue is sunday, monday, tuesday).
// <monthday> restricts to a day of the month: 1-31, +n, first..fifth,
// 1st..5th, or from the end -n, last. As in the reference, "fri:last" is
// the last day of the month when it is a friday, not the last friday.
// A bare negative number (-1) is a day of the month from the end, any
// weekday.
//
// <weeks> is a comma-separated list of ISO week numbers 1-53 and ranges
// (50-2 wraps over the new year).
//
// <months> is a comma-separated list of <month>[-<month>][%<modulo>[+<shift>]]:
// months jan..dec, january..december or 1-12, "*" or nothing for any;
// %n keeps the months m of that element where (m+shift) is a multiple of n
// (%2 even months, %2+1 odd ones, jan-jun%3 march and june).
//
// # Disabled and never
//
// "", "@0", an empty JSON list, or expressions whose every range has a zero
// interval ("*@0") disable the task: Disabled reports it, Due is false and
// Next returns false. A definition whose days never occur (February 30th:
// "* :30 * feb") or are always excluded parses, and Never reports it. Next
// searches at most 411 years ahead (the calendar repeats every 400 years,
// plus the longest interval), so it always ends.
//
// # Errors
//
// A definition holds at most MaxDefinitionLen bytes and MaxExpressions
// expressions. A bad definition is an *Error naming the expression, the field
// (timerange, interval, days, weeks, months), the offending token and what
// was expected there. Unlike the reference, which drops a bad expression
// and runs the others, Parse refuses the whole definition: a schedule that
// silently never runs is worse than a configuration error.
package schedule
