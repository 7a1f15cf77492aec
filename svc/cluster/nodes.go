package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/internal/shellwords"
)

// Node says how to reach a node and run svcmgr there.
type Node struct {
	Name string `json:"name"`
	// Address is the host name or IP to connect to; default: Name.
	Address string `json:"address"`
	// Port is the SSH port; default 22.
	Port int `json:"port"`
	// User is the SSH user; default root.
	User string `json:"user"`
	// Svcmgr is the path of svcmgr on the node; default "svcmgr".
	Svcmgr string `json:"svcmgr"`
	// Root is passed as --root when set.
	Root string `json:"root,omitempty"`
	// Env holds NAME=value pairs set for the svcmgr command.
	Env []string `json:"env,omitempty"`
}

// Nodes is a node registry: how to reach each node by name. A node that is
// not declared is reached at its name, port 22, as root.
type Nodes struct {
	File     string
	Defaults Node
	byName   map[string]Node
}

var nodeKeys = []string{"address", "port", "user", "svcmgr", "root", "env"}

// LoadNodes reads a node registry file (INI): a section per node, keys
// address, port, user, svcmgr, root and env (NAME=value words); keys of
// the DEFAULT section apply to every node.
//
//	[DEFAULT]
//	user = root
//	svcmgr = /usr/local/bin/svcmgr
//
//	[spd02]
//	address = 10.0.0.2
//	port = 22
//
// A missing file is an empty registry.
func LoadNodes(path string) (*Nodes, error) {
	n := &Nodes{File: path, byName: map[string]Node{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return n, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node registry: %w", err)
	}
	return ParseNodes(path, data)
}

// ParseNodes reads a node registry from data; filename names it in errors.
func ParseNodes(filename string, data []byte) (*Nodes, error) {
	n := &Nodes{File: filename, byName: map[string]Node{}}
	f, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "=", SpaceBeforeInlineComment: true}, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	if err := n.fill(&n.Defaults, filename, f.Section(ini.DefaultSection)); err != nil {
		return nil, err
	}
	for _, sec := range f.Sections() {
		if sec.Name() == ini.DefaultSection {
			continue
		}
		if err := nodename.Check(sec.Name()); err != nil {
			return nil, fmt.Errorf("%s: [%s]: %w", filename, sec.Name(), err)
		}
		node := n.Defaults
		node.Name = sec.Name()
		node.Env = append([]string{}, n.Defaults.Env...)
		if err := n.fill(&node, filename, sec); err != nil {
			return nil, err
		}
		n.byName[node.Name] = node
	}
	return n, nil
}

func (n *Nodes) fill(node *Node, file string, sec *ini.Section) error {
	for _, k := range sec.Keys() {
		v := strings.TrimSpace(k.Value())
		where := fmt.Sprintf("%s: [%s] %s", file, sec.Name(), k.Name())
		switch k.Name() {
		case "address":
			node.Address = v
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return fmt.Errorf("%s = %q: expected a TCP port (1-65535)", where, v)
			}
			node.Port = p
		case "user":
			node.User = v
		case "svcmgr":
			node.Svcmgr = v
		case "root":
			node.Root = v
		case "env":
			words, err := shellwords.Split(v)
			if err != nil {
				return fmt.Errorf("%s: %v: expected NAME=value words", where, err)
			}
			for _, w := range words {
				name, _, ok := strings.Cut(w, "=")
				if !ok || name == "" || strings.ContainsAny(name, " \t$") {
					return fmt.Errorf("%s: %q: expected NAME=value", where, w)
				}
				node.Env = append(node.Env, w)
			}
		default:
			return fmt.Errorf("%s: unknown keyword: expected one of %s", where, strings.Join(nodeKeys, ", "))
		}
	}
	return nil
}

// Lookup returns how to reach node, with the defaults filled in.
func (n *Nodes) Lookup(name string) Node {
	node, ok := n.byName[name]
	if !ok {
		node = n.Defaults
		node.Name = name
	}
	if node.Address == "" {
		node.Address = name
	}
	if node.Port == 0 {
		node.Port = 22
	}
	if node.User == "" {
		node.User = "root"
	}
	if node.Svcmgr == "" {
		node.Svcmgr = "svcmgr"
	}
	return node
}

// Names returns the declared nodes, sorted.
func (n *Nodes) Names() []string {
	out := make([]string, 0, len(n.byName))
	for name := range n.byName {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
