package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/svckit/svckit/driver/fake"
)

// run parses the flags, plays the scenario and prints its outcome; it
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == haNodeCommand {
		return runHANode(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("spd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := Options{}
	fs.IntVar(&opts.Pods, "pods", 32, "number of pods")
	fs.IntVar(&opts.Nodes, "nodes", 4, "number of flex nodes before the relayout (which adds one)")
	fs.DurationVar(&opts.Latency, "latency", 0, "latency of each fake driver action")
	fs.BoolVar(&opts.Real, "real", false, "as root with a Docker daemon: run the real host drivers (disk.loop for disk.gce, fs, a private dockerd per node, container.docker, ip.docker, ip.gce) in a network namespace per node")
	fs.BoolVar(&opts.Keep, "keep", false, "keep the node roots for inspection")
	fs.StringVar(&opts.Dir, "dir", "", "where to make the temporary directory of the node roots (default: the system's)")
	faults := fs.String("faults", "", "fail calls of the fake drivers: rid:action[:nth[:message]],... (as SVCKIT_FAKE_FAULTS)")
	fs.StringVar(&opts.Store, "store", StoreCollector, "where the config goes: collector (examples/collector in process on loopback, SQLite in the run's directory: form over HTTP, nodes register and pull from its API) or dir (a directory store)")
	format := fs.String("format", "text", "output format: text or json")
	haMode := fs.Bool("ha", false, "flex high availability instead: embedded 3-member etcd, one node daemon process per node; kill -9 of spd02, spd03 cut off from etcd, both back, relayout (-pods default 8 here)")
	haTTL := fs.Duration("ha-ttl", 0, "with -ha: the node lease ttl (ha_lease_ttl; default 10s)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "spd: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "spd: -format %q: expected text or json\n", *format)
		return 2
	}
	if *haMode {
		return runHAFlags(ctx, fs, opts, *haTTL, *format, stdout, stderr)
	}
	if *faults != "" {
		var err error
		if opts.Faults, err = fake.ParseFaults(*faults); err != nil {
			fmt.Fprintf(stderr, "spd: -faults: %v\n", err)
			return 2
		}
	}
	if err := opts.validate(); err != nil {
		fmt.Fprintf(stderr, "spd: %v\n", err)
		return 2
	}
	if *format == "text" {
		opts.Out = stdout
	}
	rep, err := Run(ctx, opts)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rep != nil {
			if err := enc.Encode(rep); err != nil {
				fmt.Fprintf(stderr, "spd: %v\n", err)
				return 1
			}
		}
	} else if rep != nil {
		printSummary(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "spd: %v\n", err)
		return 1
	}
	return 0
}

func printSummary(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\n== summary\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tRESULT\tTIME\tDETAIL")
	for i, s := range rep.Steps {
		detail := s.Summary
		if s.Error != "" {
			detail = s.Error
		}
		fmt.Fprintf(tw, "%d. %s\t%s\t%s\t%s\n", i+1, s.Name, s.Result, round(s.Duration), detail)
	}
	fmt.Fprintf(tw, "total\t\t%s\t\n", round(rep.Duration))
	tw.Flush()
	if rep.Kept {
		fmt.Fprintf(w, "node roots kept in %s\n", rep.Root)
	}
}
