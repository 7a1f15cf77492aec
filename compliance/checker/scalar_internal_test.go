package checker

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScalar: a rule's mode, uid and gid are a JSON string or number,
// kept as written; anything else is refused naming what was given.
func TestScalar(t *testing.T) {
	tests := []struct{ raw, want, err string }{
		{`644`, "644", ""},
		{` 0644 `, "", "expected a string or a number"}, // a leading 0 is no JSON number
		{`"0644"`, "0644", ""},
		{`"root"`, "root", ""},
		{`1.5e3`, "1.5e3", ""},
		{`-1`, "-1", ""},
		{`null`, "", ""},
		{``, "", ""},
		{`true`, "", "expected a string or a number, got true"},
		{`{"a":1}`, "", "expected a string or a number"},
		{`[644]`, "", "expected a string or a number"},
		{`"unterminated`, "", "expected a string or a number"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := scalar(json.RawMessage(tt.raw))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	m, err := parseMode(json.RawMessage(`"4755"`))
	require.NoError(t, err)
	require.Equal(t, "urwxr-xr-x", m.String())
}
