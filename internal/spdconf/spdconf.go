// Package spdconf gives benchmarks and tests the seed's spd service
// configuration for any size, through formtemplate/spd (the form
// generator checked against the seed's own Mangle function).
package spdconf

import (
	"fmt"

	"github.com/svckit/svckit/formtemplate/spd"
)

// Params are the inputs of the seed's form.
type Params struct {
	Svcname  string   // default spdsvc01
	App      string   // default RIVER_SPD
	Nodes    []string // default spd01 spd02 spd03 spd04
	Pods     int      // default 32
	SMImage  string   // spider image, default tanji/spdc
	DBImage  string   // mariadb image, default mariadb
	RootPass string   // MYSQL_ROOT_PASSWORD of the containers
}

// Defaults returns the form's defaults, with the password of the seed's
// generated sample (svc/testdata/spdsvc01.conf).
func Defaults() Params {
	return Params{
		Svcname:  "spdsvc01",
		App:      "RIVER_SPD",
		Nodes:    Nodes(4),
		Pods:     32,
		SMImage:  "tanji/spdc",
		DBImage:  "mariadb",
		RootPass: "s3cr3tPw",
	}
}

// Nodes returns n node names spd01, spd02, ...
func Nodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("spd%02d", i+1)
	}
	return out
}

// Generate returns the configuration of p.
func Generate(p Params) ([]byte, error) {
	return spd.Generate(spd.Inputs{
		NPods: p.Pods, Svcname: p.Svcname, App: p.App, Nodes: p.Nodes,
		SMImage: p.SMImage, DBImage: p.DBImage, RootPassword: spd.Secret(p.RootPass),
	})
}
