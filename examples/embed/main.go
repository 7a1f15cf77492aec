// Command embed is the smallest program that embeds svckit: it loads a
// service configuration for this node, starts it and prints its status.
//
//	go run ./examples/embed -fake svc/testdata/spdsvc01.conf spd02
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/svckit/svckit/driver"
	_ "github.com/svckit/svckit/driver/all" // every real driver
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

func main() {
	useFakes := flag.Bool("fake", false, "run on fake drivers")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: embed [-fake] CONFIG NODE")
		os.Exit(2)
	}
	ctx := context.Background()
	reg := driver.Default()
	if *useFakes {
		reg = fake.Replace(reg, fake.Options{})
	}
	varDir, _ := os.MkdirTemp("", "embed")
	defer os.RemoveAll(varDir)
	s, err := svc.Load(ctx, flag.Arg(0), svc.Options{Node: flag.Arg(1), Registry: reg, VarDir: varDir, NoTriggers: *useFakes})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // every problem, with file and line
		os.Exit(2)
	}
	if _, err := s.Start(ctx, svc.ActionOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err) // what failed, what was rolled back
		os.Exit(1)
	}
	fmt.Print(s.Status(ctx).Render(svc.StatusOptions{ShowDisabled: s.ShowDisabled()}))
}
