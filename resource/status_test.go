package resource

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMergeIsCommutativeAndUndefNeutral(t *testing.T) {
	all := []Status{Undef, Up, Down, Warn, NotApplicable, StandbyUp, StandbyDown, standbyUpWithUp, standbyUpWithDown}
	for _, a := range all {
		require.Equal(t, a, Undef.Merge(a))
		require.Equal(t, a, a.Merge(Undef))
		for _, b := range all {
			require.Equal(t, a.Merge(b), b.Merge(a), "%s + %s", a, b)
		}
	}
}

func TestMergeRules(t *testing.T) {
	for _, tc := range []struct {
		in   []Status
		want Status
	}{
		{[]Status{Up, Up, Up}, Up},
		{[]Status{Up, Down}, Warn},
		{[]Status{Up, NotApplicable}, Up},
		{[]Status{NotApplicable, NotApplicable}, NotApplicable},
		{[]Status{Down, Down, NotApplicable}, Down},
		{[]Status{Up, StandbyUp}, Up},
		{[]Status{Down, StandbyUp}, StandbyUp},
		{[]Status{Down, StandbyDown}, StandbyDown},
		{[]Status{Up, StandbyDown}, Warn},
		{[]Status{StandbyUp, StandbyDown}, Warn},
		{[]Status{Up, StandbyUp, Down}, Warn},
		{[]Status{Warn, Up}, Warn},
		{nil, Undef},
	} {
		require.Equal(t, tc.want, MergeAll(tc.in...), "%v", tc.in)
	}
}

func TestStatusJSONAndParse(t *testing.T) {
	for _, s := range []Status{Undef, Up, Down, Warn, NotApplicable, StandbyUp, StandbyDown} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back Status
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, s, back)
	}
	_, err := ParseStatus("upp")
	require.ErrorContains(t, err, "expected one of")
}
