package hatest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLedger(t *testing.T) {
	l := NewLedger()
	require.NoError(t, l.Starting("n1", "pod01"))
	require.NoError(t, l.Starting("n1", "pod01"), "a restart in place is no violation")
	require.Empty(t, l.Violations())
	require.NoError(t, l.Starting("n2", "pod01"))
	require.Len(t, l.Violations(), 1)
	require.Contains(t, l.Violations()[0], "pod01 starts on n2 while up on n1")
	require.Equal(t, []string{"n1", "n2"}, l.Where("pod01"))

	at := time.Unix(100, 0)
	l.Stopped("n2", "pod01", at)
	require.Equal(t, []string{"n1"}, l.Where("pod01"))
	require.Equal(t, at, l.LastStop("n2"))

	l.Kill("n1")
	require.True(t, l.Dead("n1"))
	require.Empty(t, l.Where("pod01"), "a dead node's pods are gone")
	require.ErrorIs(t, l.Starting("n1", "pod02"), ErrHostDown)
	l.Revive("n1")
	require.NoError(t, l.Starting("n1", "pod02"))
	l.Violate("disk %s attached to %v", "d1", []string{"n1", "n2"})
	require.Len(t, l.Violations(), 2)
}
