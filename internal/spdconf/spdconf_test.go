package spdconf

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/formtemplate/spd"
)

// The seed's form, with its defaults, produced svc/testdata/spdsvc01.conf.
func TestGenerateMatchesSeedSample(t *testing.T) {
	want, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	got, err := Generate(Defaults())
	require.NoError(t, err)
	diff, err := spd.Diff(got, want)
	require.NoError(t, err)
	require.Empty(t, diff)
}

func TestGenerateSizes(t *testing.T) {
	p := Defaults()
	p.Pods, p.Nodes = 110, Nodes(32)
	data, err := Generate(p)
	require.NoError(t, err)
	require.Equal(t, 110, strings.Count(string(data), "\n[container#")/2)
	p.Pods = 111
	_, err = Generate(p)
	require.Error(t, err)
}
