package spd_test

import (
	"fmt"

	"github.com/svckit/svckit/formtemplate/spd"
)

func ExampleRelayout() {
	old, err := spd.NewLayout(spd.Inputs{NPods: 32, Svcname: "spdsvc01", App: "RIVER_SPD",
		Nodes: []string{"spd01", "spd02", "spd03", "spd04"}, SMImage: "tanji/spdc", DBImage: "mariadb"})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := spd.Relayout(old, []string{"spd01", "spd02", "spd03", "spd04", "spd05"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// plan.Config is the new service config; the moves say which pods
	// to stop where and start where.
	for _, mv := range plan.Moves {
		fmt.Printf("%s %s -> %s (addresses %v %v kept, gateway %v)\n", mv.Tag, mv.From, mv.To, mv.SMIP, mv.DBIP, mv.Gateway)
	}
	// Output:
	// pod08 spd01 -> spd05 (addresses 10.0.0.47 10.0.0.48 kept, gateway 10.0.0.5)
	// pod16 spd02 -> spd05 (addresses 10.0.0.63 10.0.0.64 kept, gateway 10.0.0.5)
	// pod23 spd03 -> spd05 (addresses 10.0.0.77 10.0.0.78 kept, gateway 10.0.0.5)
	// pod24 spd03 -> spd05 (addresses 10.0.0.79 10.0.0.80 kept, gateway 10.0.0.5)
	// pod31 spd04 -> spd05 (addresses 10.0.0.93 10.0.0.94 kept, gateway 10.0.0.5)
	// pod32 spd04 -> spd05 (addresses 10.0.0.95 10.0.0.96 kept, gateway 10.0.0.5)
}

func ExampleLayout_PodsOn() {
	l, err := spd.NewLayout(spd.Inputs{NPods: 10, Svcname: "spdsvc01", App: "RIVER_SPD",
		Nodes: []string{"spd01", "spd02", "spd03", "spd04"}, SMImage: "tanji/spdc", DBImage: "mariadb"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range l.Nodes {
		fmt.Print(n.Name, " ", n.Gateway, ":")
		for _, p := range l.PodsOn(n.Name) {
			fmt.Print(" ", p.Tag())
		}
		fmt.Println()
	}
	// Output:
	// spd01 10.0.0.1: pod01 pod02 pod03
	// spd02 10.0.0.2: pod04 pod05 pod06
	// spd03 10.0.0.3: pod07 pod08
	// spd04 10.0.0.4: pod09 pod10
}
