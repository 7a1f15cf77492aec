package schedule

import "time"

// maxSteps bounds the exclusion retries of one search: each step moves the
// cursor past one excluded window, so a definition whose every candidate is
// excluded ends as "never" instead of looping (400 years of days, with room
// for a few windows a day).
const maxSteps = 1 << 21

// Due reports whether the task is due at now, given its last run (zero if
// it never ran): now falls in a range of an included expression on one of
// its days, at least that range's interval after last, and in no excluded
// expression. A disabled schedule is never due.
func (s *Schedule) Due(now, last time.Time) bool {
	if s.never || !s.included(now, last) {
		return false
	}
	_, excluded := s.excludedUntil(now)
	return !excluded
}

// Next returns the first instant at or after `after` at which Due(instant,
// last) holds, or false if there is none: the schedule is disabled, its days
// never occur (February 30th), or they are always excluded. Times are wall
// clock in after's location, and ranges are judged to the second (the
// sub-second part of after or of last carries into the result).
func (s *Schedule) Next(after, last time.Time) (time.Time, bool) {
	if s.never {
		return time.Time{}, false
	}
	return s.search(after, last)
}

func (s *Schedule) search(after, last time.Time) (time.Time, bool) {
	limit := after.AddDate(horizonYears, 0, 0)
	cursor := after
	for range maxSteps {
		c, ok := s.earliestInclude(cursor, last, limit)
		if !ok {
			return time.Time{}, false
		}
		if until, excluded := s.excludedUntil(c); excluded {
			cursor = until
			continue
		}
		if !s.included(c, last) {
			// Only a wall clock that repeats or skips (daylight saving) can
			// make an instant inside a window read as outside it: step on.
			cursor = c.Add(time.Second).Truncate(time.Second)
			continue
		}
		return c, true
	}
	return time.Time{}, false
}

// earliestInclude is the first instant at or after from that an include
// allows, ignoring exclusions.
func (s *Schedule) earliestInclude(from, last, limit time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for i := range s.includes {
		if c, ok := s.includes[i].next(from, last, limit); ok && (!found || c.Before(best)) {
			best, found = c, true
			limit = c // no later day can beat it
		}
	}
	return best, found
}

func (e *expression) next(from, last, limit time.Time) (time.Time, bool) {
	loc := from.Location()
	y, m, d := from.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for !day.After(limit) {
		y, m, d := day.Date()
		if !e.months[m] {
			day = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if !e.allWeeks {
			if _, week := day.ISOWeek(); !e.weeks[week] {
				day = time.Date(y, m, d+8-isoWeekday(day), 0, 0, 0, 0, loc) // next monday
				continue
			}
		}
		step := 1
		if e.dayAllowed(day) {
			if c, ok := e.nextInDay(day, from, last); ok {
				return c, true
			}
		} else if e.weekdaysOnly {
			// Straight to the next allowed weekday (the set is not empty).
			wd := isoWeekday(day)
			for step < 7 && !e.weekdaySet[(wd+step-1)%7+1] {
				step++
			}
		}
		day = time.Date(y, m, d+step, 0, 0, 0, 0, loc)
	}
	return time.Time{}, false
}

// nextInDay is the first instant of day, at or after from, in one of the
// ranges and past last by that range's interval.
func (e *expression) nextInDay(day, from, last time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	try := func(tr *timerange, begin, end int) {
		lo := wall(day, begin)
		if from.After(lo) {
			lo = from
		}
		if !last.IsZero() {
			if ready := last.Add(tr.interval); ready.After(lo) {
				lo = ready
			}
		}
		if lo.Before(wall(day, end+1)) && (!found || lo.Before(best)) {
			best, found = lo, true
		}
	}
	for i := range e.ranges {
		tr := &e.ranges[i]
		if tr.begin <= tr.end {
			try(tr, tr.begin, tr.end)
		} else {
			try(tr, 0, tr.end)
			try(tr, tr.begin, daySeconds-1)
		}
	}
	return best, found
}

// included reports whether an include allows t given last.
func (s *Schedule) included(t, last time.Time) bool {
	tod := secondOfDay(t)
	for i := range s.includes {
		e := &s.includes[i]
		if !e.dateAllowed(t) {
			continue
		}
		for j := range e.ranges {
			tr := &e.ranges[j]
			if tr.contains(tod) && (last.IsZero() || t.Sub(last) >= tr.interval) {
				return true
			}
		}
	}
	return false
}

// excludedUntil reports whether an exclusion covers t, and the instant its
// window ends (the first second after it, or the next midnight for a window
// that wraps, since the next day is judged by its own date).
func (s *Schedule) excludedUntil(t time.Time) (time.Time, bool) {
	tod := secondOfDay(t)
	for i := range s.excludes {
		e := &s.excludes[i]
		if !e.dateAllowed(t) {
			continue
		}
		for j := range e.ranges {
			tr := &e.ranges[j]
			if !tr.contains(tod) {
				continue
			}
			end := tr.end + 1
			if tr.begin > tr.end && tod >= tr.begin {
				end = daySeconds
			}
			until := wall(t, end)
			if !until.After(t) {
				until = t.Add(time.Second).Truncate(time.Second)
			}
			return until, true
		}
	}
	return time.Time{}, false
}

func (tr *timerange) contains(tod int) bool {
	if tr.begin <= tr.end {
		return tod >= tr.begin && tod <= tr.end
	}
	return tod >= tr.begin || tod <= tr.end
}

func (e *expression) dateAllowed(t time.Time) bool {
	if !e.months[t.Month()] {
		return false
	}
	if !e.allWeeks {
		if _, week := t.ISOWeek(); !e.weeks[week] {
			return false
		}
	}
	return e.dayAllowed(t)
}

func (e *expression) dayAllowed(t time.Time) bool {
	wd := isoWeekday(t)
	if e.weekdaySet[wd] {
		return true
	}
	md := t.Day()
	var dim int
	for _, d := range e.days {
		if d.weekday != wd || d.monthday == 0 {
			continue
		}
		want := d.monthday
		if want < 0 {
			if dim == 0 {
				dim = daysIn(t)
			}
			want += dim + 1
		}
		if want == md {
			return true
		}
	}
	return false
}

func isoWeekday(t time.Time) int {
	if wd := int(t.Weekday()); wd != 0 {
		return wd
	}
	return 7
}

func daysIn(t time.Time) int {
	y, m, _ := t.Date()
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func secondOfDay(t time.Time) int {
	h, m, s := t.Clock()
	return h*3600 + m*60 + s
}

// wall is the instant of day's date at sec seconds past midnight, wall
// clock (so 09:00 stays 09:00 across a daylight saving change); 86400 is the
// next midnight.
func wall(day time.Time, sec int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, sec/3600, sec/60%60, sec%60, 0, day.Location())
}
