package svc_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// TestSeedConfigOnEveryNode loads the config the seed's form generates for
// 32 pods on 4 nodes, on each node, provisions and starts it on fakes, and
// checks that print status lists exactly that node's 8 pods, all up.
func TestSeedConfigOnEveryNode(t *testing.T) {
	ctx := context.Background()
	for n := 1; n <= 4; n++ {
		node := fmt.Sprintf("spd%02d", n)
		t.Run(node, func(t *testing.T) {
			s, err := svc.Load(ctx, "testdata/spdsvc01.conf", svc.Options{Node: node, Registry: fake.Registry(fake.Options{}), Root: t.TempDir(), NoTriggers: true})
			require.NoError(t, err)
			_, err = s.Provision(ctx, svc.ActionOptions{})
			require.NoError(t, err)
			_, err = s.Start(ctx, svc.ActionOptions{})
			require.NoError(t, err)
			rep := s.Status(ctx)
			require.Equal(t, "up", rep.Overall.String())
			require.Equal(t, "up", rep.Avail.String())
			tree := rep.Render(svc.StatusOptions{ShowDisabled: s.ShowDisabled()})
			pods := map[string]int{}
			for _, m := range regexp.MustCompile(`(?m)^\|  [|']- (?:ip|disk|fs|container)#(\d\d)\S* +\.\.\.\. up `).FindAllStringSubmatch(tree, -1) {
				pods[m[1]]++
			}
			var want []string
			for p := (n-1)*8 + 1; p <= n*8; p++ {
				want = append(want, fmt.Sprintf("%02d", p))
			}
			var got []string
			for p, c := range pods {
				if p == "00" {
					require.Equal(t, 2, c, "disk#00 and fs#00")
					continue
				}
				require.Equal(t, 8, c, "pod %s resources", p)
				got = append(got, p)
			}
			sort.Strings(got)
			require.Equal(t, want, got)
			require.Contains(t, tree, "'- accessory\n   '- sync#i0        .... up         rsync svc config to drpnodes, nodes\n")
			require.True(t, strings.HasPrefix(tree, "spdsvc01\noverall                   up\n|- avail                  up\n"), tree)
		})
	}
}
