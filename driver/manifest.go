package driver

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a keyword's value.
type Kind int

const (
	String Kind = iota
	Int
	Bool
	// Size is a byte count written with an optional unit: 512, 17g, 20GiB.
	Size
	// IP is an IPv4 or IPv6 address.
	IP
	// List is a whitespace-separated list of words.
	List
	// Duration is a Go duration (10s, 1m30s) or a number of seconds.
	Duration
	// Shell is a command line (shell quoting applies); it may span lines.
	Shell
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "integer"
	case Bool:
		return "boolean"
	case Size:
		return "size"
	case IP:
		return "ip address"
	case List:
		return "list"
	case Duration:
		return "duration"
	case Shell:
		return "command"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Keyword describes one configuration key of a driver.
type Keyword struct {
	Name       string   `json:"name"`
	Kind       Kind     `json:"-"`
	Default    string   `json:"default,omitempty"`
	Required   bool     `json:"required,omitempty"`
	Scopable   bool     `json:"scopable,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Text       string   `json:"text"`
	// Claim names what the value holds exclusively on a node ("fs.mnt",
	// "ip.addr"): two enabled resources of a node whose keywords of one
	// claim kind have the same value are a validation problem. A List
	// claims each of its words.
	Claim string `json:"claim,omitempty"`
	// ClaimOf, when set, gives the values a resource claims instead of
	// the keyword's value, for a default derived from the section (a
	// container name made of the rid).
	ClaimOf func(Config) []string `json:"-"`
	// Validate, when set, checks a value that has the keyword's kind (a
	// range): its error says what was expected.
	Validate func(v string) error `json:"-"`
}

// Claims returns the values cfg claims through k: ClaimOf's, else the
// words of a List, else the trimmed value; none when empty.
func (k Keyword) Claims(cfg Config) []string {
	if k.Claim == "" {
		return nil
	}
	if k.ClaimOf != nil {
		return k.ClaimOf(cfg)
	}
	v := strings.TrimSpace(cfg.Values[k.Name])
	if k.Kind == List {
		return strings.Fields(v)
	}
	if k.Kind == IP {
		if ip := net.ParseIP(v); ip != nil {
			return []string{ip.String()}
		}
	}
	if v == "" {
		return nil
	}
	return []string{v}
}

// Check tells whether v is a valid value of k, and what was expected
// when it is not.
func (k Keyword) Check(v string) error {
	if len(k.Candidates) > 0 && k.Kind == List {
		// Every word is a candidate (monitor_action = freezestop reboot).
		words := strings.Fields(v)
		if len(words) == 0 && k.Required {
			return fmt.Errorf("empty list: expected words among %s", strings.Join(k.Candidates, ", "))
		}
		for _, w := range words {
			if !slices.Contains(k.Candidates, w) {
				return fmt.Errorf("%q is not one of %s", w, strings.Join(k.Candidates, ", "))
			}
		}
		return k.validate(v)
	}
	if len(k.Candidates) > 0 {
		for _, c := range k.Candidates {
			if v == c {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(k.Candidates, ", "))
	}
	if err := CheckKind(k.Kind, v); err != nil {
		return err
	}
	return k.validate(v)
}

func (k Keyword) validate(v string) error {
	if k.Validate == nil {
		return nil
	}
	return k.Validate(v)
}

// CheckKind tells whether v parses as a value of kind.
func CheckKind(kind Kind, v string) error {
	switch kind {
	case Int:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
	case Bool:
		if _, err := ParseBool(v); err != nil {
			return err
		}
	case Size:
		if _, err := ParseSize(v); err != nil {
			return err
		}
	case IP:
		if net.ParseIP(strings.TrimSpace(v)) == nil {
			return fmt.Errorf("%q is not an ip address", v)
		}
	case Duration:
		if _, err := ParseDuration(v); err != nil {
			return err
		}
	}
	return nil
}

// ParseBool reads the booleans the reference accepts: true/false, yes/no,
// on/off, 1/0, in any case.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "y", "on", "1":
		return true, nil
	case "false", "no", "n", "off", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", v)
}

// ParseSize reads a size: a number of bytes, or a number followed by a unit
// k, m, g, t, p (powers of 1024), optionally followed by "b" or "ib"
// ("17g", "17G", "17GiB", "512mb"). Decimal fractions are accepted ("1.5g").
func ParseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	if s == "" {
		return 0, fmt.Errorf("empty size: expected a number with an optional unit (k, m, g, t)")
	}
	s = strings.TrimSuffix(s, "ib")
	s = strings.TrimSuffix(s, "b")
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		case 'p':
			mult = 1 << 50
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size: expected a number with an optional unit (k, m, g, t), like 17g", v)
	}
	return int64(f * float64(mult)), nil
}

// ParseDuration reads a Go duration or a plain number of seconds.
func ParseDuration(v string) (time.Duration, error) {
	s := strings.TrimSpace(v)
	// Atoi only on digits: its error for "10s" is an allocation, on
	// every container section of a load.
	if allDigits(s) {
		if n, err := strconv.Atoi(s); err == nil {
			return time.Duration(n) * time.Second, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (10s, 1m30s, or seconds)", v)
	}
	return d, nil
}

// Manifest describes a driver: its id and its keywords. The keywords
// common to every resource (CommonKeywords) are not repeated here.
type Manifest struct {
	// ID is "group.type": "fs.ext4", "ip.docker", "disk.gce".
	ID       string    `json:"id"`
	Text     string    `json:"text"`
	Keywords []Keyword `json:"keywords"`
	// Spec parses a section into the driver's typed spec (no I/O). The
	// standard drivers set it in their group package; driver/fake builds
	// its stand-ins from it, so a driver that sets it keeps its label and
	// its ordering under fakes.
	Spec SpecFunc `json:"-"`
}

// Group returns "fs" for "fs.ext4".
func (m Manifest) Group() string { g, _, _ := strings.Cut(m.ID, "."); return g }

// Type returns "ext4" for "fs.ext4".
func (m Manifest) Type() string { _, t, _ := strings.Cut(m.ID, "."); return t }

// Keyword finds a keyword of the driver or a common one.
func (m Manifest) Keyword(name string) (Keyword, bool) {
	// By index: a Keyword is over 100 bytes, and a range by value copied
	// every one scanned (Config.String asks this of every unset keyword).
	for i := range m.Keywords {
		if m.Keywords[i].Name == name {
			return m.Keywords[i], true
		}
	}
	for i := range CommonKeywords {
		if CommonKeywords[i].Name == name {
			return CommonKeywords[i], true
		}
	}
	return Keyword{}, false
}

// AllKeywords returns the driver keywords followed by the common ones.
func (m Manifest) AllKeywords() []Keyword {
	out := make([]Keyword, 0, len(m.Keywords)+len(CommonKeywords))
	out = append(out, m.Keywords...)
	for _, k := range CommonKeywords {
		if _, dup := m.ownKeyword(k.Name); !dup {
			out = append(out, k)
		}
	}
	return out
}

func (m Manifest) ownKeyword(name string) (Keyword, bool) {
	for i := range m.Keywords {
		if m.Keywords[i].Name == name {
			return m.Keywords[i], true
		}
	}
	return Keyword{}, false
}

// CommonKeywords are accepted in every resource section.
var CommonKeywords = []Keyword{
	{Name: "type", Kind: String, Text: "the driver of the resource in its group"},
	{Name: "tags", Kind: List, Scopable: true, Text: "words to select resources with --tags"},
	{Name: "subset", Kind: String, Scopable: true, Text: "the subset of the group the resource belongs to"},
	{Name: "disable", Kind: Bool, Scopable: true, Default: "false", Text: "ignore the resource on this node"},
	{Name: "optional", Kind: Bool, Scopable: true, Default: "false", Text: "a failure of the resource does not fail the action nor the avail status"},
	{Name: "always_on", Kind: List, Scopable: true, Text: "node sets (nodes, drpnodes or node names) where the resource stays up when the service stops"},
	{Name: "standby", Kind: Bool, Scopable: true, Default: "false", Text: "keep the resource up when the service stops"},
	{Name: "monitor", Kind: Bool, Scopable: true, Default: "false", Text: "the resource is monitored: down after its restarts, it triggers the service's monitor_action"},
	{Name: "restart", Kind: Int, Scopable: true, Default: "0", Validate: checkRestart, Text: "how many times the monitor restarts the resource when it is down (and the service should run) before the monitor_action; standby resources get at least 2"},
	{Name: "restart_delay", Kind: Duration, Scopable: true, Default: "500ms", Validate: checkRestartDelay, Text: "the least time between two restarts of the resource by the monitor"},
	{Name: "encap", Kind: Bool, Default: "false", Text: "the resource lives in an encapsulated service"},
	{Name: "comment", Kind: String, Text: "free text"},
	{Name: "pre_provision", Kind: Shell, Scopable: true, Text: "command run before provision"},
	{Name: "post_provision", Kind: Shell, Scopable: true, Text: "command run after provision"},
	{Name: "pre_start", Kind: Shell, Scopable: true, Text: "command run before start"},
	{Name: "post_start", Kind: Shell, Scopable: true, Text: "command run after start"},
	{Name: "pre_stop", Kind: Shell, Scopable: true, Text: "command run before stop"},
	{Name: "post_stop", Kind: Shell, Scopable: true, Text: "command run after stop"},
	{Name: "start_requires", Kind: List, Scopable: true, Text: "rids that must be up before this resource starts"},
	{Name: "stop_requires", Kind: List, Scopable: true, Text: "rids that must be stopped before this resource stops"},
}

// MaxRestart and MaxRestartDelay bound the restart keywords: a monitor
// pass retries a resource at most restart times, restart_delay apart,
// and must end.
const (
	MaxRestart      = 100
	MaxRestartDelay = time.Hour
)

func checkRestart(v string) error {
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if n < 0 || n > MaxRestart {
		return fmt.Errorf("%q is out of range: expected an integer from 0 (no restart) to %d", v, MaxRestart)
	}
	return nil
}

func checkRestartDelay(v string) error {
	d, _ := ParseDuration(v)
	if d < 0 || d > MaxRestartDelay {
		return fmt.Errorf("%q is out of range: expected a duration from 0 to %s", v, MaxRestartDelay)
	}
	return nil
}

// allDigits tells whether s is an optionally signed run of ASCII digits,
// what strconv.Atoi may accept.
func allDigits(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
