package ip

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseMask(t *testing.T) {
	v4, v6 := net.ParseIP("10.0.0.34"), net.ParseIP("fd00::1")
	for _, tc := range []struct {
		in   string
		ip   net.IP
		ones int
		err  string
	}{
		{"24", v4, 24, ""},
		{"/32", v4, 32, ""},
		{"255.255.255.0", v4, 24, ""},
		{"255.255.0.0", v4, 16, ""},
		{"64", v6, 64, ""},
		{"33", v4, 0, "prefix length out of 0..32"},
		{"255.0.255.0", v4, 0, "not a contiguous mask"},
		{"abc", v4, 0, "expected a prefix length"},
		{"255.255.255.0", v6, 0, "expected a prefix length"},
	} {
		m, err := ParseMask(tc.in, tc.ip)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		ones, _ := m.Size()
		require.Equal(t, tc.ones, ones, tc.in)
	}
}

func TestNetnsPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"blue":                 "/run/netns/blue",
		"/var/run/netns/blue/": "/var/run/netns/blue",
		"/proc/42/ns/net":      "/proc/42/ns/net",
	} {
		got, err := NetnsPath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"a/b", "..", "a b"} {
		_, err := NetnsPath(in)
		require.ErrorContains(t, err, "expected a name under /run/netns", in)
	}
}
