package spd_test

// These tests load generated configs in the svc package, on the fake
// drivers. They live in an external test package: formtemplate imports
// nothing of svc.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc"
)

func names(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = fmt.Sprintf("spd%02d", i+1)
	}
	return l
}

func inputsFor(npods int, nodes []string, pwd string) spd.Inputs {
	return spd.Inputs{NPods: npods, Svcname: "spdsvc01", App: "RIVER_SPD", Nodes: nodes,
		SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: spd.Secret(pwd)}
}

func load(t *testing.T, ctx context.Context, cfg []byte, nodeName, root string) *svc.Service {
	t.Helper()
	s, err := svc.Parse(ctx, "spdsvc01.conf", cfg, svc.Options{Node: nodeName, Root: root,
		Registry: fake.Registry(fake.Options{}), NoTriggers: true})
	require.NoError(t, err, "the generated config loads in svc on %s", nodeName)
	return s
}

var podLine = regexp.MustCompile(`(?m)^\|  [|']- (?:ip|disk|fs|container)#(\d{2,3})\S* +\.\.\.\. (\S+)`)

// podsInStatus returns the pods print status lists (disk#00 and fs#00
// aside), requiring each listed resource up and each pod complete.
func podsInStatus(t *testing.T, ctx context.Context, s *svc.Service) []string {
	t.Helper()
	rep := s.Status(ctx)
	require.Equal(t, "up", rep.Avail.String(), "avail on %s", s.Node())
	tree := rep.Render(svc.StatusOptions{ShowDisabled: s.ShowDisabled()})
	count := map[string]int{}
	for _, m := range podLine.FindAllStringSubmatch(tree, -1) {
		require.Equal(t, "up", m[2], "%s", m[0])
		count[m[1]]++
	}
	require.Equal(t, 2, count["00"], "disk#00 and fs#00 on %s", s.Node())
	delete(count, "00")
	var pods []string
	for p, c := range count {
		require.Equal(t, 8, c, "the 8 resources of pod%s on %s", p, s.Node())
		pods = append(pods, "pod"+p)
	}
	slices.Sort(pods)
	return pods
}

func tags(pods []spd.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Tag())
	}
	slices.Sort(out)
	return out
}

// On each node, the generated config loads without a validation
// problem, provisions and starts on fakes, and print status lists that
// node's pods, as the layout says.
func TestGeneratedConfigRunsInSvc(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ npods, nodes int }{{32, 4}, {10, 4}, {3, 5}} {
		t.Run(fmt.Sprintf("%dx%d", c.npods, c.nodes), func(t *testing.T) {
			l, err := spd.NewLayout(inputsFor(c.npods, names(c.nodes), "s3cr3t"))
			require.NoError(t, err)
			cfg, err := l.Config()
			require.NoError(t, err)
			for _, n := range l.Nodes {
				s := load(t, ctx, cfg, n.Name, t.TempDir())
				require.Equal(t, n.Name == l.Nodes[0].Name, s.IsFlexPrimary())
				_, err = s.Provision(ctx, svc.ActionOptions{})
				require.NoError(t, err)
				_, err = s.Start(ctx, svc.ActionOptions{})
				require.NoError(t, err)
				require.Equal(t, tags(l.PodsOn(n.Name)), podsInStatus(t, ctx, s), "pods of %s", n.Name)
			}
		})
	}
}

// A relayout applied the seed's way (stop the pod where it runs, install
// the new config everywhere, start the pod on its new node) ends with
// each node running exactly its new pods.
func TestRelayoutPlanMigratesPodsInSvc(t *testing.T) {
	ctx := context.Background()
	old, err := spd.NewLayout(inputsFor(32, names(4), "s3cr3t"))
	require.NoError(t, err)
	oldCfg, err := old.Config()
	require.NoError(t, err)
	plan, err := spd.Relayout(old, names(5))
	require.NoError(t, err)
	require.Len(t, plan.Moves, 6)

	roots := map[string]string{}
	for _, n := range names(5) {
		roots[n] = t.TempDir()
	}
	for _, n := range names(4) {
		s := load(t, ctx, oldCfg, n, roots[n])
		_, err := s.Provision(ctx, svc.ActionOptions{})
		require.NoError(t, err)
		_, err = s.Start(ctx, svc.ActionOptions{})
		require.NoError(t, err)
	}
	for _, mv := range plan.Moves {
		s := load(t, ctx, oldCfg, mv.From, roots[mv.From])
		_, err := s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: mv.Tag}})
		require.NoError(t, err, "stop --tags %s on %s", mv.Tag, mv.From)
	}
	// A new node first gets the service's own resources (disk#00, fs#00, the private docker daemon).
	for _, n := range plan.New.Nodes {
		if _, existed := plan.Old.Node(n.Name); !existed {
			s := load(t, ctx, plan.Config, n.Name, roots[n.Name])
			_, err := s.Provision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"disk#00", "fs#00", "container#dockerd"}}})
			require.NoError(t, err)
			_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"disk#00", "fs#00", "container#dockerd"}}})
			require.NoError(t, err)
		}
	}
	for _, mv := range plan.Moves {
		s := load(t, ctx, plan.Config, mv.To, roots[mv.To])
		_, err := s.Provision(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: mv.Tag}})
		require.NoError(t, err)
		_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: mv.Tag}})
		require.NoError(t, err, "start --tags %s on %s", mv.Tag, mv.To)
	}
	for _, n := range plan.New.Nodes {
		s := load(t, ctx, plan.Config, n.Name, roots[n.Name])
		require.Equal(t, tags(plan.New.PodsOn(n.Name)), podsInStatus(t, ctx, s), "pods of %s after the relayout", n.Name)
		// A moved pod's containers use their new node's gateway.
		for _, p := range plan.New.PodsOn(n.Name) {
			c, ok := s.Config("ip#" + p.ID() + "sm")
			require.True(t, ok)
			require.Equal(t, n.Gateway.String(), c.String("gateway"))
			require.Equal(t, p.SMIP.String(), c.String("ipname"))
		}
	}
}

// print config hides the root password, however it had to be quoted.
func TestPrintConfigHidesThePassword(t *testing.T) {
	ctx := context.Background()
	for _, pwd := range []string{"s3cr3t", "with space", `it's_"quoted"`, `back\slash\`, "it's a secret", `say "hi" there`,
		" lead", "hash #x", "semi;colon", "${HOME}", "é 密码", "=x=", "'", `"`} {
		t.Run(pwd, func(t *testing.T) {
			cfg, err := spd.Generate(inputsFor(2, names(1), pwd))
			require.NoError(t, err)
			s := load(t, ctx, cfg, "spd01", t.TempDir())
			c, ok := s.Config("container#01db")
			require.True(t, ok)
			require.Contains(t, c.String("run_args"), "-e", "the container gets its password")
			printed := s.RenderConfig(svc.RenderConfigOptions{})
			for _, line := range strings.Split(printed, "\n") {
				if strings.Contains(line, "MYSQL_ROOT_PASSWORD") {
					require.Regexp(t, `^    -e ['"]?MYSQL_ROOT_PASSWORD=xxxx['"]?$`, line)
				}
			}
			require.Equal(t, 4, strings.Count(printed, "MYSQL_ROOT_PASSWORD=xxxx"))
			require.Contains(t, s.RenderConfig(svc.RenderConfigOptions{ShowSecrets: true}), "MYSQL_ROOT_PASSWORD=", "shown on request")
		})
	}
}
