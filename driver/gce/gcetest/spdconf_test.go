package gcetest_test

import (
	"fmt"
	"strings"

	"github.com/svckit/svckit/formtemplate/spd"
)

// spdParams are the inputs of the seed's form, plus what the tests change:
// where pods run (a migration) and the directory where udev names disks.
type spdParams struct {
	spd.Inputs
	// Place overrides the node of a pod (1-based).
	Place map[int]string
	// DevDir replaces /dev/disk/by-id in the disk and fs sections.
	DevDir string
}

// spdConfig renders the seed's configuration with formtemplate/spd, the
// form generator checked against the seed's own Mangle function.
func spdConfig(p spdParams) string {
	l, err := spd.NewLayout(p.Inputs)
	if err != nil {
		panic(fmt.Sprintf("spd layout: %v", err)) // test inputs are fixed
	}
	for num, node := range p.Place {
		n, ok := l.Node(node)
		if !ok {
			panic("no node " + node)
		}
		l.Pods[num-1].Node, l.Pods[num-1].Gateway = n.Name, n.Gateway
	}
	b, err := l.Config()
	if err != nil {
		panic(fmt.Sprintf("spd config: %v", err))
	}
	text := string(b)
	if p.DevDir != "" {
		text = strings.ReplaceAll(text, "/dev/disk/by-id/", strings.TrimSuffix(p.DevDir, "/")+"/")
		text = strings.Replace(text, "gce_zone = europe-west1-b\n", "gce_zone = europe-west1-b\ndev_dir = "+p.DevDir+"\n", 1)
	}
	return text
}

// seedParams are the form's defaults: 32 pods of spdsvc01 on spd01..spd04.
func seedParams() spdParams {
	return spdParams{Inputs: spd.Inputs{
		Svcname: "spdsvc01", App: "RIVER_SPD", Nodes: []string{"spd01", "spd02", "spd03", "spd04"},
		NPods: 32, SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "s3cr3tPw",
	}}
}
