// Package spd generates the service configuration of the seed's sharded
// MariaDB/Spider cluster ("spd"): N pods, each a Spider and a MariaDB
// container with their GCE disk, filesystem, GCE routes and container
// addresses, spread over flex nodes. It replaces the collector form's
// JavaScript Mangle function: for layouts where the nodes divide the
// pods, the output is semantically identical to the Mangle's (same
// sections, keys and values); where the Mangle breaks (uneven layouts,
// more pods than the subnet holds, bad names) it does it right or says
// why not.
//
// The layout (which pod runs on which node, with which addresses and
// gateway) is a data structure of its own: NewLayout computes it from the
// form inputs, ParseLayout recovers it from a generated config, Relayout
// plans the fewest pod moves to a new node list, and Layout.Config
// renders it.
package spd

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/distribution/reference"

	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/internal/nodename"
)

// Limits of the 10.0.0.0/24 subnet convention of the seed: node addresses
// are .1 to .32, pod containers take two addresses each from .33 to .253.
const (
	MaxNodes   = 32
	FirstPodIP = 33
	LastPodIP  = 253
	// MaxPods is how many pods the addresses .33 to .253 hold.
	MaxPods = (LastPodIP - FirstPodIP + 1) / 2
)

// Input ids of the seed's form.
const (
	InputNPods     = "npods"
	InputSvcname   = "svcname"
	InputApp       = "app"
	InputNodes     = "nodes"
	InputSMImage   = "dism"
	InputDBImage   = "didb"
	InputRootPwd   = "myrootpwd"
	GeneratorName  = "spd"
	maxGCENameSize = 63
	// maxPasswordSize keeps the quoted run_args line well within the
	// 4096-byte lookahead of the INI reader.
	maxPasswordSize = 1024
)

// Secret is a value never to print: fmt and JSON show it redacted.
type Secret string

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText keeps encoders from writing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Inputs are the answers of the seed's form.
type Inputs struct {
	// NPods is the number of pods (shards), 1 to MaxPods.
	NPods int
	// Svcname is the service name; it names disks and directories.
	Svcname string
	// App is the application code.
	App string
	// Nodes are the flex nodes; the first is the flex primary. Pod
	// containers of the i-th node (0-based) use 10.0.0.<i+1> as gateway.
	Nodes []string
	// SMImage is the Spider docker image (the form's "dism").
	SMImage string
	// DBImage is the MariaDB docker image (the form's "didb").
	DBImage string
	// RootPassword is the MariaDB and Spider root password (the form's
	// "myrootpwd"), needed to initialize the instances, optional for the
	// run.
	RootPassword Secret
}

// Form returns the seed's form as a formtemplate.Form, with one output,
// "config", made by the generator Register adds. Answers are best
// submitted through Submit, which also applies the spd checks.
func Form() *formtemplate.Form {
	return &formtemplate.Form{
		Label:       "RIVER SPD service configuration generator",
		Description: "Input the Spider cluster sizing, and get back the corresponding service configuration.",
		CSS:         "svc48",
		Inputs: []formtemplate.Input{
			{ID: InputNPods, Label: "Number of pods", DisplayModeLabel: "npods", LabelCSS: "pkg16", Type: formtemplate.Integer, Mandatory: true, Default: "32",
				Help: fmt.Sprintf("1 to %d: each pod takes two addresses from 10.0.0.%d to 10.0.0.%d", MaxPods, FirstPodIP, LastPodIP)},
			{ID: InputSvcname, Label: "Service name", DisplayModeLabel: "svcname", LabelCSS: "svc", Type: formtemplate.String, Mandatory: true, Default: "spdsvc01",
				Help: "a GCE name: a lower case letter, then lower case letters, digits and dashes"},
			{ID: InputApp, Label: "Application code", DisplayModeLabel: "app", LabelCSS: "svc", Type: formtemplate.String, Mandatory: true, Default: "RIVER_SPD"},
			{ID: InputNodes, Label: "Nodes", DisplayModeLabel: "nodes", LabelCSS: "node16", Type: formtemplate.StringList, Mandatory: true, Default: "spd01 spd02 spd03 spd04",
				Help: fmt.Sprintf("1 to %d GCE instance names; the first is the flex primary", MaxNodes)},
			{ID: InputSMImage, Label: "Spider docker img", DisplayModeLabel: "dimg sm", LabelCSS: "pkg16", Type: formtemplate.String, Mandatory: true, Default: "tanji/spdc"},
			{ID: InputDBImage, Label: "MariaDB docker img", DisplayModeLabel: "dimg db", LabelCSS: "pkg16", Type: formtemplate.String, Mandatory: true, Default: "mariadb"},
			{ID: InputRootPwd, Label: "MariaDB&Spider root password", DisplayModeLabel: "db root pwd", LabelCSS: "lock", Type: formtemplate.String},
		},
		Outputs: []formtemplate.Output{{Name: "config", Generator: GeneratorName}},
	}
}

// Register adds the "spd" generator to gens: it turns the Values of
// Form() (or of a collector form with the same input ids) into the
// service config.
func Register(gens *formtemplate.Generators) error {
	return gens.Register(GeneratorName, func(v formtemplate.Values) ([]byte, error) {
		in, err := FromValues(v)
		if err != nil {
			return nil, err
		}
		return Generate(in)
	})
}

// FromValues reads Inputs from validated form values. nodes may be a
// list or a string of words (the collector form types it as a string),
// npods an integer. The Inputs are checked (Validate).
func FromValues(v formtemplate.Values) (Inputs, error) {
	in := Inputs{
		NPods:        int(v.Int(InputNPods)),
		Svcname:      v.String(InputSvcname),
		App:          v.String(InputApp),
		Nodes:        v.List(InputNodes),
		SMImage:      v.String(InputSMImage),
		DBImage:      v.String(InputDBImage),
		RootPassword: Secret(v.String(InputRootPwd)),
	}
	if n, ok := v[InputNPods].(int64); !ok || n != int64(in.NPods) {
		return Inputs{}, &formtemplate.ValidationError{Problems: []formtemplate.Problem{{Input: InputNPods, Message: "expected an integer"}}}
	}
	return in, in.Validate()
}

// Submit validates form answers (strings as typed, or Go values) against
// Form() and the spd checks, and returns the Inputs. All problems come
// back at once in a *formtemplate.ValidationError.
func Submit(answers map[string]any) (Inputs, error) {
	values, err := Form().Submit(answers)
	if err != nil {
		return Inputs{}, err
	}
	return FromValues(values)
}

var gceName = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

var appName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Validate checks every input and returns all problems at once, per
// input id, in a *formtemplate.ValidationError. Nothing that could
// change the structure of the config (a line break, a bracket, an equal
// sign, a comment or reference character, a blank where a single word
// goes) passes.
func (in Inputs) Validate() error {
	var p problems
	switch {
	case in.NPods < 1:
		p.add(InputNPods, "%d pods: expected at least 1", in.NPods)
	case in.NPods > MaxPods:
		p.add(InputNPods, "%d pods: the subnet holds at most %d pods (2 addresses each from 10.0.0.%d to 10.0.0.%d)", in.NPods, MaxPods, FirstPodIP, LastPodIP)
	}
	if msg := checkGCEName(in.Svcname); msg != "" {
		p.add(InputSvcname, "%s", msg)
	} else if in.NPods >= 1 && in.NPods <= MaxPods {
		// The pod disks are named <svcname>-pod<N>: they must be valid
		// GCE names too.
		if d := podDiskName(in.Svcname, in.NPods); len(d) > maxGCENameSize {
			p.add(InputSvcname, "%q is too long: the disk name %q has more than %d characters", in.Svcname, d, maxGCENameSize)
		}
	}
	if msg := checkWord(in.App); msg != "" {
		p.add(InputApp, "%s", msg)
	} else if !appName.MatchString(in.App) {
		p.add(InputApp, "%q: expected letters, digits, '_', '.' and '-', starting with a letter or digit", in.App)
	}
	for _, msg := range checkNodes(in.Svcname, in.Nodes) {
		p.add(InputNodes, "%s", msg)
	}
	for _, img := range []struct{ id, v string }{{InputSMImage, in.SMImage}, {InputDBImage, in.DBImage}} {
		if msg := checkImage(img.v); msg != "" {
			p.add(img.id, "%s", msg)
		}
	}
	if msg := checkPassword(string(in.RootPassword)); msg != "" {
		p.add(InputRootPwd, "%s", msg)
	}
	return p.err()
}

type problems struct{ list []formtemplate.Problem }

func (p *problems) add(input, format string, args ...any) {
	p.list = append(p.list, formtemplate.Problem{Input: input, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &formtemplate.ValidationError{Problems: p.list}
}

func checkNodes(svcname string, nodes []string) []string {
	var msgs []string
	switch {
	case len(nodes) == 0:
		return []string{"no node: expected at least one node name"}
	case len(nodes) > MaxNodes:
		msgs = append(msgs, fmt.Sprintf("%d nodes: at most %d (node addresses are 10.0.0.1 to 10.0.0.%d)", len(nodes), MaxNodes, MaxNodes))
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if msg := checkGCEName(n); msg != "" {
			msgs = append(msgs, "node "+msg)
			continue
		}
		if err := nodename.Check(n); err != nil {
			msgs = append(msgs, err.Error())
			continue
		}
		if seen[n] {
			msgs = append(msgs, fmt.Sprintf("node %q is listed twice", n))
		}
		seen[n] = true
		// disk#00 names a disk <svcname>-<node> per node.
		if gceName.MatchString(svcname) {
			if d := svcname + "-" + n; len(d) > maxGCENameSize {
				msgs = append(msgs, fmt.Sprintf("node %q: the disk name %q has more than %d characters", n, d, maxGCENameSize))
			}
		}
	}
	return msgs
}

// checkWord names the first character of s that could change the
// structure of a config line, or says s is empty.
func checkWord(s string) string {
	if s == "" {
		return "is empty"
	}
	for _, r := range s {
		var what string
		switch {
		case r == '\n' || r == '\r':
			what = "a line break"
		case r == ' ' || r == '\t' || unicode.IsSpace(r):
			what = "a blank"
		case unicode.IsControl(r):
			what = fmt.Sprintf("the control character %U", r)
		case strings.ContainsRune("[]=#{}", r):
			what = fmt.Sprintf("%q", string(r))
		default:
			continue
		}
		return fmt.Sprintf("%q contains %s", s, what)
	}
	return ""
}

func checkGCEName(s string) string {
	if msg := checkWord(s); msg != "" {
		return msg
	}
	switch {
	case len(s) > maxGCENameSize:
		return fmt.Sprintf("%q has %d characters: GCE names have at most %d", s, len(s), maxGCENameSize)
	case !gceName.MatchString(s):
		return fmt.Sprintf("%q is not a GCE name: expected a lower case letter, then lower case letters, digits and dashes, not ending with a dash", s)
	}
	return ""
}

func checkImage(s string) string {
	if msg := checkWord(s); msg != "" {
		return msg
	}
	if _, err := reference.ParseNormalizedNamed(s); err != nil {
		return fmt.Sprintf("%q is not a docker image reference: %v", s, err)
	}
	return ""
}

// checkPassword rejects what cannot be written on one line of run_args.
// Every other character is quoted (formtemplate.ShellQuote).
func checkPassword(s string) string {
	if len(s) > maxPasswordSize {
		// Quoting may triple it, and the config reader looks ahead a
		// bounded number of bytes for a continuation line.
		return fmt.Sprintf("is longer than %d bytes", maxPasswordSize)
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			return "contains a line break"
		case unicode.IsControl(r):
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	if reference := configReference.FindStringIndex(s); reference != nil && (reference[0] == 0 || s[reference[0]-1] != '$') {
		// The value is not printed: it is a secret.
		return "contains a { later closed by a } with no blank between them, which the service config would read as a {reference}"
	}
	if strings.ContainsFunc(s, unicode.IsSpace) && strings.ContainsRune(s, '\'') && strings.ContainsRune(s, '"') {
		return "holds blanks and both kinds of quotes: the config could not hide it when printed; drop the blanks or one kind of quote"
	}
	return ""
}

// configReference is what the svc package reads as a {reference} in a
// value.
var configReference = regexp.MustCompile(`\{[^{}\s]*\}`)

func podDiskName(svcname string, pod int) string {
	return svcname + "-pod" + strconv.Itoa(pod)
}
