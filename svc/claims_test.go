package svc_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// TestClaims: two enabled resources of one node claiming one thing are a
// problem naming both sections and lines; pods of different nodes, per-node
// values and a route beside its address are not.
func TestClaims(t *testing.T) {
	const head = "[DEFAULT]\nnodes = n1 n2\n\n" // lines 1-3
	fs := func(rid, dev, mnt string) string {
		return "[fs#" + rid + "]\ntype = ext4\ndev = " + dev + "\nmnt = " + mnt + "\n"
	}
	container := "[container#a]\ntype = docker\nrun_image = img\n"
	tests := []struct {
		name string
		conf string
		// the second claimant: line, section, keyword; and the text
		// naming the first
		line             int
		section, keyword string
		first            string
	}{
		{"same fs dev", head + fs("a", "/dev/sdb", "/a") + fs("b", "/dev/sdb", "/b"),
			10, "fs#b", "dev", "[fs#a] (line 6)"},
		{"same fs mnt after expansion", head + fs("a", "/dev/sda", "/srv/{svcname}") + fs("b", "/dev/sdb", "/srv/cl"),
			11, "fs#b", "mnt", "[fs#a] (line 7)"},
		{"same address, ip.host and ip.docker", head +
			"[ip#a]\ntype = host\nipname = 10.0.0.5\nipdev = eth0\n" +
			"[ip#b]\ntype = docker\nipname = 10.0.0.5\nnetmask = 24\nipdev = br0\ncontainer_rid = container#a\n" + container,
			10, "ip#b", "ipname", "[ip#a] (line 6)"},
		{"same address written two ways", head +
			"[ip#a]\ntype = host\nipname = fd00::5\nipdev = eth0\n" +
			"[ip#b]\ntype = host\nipname = fd00:0::5\nipdev = eth0\n",
			10, "ip#b", "ipname", "[ip#a] (line 6)"},
		{"two gce routes of one address", head +
			"[ip#a]\ntype = gce\nipname = 10.0.0.5\nipdev = br0\nroutename = r1\n" +
			"[ip#b]\ntype = gce\nipname = 10.0.0.5\nipdev = br0\nroutename = r2\n",
			11, "ip#b", "ipname", "[ip#a] (line 6)"},
		{"container name equal to another's default", head + container +
			"[container#b]\ntype = docker\nrun_image = img\nname = cl.container.a\n",
			10, "container#b", "name", "[container#a] (line 4)"},
		{"gce disk names overlap", head +
			"[disk#a]\ntype = gce\nnames = d1 d2\n" + "[disk#b]\ntype = gce\nnames = d3 d2\n",
			9, "disk#b", "names", "[disk#a] (line 6)"},
		{"scoped value equal on this node", head +
			"[disk#a]\ntype = gce\nnames@n1 = d1\nnames@n2 = d2\n" + "[disk#b]\ntype = gce\nnames = d1\n",
			10, "disk#b", "names", "[disk#a] (line 6)"},
		{"loop backing file", head +
			"[disk#a]\ntype = loop\nfile = /f\n" + "[disk#b]\ntype = loop\nfile = /f\n",
			9, "disk#b", "file", "[disk#a] (line 6)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Parse(t.Context(), "cl.conf", []byte(tt.conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), Root: t.TempDir(), NoTriggers: true})
			var ve *svc.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1, "%v", err)
			p := ve.Problems[0]
			require.Equal(t, tt.line, p.Line, "%s", p)
			require.Equal(t, tt.section, p.Section, "%s", p)
			require.Equal(t, tt.keyword, p.Keyword, "%s", p)
			require.Contains(t, p.Message, tt.first)
			require.Contains(t, p.Message, "already claimed on node n1")
		})
	}

	ok := map[string]string{
		"flex pods on different nodes": head +
			fs("a", "/dev/sdb", "/a") + "disable = true\ndisable@n1 = false\n" +
			fs("b", "/dev/sdb", "/a") + "disable = true\ndisable@n2 = false\n",
		"per-node names": head +
			"[disk#a]\ntype = gce\nnames@n1 = d1\nnames@n2 = d2\n" + "[disk#b]\ntype = gce\nnames@n1 = d3\nnames@n2 = d1\n",
		"a route beside its address": head +
			"[ip#r]\ntype = gce\nipname = 10.0.0.5\nipdev = br0\nroutename = r1\n" +
			"[ip#a]\ntype = docker\nipname = 10.0.0.5\nnetmask = 24\nipdev = br0\ncontainer_rid = container#a\n" + container,
		"disabled here":           head + fs("a", "/dev/sdb", "/a") + fs("b", "/dev/sdb", "/a") + "disable = true\n",
		"default container names": head + container + "[container#b]\ntype = docker\nrun_image = img\n",
	}
	for name, conf := range ok {
		t.Run(name, func(t *testing.T) {
			_, err := svc.Parse(t.Context(), "cl.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), Root: t.TempDir(), NoTriggers: true})
			require.NoError(t, err)
		})
	}
}
