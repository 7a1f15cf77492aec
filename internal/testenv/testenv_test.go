package testenv

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

func TestSleeperImage(t *testing.T) {
	cli := Docker(t)
	ref := SleeperImage(t, cli)
	img, err := cli.ImageInspect(context.Background(), ref)
	require.NoError(t, err)
	require.Equal(t, []string{"/sleeper"}, img.Config.Entrypoint)
	// A second call finds the image instead of building it again.
	require.Equal(t, ref, SleeperImage(t, cli))
}

func TestNetNSAndBridge(t *testing.T) {
	name, ns := NetNS(t)
	_, err := os.Stat("/run/netns/" + name)
	require.NoError(t, err)
	Bridge(t, ns, "br0", "10.0.0.1/24")
	h := Handle(t, ns)
	l, err := h.LinkByName("br0")
	require.NoError(t, err)
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	require.Equal(t, "10.0.0.1/24", addrs[0].IPNet.String())
	// The host namespace has no br0 of ours.
	if hl, err := netlink.LinkByName("br0"); err == nil {
		require.NotEqual(t, l.Attrs().HardwareAddr.String(), hl.Attrs().HardwareAddr.String())
	}
}

func TestLoopDevice(t *testing.T) {
	dev := LoopDevice(t, 16<<20)
	st, err := os.Stat(dev)
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&os.ModeDevice, "%s is not a device", dev)
}

// recorder stands for a test, to observe how Skip ends it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *recorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

func TestSkipFailsOnCI(t *testing.T) {
	for _, tc := range []struct {
		ci          string
		fatal, skip string
	}{
		{"", "", "needs no-such-command-svckit in PATH"},
		{"false", "", "needs no-such-command-svckit in PATH"},
		{"true", "CI=true and a prerequisite is missing: needs no-such-command-svckit in PATH", ""},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		RequireCommands(r, "no-such-command-svckit")
		require.Equal(t, tc.fatal, r.fatal, "CI=%q", tc.ci)
		require.Equal(t, tc.skip, r.skip, "CI=%q", tc.ci)
	}
}
