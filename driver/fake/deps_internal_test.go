package fake

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProvidersOf(t *testing.T) {
	res := func(rid string, provides ...string) *Resource {
		r := &Resource{provides: provides}
		r.ID = rid
		return r
	}
	fs0 := res("fs#00", "/spdsvc01")
	fs1 := res("fs#01", "/spdsvc01/pod01")
	fs1b := res("fs#01b", "/spdsvc01/pod01")
	fs10 := res("fs#10", "/spdsvc01/pod010")
	root := res("fs#root", "/")
	disk := res("disk#01", "/dev/disk/by-id/google-spdsvc01.disk.01.0")
	ctr := res("container#01db")
	user := res("container#02db")
	all := []*Resource{fs0, fs1, fs10, disk, ctr}
	tests := []struct {
		name string
		used string
		live []*Resource
		user *Resource
		want []*Resource
	}{
		{"longest prefix wins", "/spdsvc01/pod01/db/data", all, user, []*Resource{fs1}},
		{"a path prefix is not a parent", "/spdsvc01/pod0100/x", all, user, []*Resource{fs0}},
		{"exact path", "/spdsvc01/pod010", all, user, []*Resource{fs10}},
		{"unclean path", "/spdsvc01//pod01/./db/", all, user, []*Resource{fs1}},
		{"device", "/dev/disk/by-id/google-spdsvc01.disk.01.0", all, user, []*Resource{disk}},
		{"nobody provides it", "/etc/localtime", all, user, nil},
		{"the root fs provides what nothing else does", "/etc/localtime", append(all, root), user, []*Resource{root}},
		{"never itself", "/spdsvc01/pod01", all, fs1, []*Resource{fs0}},
		{"two providers of one path", "/spdsvc01/pod01/db", []*Resource{fs0, fs1, fs1b}, user, []*Resource{fs1, fs1b}},
		{"rid", "rid:container#01db", all, user, []*Resource{ctr}},
		{"rid of no sibling", "rid:container#09db", all, user, nil},
		{"rid of itself", "rid:container#02db", append(all, user), user, nil},
		{"relative names are ignored", "spdsvc01/pod01", all, user, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byRID := map[string]*Resource{}
			var paths []provided
			for _, r := range tt.live {
				byRID[r.ID] = r
				for _, p := range r.provides {
					paths = append(paths, provided{p, r})
				}
			}
			require.Equal(t, tt.want, providersOf(tt.used, tt.user, byRID, paths))
		})
	}
}
