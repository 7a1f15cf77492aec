package dockerimage

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTag(t *testing.T) {
	src := []byte("package main\n")
	sum := sha256.Sum256(src)
	// Without args the tag is the hash of the source alone.
	assert.Equal(t, hex.EncodeToString(sum[:6]), tag(src, nil))
	assert.Len(t, tag(src, []string{"-listen", ":3306"}), 12)
	assert.NotEqual(t, tag(src, nil), tag(src, []string{"-listen", ":3306"}))
	assert.NotEqual(t, tag(src, []string{"-listen", ":3306"}), tag(src, []string{"-listen", ":3307"}))
	// The argument boundaries count.
	assert.NotEqual(t, tag(src, []string{"a b"}), tag(src, []string{"a", "b"}))
	assert.NotEqual(t, tag(src, []string{"ab"}), tag(src, []string{"a", "b"}))
	assert.NotEqual(t, tag([]byte("package main\n// x\n"), nil), tag(src, nil))
}

func TestDockerfile(t *testing.T) {
	d, err := dockerfile("sleeper", nil)
	require.NoError(t, err)
	assert.Equal(t, "FROM scratch\nCOPY sleeper /sleeper\nENTRYPOINT [\"/sleeper\"]\n", string(d))
	d, err = dockerfile("sleeper", []string{"-write", `/out/a "b"\c`, "<&>"})
	require.NoError(t, err)
	assert.Equal(t, "FROM scratch\nCOPY sleeper /sleeper\nENTRYPOINT [\"/sleeper\",\"-write\",\"/out/a \\\"b\\\"\\\\c\",\"<&>\"]\n", string(d))
}

func TestEmbeddedSource(t *testing.T) {
	assert.Contains(t, string(sleeperSource), "package main")
	assert.Contains(t, string(sleeperSource), "-listen")
}
