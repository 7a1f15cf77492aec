package svc_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// TestStatusRenderLongRID: a rid too long for the seed's 20-character
// column is on a line of its own and its flags, status and label on the
// next, in their columns, after the branch's continuation; rids that fit
// keep the seed's layout.
func TestStatusRenderLongRID(t *testing.T) {
	rs := func(rid, label string) svc.ResourceStatus {
		return svc.ResourceStatus{RID: rid, Status: resource.Up, Flags: "....", Label: label}
	}
	for _, tc := range []struct {
		name string
		res  []svc.ResourceStatus
		want string
	}{
		{"all fit", []svc.ResourceStatus{rs("fs#00", "LABEL=spdsvc01@/spdsvc01"), rs("sync#i0", "rsync")}, `s
overall                   up
|- avail                  up
|  '- fs#00          .... up         LABEL=spdsvc01@/spdsvc01
'- accessory
   '- sync#i0        .... up         rsync
`},
		{"long rid before others", []svc.ResourceStatus{rs("container#dockerd", "dockerd /spdsvc01/docker pid 42"), rs("fs#00", "x"), rs("sync#i0", "rsync")}, `s
overall                   up
|- avail                  up
|  |- container#dockerd
|  |                 .... up         dockerd /spdsvc01/docker pid 42
|  '- fs#00          .... up         x
'- accessory
   '- sync#i0        .... up         rsync
`},
		{"long rid last, no accessory", []svc.ResourceStatus{rs("fs#00", "x"), rs("container#dockerd", "")}, `s
overall                   up
'- avail                  up
   |- fs#00          .... up         x
   '- container#dockerd
                     .... up
`},
		{"long accessories", []svc.ResourceStatus{rs("fs#00", "x"), rs("sync#a-long-sync-name", "one"), rs("task#another-long-one", "two")}, `s
overall                   up
|- avail                  up
|  '- fs#00          .... up         x
'- accessory
   |- sync#a-long-sync-name
   |                 .... up         one
   '- task#another-long-one
                     .... up         two
`},
		{"exactly 20 characters fit", []svc.ResourceStatus{rs("container#0123", "x")}, `s
overall                   up
'- avail                  up
   '- container#0123 .... up         x
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &svc.StatusReport{Service: "s", Overall: resource.Up, Avail: resource.Up, Resources: tc.res}
			require.Equal(t, tc.want, rep.Render(svc.StatusOptions{}))
		})
	}
}
