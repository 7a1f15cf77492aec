package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/internal/atomicfile"
)

// usageError is bad input: exit code 2, one line per problem.
type usageError struct{ problems []string }

func (e *usageError) Error() string { return strings.Join(e.problems, "\n") }

func usage(format string, args ...any) error {
	return &usageError{problems: []string{fmt.Sprintf(format, args...)}}
}

type options struct {
	relayout   bool
	config     string
	out        string
	format     string
	pwdFile    string
	answers    map[string]any
	nodes      string
	nodesIsSet bool
}

func run(args []string, stdout, stderr io.Writer) int {
	err := runErr(args, stdout, stderr)
	if err == nil {
		return 0
	}
	var uerr *usageError
	var verr *formtemplate.ValidationError
	switch {
	case errors.As(err, &uerr):
		for _, p := range uerr.problems {
			fmt.Fprintln(stderr, "spdgen: "+p)
		}
		return 2
	case errors.As(err, &verr):
		for _, p := range verr.Problems {
			fmt.Fprintln(stderr, "spdgen: "+flagName(p.Input)+": "+oneLine(p.Message))
		}
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintln(stderr, "spdgen: "+oneLine(err.Error()))
	return 1
}

// flagName names the flag an input id comes from.
func flagName(id string) string {
	if strings.HasPrefix(id, "-") || strings.Contains(id, " ") {
		return id
	}
	return "-" + id
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

const synopsis = `usage:
  spdgen [-npods N] [-svcname S] [-app A] [-nodes "n1 n2 ..."] [-dism IMG] [-didb IMG]
         [-myrootpwd-file FILE | -myrootpwd P] [-format text|json] [-o FILE]
  spdgen -relayout -config FILE -nodes "n1 n2 ..." [-format text|json] [-o NEWFILE]
`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("spdgen", flag.ContinueOnError)
	var usageText bytes.Buffer
	fs.SetOutput(&usageText)
	o := options{answers: map[string]any{}}
	fs.BoolVar(&o.relayout, "relayout", false, "plan a relayout of -config over -nodes")
	fs.StringVar(&o.config, "config", "", "the existing config (with -relayout)")
	fs.StringVar(&o.out, "o", "", "write the (new) config to this file, atomically, mode 0600")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.StringVar(&o.pwdFile, "myrootpwd-file", "", "read the MariaDB and Spider root password from this file (first line)")
	form := spd.Form()
	for _, in := range form.Inputs {
		help := in.Label
		if in.Default != "" {
			help += " (default " + in.Default + ")"
		}
		if in.ID == spd.InputRootPwd {
			help += "; visible in the process list, prefer -myrootpwd-file"
		}
		fs.String(in.ID, "", help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprint(stderr, synopsis)
			fs.PrintDefaults()
			return o, err
		}
		return o, usage("%s", strings.TrimSpace(strings.SplitN(usageText.String(), "\n", 2)[0]))
	}
	if fs.NArg() > 0 {
		return o, usage("unexpected argument %q: every input is a flag (-npods 32 -nodes \"spd01 spd02\" ...)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if _, isInput := form.Input(f.Name); isInput {
			o.answers[f.Name] = f.Value.String()
		}
		if f.Name == spd.InputNodes {
			o.nodes, o.nodesIsSet = f.Value.String(), true
		}
	})
	return o, nil
}

func runErr(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.relayout {
		return relayout(o, stdout)
	}
	return generate(o, stdout)
}

func formatProblem(o options) []string {
	if o.format != "text" && o.format != "json" {
		return []string{fmt.Sprintf("-format %q: expected text or json", o.format)}
	}
	return nil
}

func generate(o options, stdout io.Writer) error {
	problems := formatProblem(o)
	if o.config != "" {
		problems = append(problems, "-config is only used with -relayout")
	}
	if o.pwdFile != "" {
		if _, set := o.answers[spd.InputRootPwd]; set {
			problems = append(problems, "-myrootpwd and -myrootpwd-file: give one")
		} else {
			pwd, err := readPassword(o.pwdFile)
			if err != nil {
				problems = append(problems, err.Error())
			}
			o.answers[spd.InputRootPwd] = pwd
		}
	}
	if len(problems) > 0 {
		return &usageError{problems: problems}
	}
	in, err := spd.Submit(o.answers)
	if err != nil {
		return err
	}
	l, err := spd.NewLayout(in)
	if err != nil {
		return err
	}
	cfg, err := l.Config()
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := atomicfile.Write(o.out, cfg, 0o600); err != nil {
			return err
		}
	}
	switch {
	case o.format == "json":
		return writeJSON(stdout, l)
	case o.out == "":
		_, err = stdout.Write(cfg)
		return err
	}
	return nil
}

func relayout(o options, stdout io.Writer) error {
	problems := formatProblem(o)
	if o.config == "" {
		problems = append(problems, "-relayout needs -config FILE, the current config")
	}
	if !o.nodesIsSet {
		problems = append(problems, "-relayout needs -nodes, the new node list")
	}
	for _, id := range slices.Sorted(maps.Keys(o.answers)) {
		if id != spd.InputNodes {
			problems = append(problems, fmt.Sprintf("-%s is not used with -relayout: the other inputs come from -config", id))
		}
	}
	if o.pwdFile != "" {
		problems = append(problems, "-myrootpwd-file is not used with -relayout: the password comes from -config")
	}
	if len(problems) > 0 {
		return &usageError{problems: problems}
	}
	data, err := os.ReadFile(o.config)
	if err != nil {
		return err
	}
	old, err := spd.ParseLayout(data)
	if err != nil {
		// One line per problem: ParseLayout lists the differences of a
		// hand-edited config one per line.
		var lines []string
		for _, l := range strings.Split(err.Error(), "\n") {
			lines = append(lines, o.config+": "+l)
		}
		return &usageError{problems: lines}
	}
	plan, err := spd.Relayout(old, strings.Fields(o.nodes))
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := atomicfile.Write(o.out, plan.Config, 0o600); err != nil {
			return err
		}
	}
	if o.format == "json" {
		return writeJSON(stdout, plan)
	}
	_, err = io.WriteString(stdout, plan.String())
	return err
}

func readPassword(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("-myrootpwd-file: %w", err)
	}
	// The first line: editors and echo add a trailing newline.
	pwd, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSuffix(pwd, "\r"), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
