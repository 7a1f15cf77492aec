package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// hostDrivers are the drivers of this issue.
var hostDrivers = []string{"disk.loop", "fs.ext4", "fs.xfs", "fs.btrfs", "ip.host", "ip.docker", "container.docker"}

// realRegistry is the fake registry with the host drivers in place of
// their fakes: the seed's GCE drivers stay fake.
func realRegistry(t *testing.T) *driver.Registry {
	reg := fake.Registry(fake.Options{})
	for _, id := range hostDrivers {
		d, ok := driver.Default().Lookup(id)
		require.True(t, ok, "%s is not registered", id)
		reg.Replace(d.Manifest, d.New)
	}
	return reg
}

func seedPath(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "svc", "testdata", "spdsvc01.conf")
}

// TestSeedConfig loads the seed's 32-pod configuration with the real fs,
// container.docker and ip.docker factories (they do no I/O), and checks
// that their Provides and Uses give the scheduler the very plan the fakes
// give: the fakes are the reference of the ordering users test against.
func TestSeedConfig(t *testing.T) {
	ctx := context.Background()
	for _, node := range []string{"spd01", "spd03"} {
		t.Run(node, func(t *testing.T) {
			opts := svc.Options{Node: node, Root: t.TempDir(), NoTriggers: true}
			opts.Registry = realRegistry(t)
			real, err := svc.Load(ctx, seedPath(t), opts)
			require.NoError(t, err)
			opts.Registry = fake.Registry(fake.Options{})
			fakes, err := svc.Load(ctx, seedPath(t), opts)
			require.NoError(t, err)

			for _, action := range []svc.Action{svc.Provision, svc.Start, svc.Stop} {
				want, err := fakes.Do(ctx, action, svc.ActionOptions{DryRun: true})
				require.NoError(t, err)
				got, err := real.Do(ctx, action, svc.ActionOptions{DryRun: true})
				require.NoError(t, err)
				require.Equal(t, want.Plan, got.Plan, "%s plan", action)
			}
		})
	}
}

// TestValidationNamesOption checks that an unsupported docker run option
// comes back from svc as a validation problem naming the section, the
// keyword and its line, and the option, with the rid once.
func TestValidationNamesOption(t *testing.T) {
	conf := `[DEFAULT]
nodes = n1

[container#01]
type = docker
run_image = mariadb
run_args = --net=none
    --frobnicate
`
	_, err := svc.Parse(context.Background(), "x.conf", []byte(conf), svc.Options{Node: "n1", Registry: realRegistry(t), Root: t.TempDir()})
	var verr *svc.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	require.Len(t, verr.Problems, 1)
	p := verr.Problems[0]
	require.Equal(t, "container#01", p.Section)
	require.Equal(t, 7, p.Line)
	require.Equal(t, "run_args", p.Keyword)
	require.Contains(t, p.Message, `unsupported option "--frobnicate"`)
	require.NotContains(t, p.String(), "container#01:", "the rid is the section's, not repeated in the message")
}
