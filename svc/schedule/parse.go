package schedule

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// MaxDefinitionLen bounds a definition, so that a hostile or corrupt one
// cannot make Parse or Next work for long; real ones are a few dozen bytes.
const MaxDefinitionLen = 4096

// MaxExpressions bounds the expressions of a JSON list: each costs a search
// of its own when a definition never matches; real ones have a handful.
const MaxExpressions = 32

// MaxInterval bounds an @<interval>: the next-run search looks that far
// past the last run plus one 400-year calendar cycle, and no more.
const MaxInterval = 10 * 365 * 24 * time.Hour

const (
	daySeconds = 24 * 60 * 60
	// horizon is how far Next searches past its start: the Gregorian
	// calendar (weekdays, ISO weeks, leap days) repeats every 400 years, so
	// a pattern absent from 400 years plus the longest interval is absent
	// forever.
	horizonYears = 400 + 10 + 1
)

// Error is a definition the parser refused: which expression of the
// definition, which field, the offending token and what was expected.
type Error struct {
	Definition string // the whole definition as given
	Expression string // the expression holding the error (one element of a JSON list)
	Field      string // "definition", "expression", "timerange", "interval", "days", "weeks" or "months"
	Token      string // the offending text
	Expected   string // what would have been accepted there
}

func (e *Error) Error() string {
	where := fmt.Sprintf("schedule %q", e.Definition)
	if e.Expression != "" && e.Expression != e.Definition {
		where += fmt.Sprintf(": expression %q", e.Expression)
	}
	return fmt.Sprintf("%s: %s %q: expected %s", where, e.Field, e.Token, e.Expected)
}

// Options tune Parse.
type Options struct {
	// Seed places each "~" random-spread range's run at a fixed point of
	// the range. Use Seed(node, task) so that nodes running the same task
	// spread out, and a node keeps its point across restarts. Zero is a
	// valid seed, the same for everyone.
	Seed uint64
}

// Seed derives a spread seed from the node name and the task name
// (FNV-1a 64 of both), so that the same task on different nodes runs at
// different points of a "~" range, and at the same point every day.
func Seed(node, task string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(node))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(task))
	return h.Sum64()
}

// timerange is one [~]begin-end[@interval] element, in seconds since
// midnight, wall clock. begin > end wraps over midnight.
type timerange struct {
	begin, end int
	interval   time.Duration
	spread     bool // "~" that applies: the range runs once and is wide enough
}

// day is one allowed day: an ISO weekday (1 monday .. 7 sunday) and, if
// monthday is not zero, the day of the month (negative counts from the end:
// -1 is the last day).
type day struct {
	weekday  int
	monthday int
}

type expression struct {
	raw        string
	exclude    bool
	ranges     []timerange
	days       []day
	weekdaySet [8]bool // weekdays allowed with any monthday, for the common case
	// weekdaysOnly: no day names a monthday, so weekdaySet is the whole
	// rule and the search can jump to the next allowed weekday.
	weekdaysOnly bool
	weeks        [54]bool
	allWeeks     bool // skips the ISO week computation, the common case
	months       [13]bool
}

// Schedule is a parsed definition. It is immutable and safe for concurrent
// use.
type Schedule struct {
	def      string
	includes []expression
	excludes []expression
	never    bool // no include can ever match (found by Parse)
}

// String returns the definition as given to Parse.
func (s *Schedule) String() string { return s.def }

// Disabled reports whether the definition disables the task, as the
// reference reads it: "", "@0", an empty JSON list, or only ranges with a
// zero interval ("*@0").
func (s *Schedule) Disabled() bool { return len(s.includes) == 0 }

// Never reports whether the task can never run: disabled, or its days
// never occur (February 30th) or are always excluded.
func (s *Schedule) Never() bool { return s.never }

// Parse reads a definition of the reference's grammar (see the package
// documentation). Errors are *Error.
func Parse(def string, opts Options) (*Schedule, error) {
	s := &Schedule{def: def}
	errAt := func(expr, field, token, expected string) error {
		return &Error{Definition: def, Expression: expr, Field: field, Token: token, Expected: expected}
	}
	if len(def) > MaxDefinitionLen {
		return nil, errAt("", "definition", def[:32]+"...", fmt.Sprintf("at most %d bytes", MaxDefinitionLen))
	}
	trimmed := strings.TrimSpace(def)
	var exprs []string
	switch {
	case trimmed == "" || trimmed == "@0":
	case strings.HasPrefix(trimmed, "["):
		if err := json.Unmarshal([]byte(trimmed), &exprs); err != nil {
			return nil, errAt("", "definition", trimmed, "a JSON list of strings, like [\"06:00-07:00@1h\", \"! * sat,sun\"] ("+err.Error()+")")
		}
		if len(exprs) > MaxExpressions {
			return nil, errAt("", "definition", trimmed, fmt.Sprintf("at most %d expressions, found %d", MaxExpressions, len(exprs)))
		}
	default:
		exprs = []string{trimmed}
	}
	rangeIndex := 0
	for _, raw := range exprs {
		e, err := parseExpression(raw, opts.Seed, &rangeIndex)
		if err != nil {
			err.Definition = def
			if err.Expression == "" {
				err.Expression = raw
			}
			return nil, err
		}
		if len(e.ranges) == 0 {
			// "", "@0", "*@0": the reference drops the expression.
			continue
		}
		if e.exclude {
			s.excludes = append(s.excludes, e)
		} else {
			s.includes = append(s.includes, e)
		}
	}
	if len(s.includes) == 0 {
		s.never = true
		return s, nil
	}
	if s.excludedAllDay() {
		s.never = true
		return s, nil
	}
	// A fixed start and no last run: if nothing matches in a whole calendar
	// cycle from there, nothing ever will, and Next can say so at once.
	if _, ok := s.search(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}); !ok {
		s.never = true
	}
	return s, nil
}

// MustParse is Parse for definitions known good at compile time; it panics
// on an error.
func MustParse(def string, opts Options) *Schedule {
	s, err := Parse(def, opts)
	if err != nil {
		panic(err)
	}
	return s
}

func parseExpression(raw string, seed uint64, rangeIndex *int) (expression, *Error) {
	e := expression{raw: raw}
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "!") {
		e.exclude = true
		s = strings.TrimSpace(s[1:])
	}
	if s == "" {
		return e, nil
	}
	fields := strings.Fields(s)
	if len(fields) > 4 {
		return e, &Error{Field: "expression", Token: s, Expected: "at most 4 fields: <timeranges> [<days> [<weeks> [<months>]]], found " + strconv.Itoa(len(fields))}
	}
	var err *Error
	if e.ranges, err = parseTimeranges(fields[0], seed, rangeIndex); err != nil {
		return e, err
	}
	daysSpec, weeksSpec, monthsSpec := "*", "*", "*"
	if len(fields) > 1 {
		daysSpec = fields[1]
	}
	if len(fields) > 2 {
		weeksSpec = fields[2]
	}
	if len(fields) > 3 {
		monthsSpec = fields[3]
	}
	if e.days, err = parseDays(daysSpec); err != nil {
		return e, err
	}
	e.weekdaysOnly = true
	for _, d := range e.days {
		if d.monthday == 0 {
			e.weekdaySet[d.weekday] = true
		} else {
			e.weekdaysOnly = false
		}
	}
	if err = parseWeeks(weeksSpec, &e.weeks); err != nil {
		return e, err
	}
	if err = parseMonths(monthsSpec, &e.months); err != nil {
		return e, err
	}
	e.allWeeks = true
	for w := 1; w <= 53; w++ {
		e.allWeeks = e.allWeeks && e.weeks[w]
	}
	return e, nil
}

func parseTimeranges(spec string, seed uint64, rangeIndex *int) ([]timerange, *Error) {
	var out []timerange
	for _, one := range strings.Split(spec, ",") {
		tr := timerange{begin: 0, end: daySeconds - 1, interval: daySeconds * time.Second}
		probabilistic := false
		if strings.HasPrefix(one, "~") {
			probabilistic = true
			one = one[1:]
		}
		rangePart, intervalPart, hasInterval := strings.Cut(one, "@")
		if hasInterval && strings.Contains(intervalPart, "@") {
			return nil, &Error{Field: "timerange", Token: one, Expected: "a single @<interval>"}
		}
		if rangePart != "" && rangePart != "*" {
			beginStr, endStr, isRange := strings.Cut(rangePart, "-")
			if !isRange {
				endStr = beginStr
			}
			var err *Error
			if tr.begin, err = parseClock(beginStr, rangePart); err != nil {
				return nil, err
			}
			if tr.end, err = parseClock(endStr, rangePart); err != nil {
				return nil, err
			}
			if tr.begin == tr.end {
				// A single point ("09:00") runs in the second that follows.
				tr.end = (tr.end + 1) % daySeconds
			}
		}
		length := tr.end - tr.begin + 1 // inclusive, as the reference counts it
		if tr.begin > tr.end {
			length = daySeconds - tr.begin + tr.end + 1
		}
		if hasInterval {
			d, err := parseInterval(intervalPart)
			if err != nil {
				return nil, err
			}
			if d == 0 {
				continue // "@0" disables this range, as in the reference
			}
			tr.interval = d
		} else if rangePart != "" && rangePart != "*" {
			// No interval: once per range.
			tr.interval = time.Duration(length) * time.Second
		}
		// The reference spreads only a range that runs once (interval at
		// least its length) and is longer than two seconds.
		tr.spread = probabilistic && length > 2 && tr.interval >= time.Duration(length)*time.Second
		if tr.spread {
			// A fixed point of the range per seed and range: the node's run
			// time is then the same every day, and predictable by Next.
			off := int(uint64(length-1) * (mix(seed^uint64(*rangeIndex)) >> 32) >> 32)
			tr.begin = (tr.begin + off) % daySeconds
		}
		*rangeIndex++
		out = append(out, tr)
	}
	return out, nil
}

// mix is splitmix64's finalizer: neighbouring seeds give unrelated values.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func parseClock(s, rangeToken string) (int, *Error) {
	bad := &Error{Field: "timerange", Token: rangeToken, Expected: "HH:MM[:SS][-HH:MM[:SS]] with hours 0-23, minutes and seconds 0-59, or *"}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	limits := []int{23, 59, 59}
	mult := []int{3600, 60, 1}
	total := 0
	for i, p := range parts {
		n, ok := smallUint(p, 2)
		if !ok || n > limits[i] {
			return 0, bad
		}
		total += n * mult[i]
	}
	return total, nil
}

// smallUint parses 1 to maxDigits decimal digits, nothing else (no sign,
// no space).
func smallUint(s string, maxDigits int) (int, bool) {
	if s == "" || len(s) > maxDigits {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

var intervalUnits = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
	'y': 365 * 24 * time.Hour,
}

// parseInterval reads "10" (minutes, as the reference) or a sequence of
// <n><unit> with units s, m, h, d, w, y ("1h30m").
func parseInterval(s string) (time.Duration, *Error) {
	bad := &Error{Field: "interval", Token: "@" + s, Expected: "@<minutes> or @<n><unit>... with units s, m, h, d, w, y (like @10, @30s, @1h30m), at most 10y"}
	if n, ok := smallUint(s, 9); ok {
		d := time.Duration(n) * time.Minute
		if d > MaxInterval {
			return 0, bad
		}
		return d, nil
	}
	var total time.Duration
	rest := s
	if rest == "" {
		return 0, bad
	}
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 || i == len(rest) {
			return 0, bad
		}
		n, _ := strconv.Atoi(rest[:i])
		unit, ok := intervalUnits[rest[i]|0x20]
		if !ok {
			return 0, bad
		}
		total += time.Duration(n) * unit
		if total > MaxInterval {
			return 0, bad
		}
		rest = rest[i+1:]
	}
	return total, nil
}

var monthNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}

var weekdayNames = map[string]int{
	"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
	"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
}

var ordinals = map[string]int{
	"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
	"fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1,
}

// calendarRange reads <a> or <a>-<b> of names or numbers in [1, max];
// b < a wraps (sun-tue is 7, 1, 2).
func calendarRange(spec string, names map[string]int, max int, field, expected string) ([]int, *Error) {
	bad := &Error{Field: field, Token: spec, Expected: expected}
	resolve := func(s string) (int, bool) {
		if n, ok := smallUint(s, 2); ok {
			return n, n >= 1 && n <= max
		}
		n, ok := names[strings.ToLower(s)]
		return n, ok
	}
	a, b, isRange := strings.Cut(spec, "-")
	first, ok := resolve(a)
	if !ok {
		return nil, bad
	}
	last := first
	if isRange {
		if last, ok = resolve(b); !ok {
			return nil, bad
		}
	}
	var out []int
	for i := first; ; i = i%max + 1 {
		out = append(out, i)
		if i == last {
			return out, nil
		}
	}
}

func parseDays(spec string) ([]day, *Error) {
	const expected = "<weekday>[-<weekday>][:<monthday>] separated by commas, weekdays mon..sun, monday..sunday or 1-7 (or * or empty for any), monthdays first..fifth, 1st..5th, last, or ±1-31"
	var out []day
	for _, one := range strings.Split(spec, ",") {
		wdSpec, mdSpec, hasMonthday := strings.Cut(one, ":")
		if !hasMonthday && strings.HasPrefix(wdSpec, "-") {
			// "*:1,-1" in the reference's documentation: a bare negative
			// number can be no weekday, so it is a day of the month.
			wdSpec, mdSpec, hasMonthday = "*", wdSpec, true
		}
		monthday := 0
		if hasMonthday {
			if n, ok := ordinals[strings.ToLower(mdSpec)]; ok {
				monthday = n
			} else {
				digits, sign := mdSpec, 1
				if strings.HasPrefix(digits, "+") {
					digits = digits[1:]
				} else if strings.HasPrefix(digits, "-") {
					digits, sign = digits[1:], -1
				}
				n, ok := smallUint(digits, 2)
				if !ok || n < 1 || n > 31 {
					return nil, &Error{Field: "days", Token: one, Expected: expected}
				}
				monthday = sign * n
			}
		}
		weekdays := []int{1, 2, 3, 4, 5, 6, 7}
		if wdSpec != "*" && wdSpec != "" {
			var err *Error
			if weekdays, err = calendarRange(wdSpec, weekdayNames, 7, "days", expected); err != nil {
				err.Token = one
				return nil, err
			}
		}
		for _, wd := range weekdays {
			out = append(out, day{weekday: wd, monthday: monthday})
		}
	}
	return out, nil
}

func parseWeeks(spec string, set *[54]bool) *Error {
	const expected = "ISO weeks 1-53, ranges like 50-2 (wrapping), separated by commas, or *"
	if spec == "*" {
		for i := 1; i <= 53; i++ {
			set[i] = true
		}
		return nil
	}
	for _, one := range strings.Split(spec, ",") {
		weeks, err := calendarRange(one, nil, 53, "weeks", expected)
		if err != nil {
			return err
		}
		for _, w := range weeks {
			set[w] = true
		}
	}
	return nil
}

func parseMonths(spec string, set *[13]bool) *Error {
	const expected = "<month>[-<month>][%<modulo>[+<shift>]] separated by commas, months jan..dec, january..december or 1-12 (or * or empty for any), like %2 or jan-jun%2+1"
	if spec == "*" {
		for i := 1; i <= 12; i++ {
			set[i] = true
		}
		return nil
	}
	any := false
	for _, one := range strings.Split(spec, ",") {
		monthSpec, moduloSpec, hasModulo := strings.Cut(one, "%")
		months := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
		if monthSpec != "" && monthSpec != "*" {
			var err *Error
			if months, err = calendarRange(monthSpec, monthNames, 12, "months", expected); err != nil {
				err.Token = one
				return err
			}
		}
		if hasModulo {
			modStr, shiftStr, hasShift := strings.Cut(moduloSpec, "+")
			modulo, ok := smallUint(modStr, 2)
			shift := 0
			if ok && hasShift {
				shift, ok = smallUint(shiftStr, 2)
			}
			if !ok || modulo < 1 || modulo > 12 {
				return &Error{Field: "months", Token: one, Expected: "a modulo of 1-12 and a shift of 0-99 after %, like %2 or %3+1"}
			}
			var kept []int
			for _, m := range months {
				if (m+shift)%modulo == 0 {
					kept = append(kept, m)
				}
			}
			months = kept
		}
		for _, m := range months {
			set[m] = true
			any = true
		}
	}
	if !any {
		return &Error{Field: "months", Token: spec, Expected: "a filter that keeps at least one month"}
	}
	return nil
}

// excludedAllDay reports whether the exclusions that hold on every day
// (every month, week and weekday) cover the whole day between them: then
// the task never runs ("! *", or "! 00:00-12:00" with "! 12:00-23:59:59"),
// found here at once rather than by a search excluding day after day.
func (s *Schedule) excludedAllDay() bool {
	var ranges []timerange
	for i := range s.excludes {
		if s.excludes[i].everyDay() {
			ranges = append(ranges, s.excludes[i].ranges...)
		}
	}
	// Sweep the day: from the first second not known covered, jump to the
	// furthest end of a range holding it.
	covered := 0
	for covered < daySeconds {
		next := covered
		for i := range ranges {
			tr := &ranges[i]
			if !tr.contains(covered) {
				continue
			}
			end := tr.end + 1
			if tr.begin > tr.end && covered >= tr.begin {
				end = daySeconds
			}
			next = max(next, end)
		}
		if next == covered {
			return false
		}
		covered = next
	}
	return true
}

func (e *expression) everyDay() bool {
	if !e.allWeeks {
		return false
	}
	for m := 1; m <= 12; m++ {
		if !e.months[m] {
			return false
		}
	}
	for wd := 1; wd <= 7; wd++ {
		if !e.weekdaySet[wd] {
			return false
		}
	}
	return true
}
