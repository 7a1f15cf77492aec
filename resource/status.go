package resource

import (
	"encoding/json"
	"fmt"
)

// Status is the state of a resource or of an aggregate of resources, with
// the values and merge rules of the OpenSVC agent.
type Status int

const (
	// Undef is the neutral element of Merge: nothing known yet.
	Undef Status = iota
	Up
	Down
	Warn
	NotApplicable
	StandbyUp
	StandbyDown
	// standbyUpWithUp and standbyUpWithDown are intermediate merge states:
	// they remember that a standby resource is up next to normal resources
	// that are up (or down), so that Final can decide between "up" and
	// "stdby up". They never leave this package as such.
	standbyUpWithUp
	standbyUpWithDown
)

var statusNames = map[Status]string{
	Undef:             "undef",
	Up:                "up",
	Down:              "down",
	Warn:              "warn",
	NotApplicable:     "n/a",
	StandbyUp:         "stdby up",
	StandbyDown:       "stdby down",
	standbyUpWithUp:   "up",
	standbyUpWithDown: "stdby up",
}

// String returns the reference's spelling: "up", "stdby down", "n/a", ...
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ParseStatus reads a status as String spells it ("na" is accepted for "n/a").
func ParseStatus(v string) (Status, error) {
	switch v {
	case "undef", "":
		return Undef, nil
	case "up":
		return Up, nil
	case "down":
		return Down, nil
	case "warn":
		return Warn, nil
	case "n/a", "na":
		return NotApplicable, nil
	case "stdby up":
		return StandbyUp, nil
	case "stdby down":
		return StandbyDown, nil
	}
	return Undef, fmt.Errorf("unknown status %q: expected one of up, down, warn, n/a, undef, stdby up, stdby down", v)
}

// MarshalJSON writes the status as its string.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.Final().String()) }

// UnmarshalJSON reads the status from its string.
func (s *Status) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	p, err := ParseStatus(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

type statusPair struct{ a, b Status }

// mergeRules holds the result of merging two statuses, one entry per
// unordered pair; Merge looks both orders up. The table follows the
// OpenSVC agent so that aggregated statuses match the reference.
var mergeRules = func() map[statusPair]Status {
	m := map[statusPair]Status{}
	set := func(a, b, r Status) { m[statusPair{a, b}] = r; m[statusPair{b, a}] = r }
	const (
		u, d, w, na = Up, Down, Warn, NotApplicable
		su, sd      = StandbyUp, StandbyDown
		suwu, suwd  = standbyUpWithUp, standbyUpWithDown
	)
	set(u, u, u)
	set(u, d, w)
	set(u, w, w)
	set(u, na, u)
	set(u, su, suwu)
	set(u, sd, w)
	set(u, suwu, suwu)
	set(u, suwd, w)
	set(d, d, d)
	set(d, w, w)
	set(d, na, d)
	set(d, su, suwd)
	set(d, sd, sd)
	set(d, suwu, w)
	set(d, suwd, suwd)
	set(w, w, w)
	set(w, na, w)
	set(w, su, w)
	set(w, sd, w)
	set(w, suwu, w)
	set(w, suwd, w)
	set(na, na, na)
	set(na, su, su)
	set(na, sd, sd)
	set(na, suwu, suwu)
	set(na, suwd, suwd)
	set(su, su, su)
	set(su, sd, w)
	set(su, suwu, suwu)
	set(su, suwd, suwd)
	set(sd, sd, sd)
	set(sd, suwu, w)
	set(sd, suwd, w)
	set(suwu, suwd, w)
	set(suwu, suwu, suwu)
	set(suwd, suwd, suwd)
	return m
}()

// Merge returns the aggregate of s and o. Undef is neutral; up with down
// is warn; n/a does not change the other side; a standby resource that is
// up next to up resources counts as up (see Final).
func (s Status) Merge(o Status) Status {
	if s == Undef {
		return o
	}
	if o == Undef {
		return s
	}
	if r, ok := mergeRules[statusPair{s, o}]; ok {
		return r
	}
	return Warn
}

// Final turns an intermediate merge state into the status to show.
func (s Status) Final() Status {
	switch s {
	case standbyUpWithUp:
		return Up
	case standbyUpWithDown:
		return StandbyUp
	}
	return s
}

// MergeAll merges every status of l and returns the final value.
func MergeAll(l ...Status) Status {
	agg := Undef
	for _, s := range l {
		agg = agg.Merge(s)
	}
	return agg.Final()
}

// IsUp tells whether s means that the resource runs (up or stdby up).
func (s Status) IsUp() bool {
	s = s.Final()
	return s == Up || s == StandbyUp
}
