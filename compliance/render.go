package compliance

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText renders a report for a terminal: one line per module, its
// output indented below, then the digest.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-40s %-7s %-6s %-7s %s\n", res.Module, res.Kind, res.Action, res.Status, res.Duration.Round(time.Millisecond))
		for _, line := range strings.Split(strings.TrimRight(res.Output, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	who := r.Node
	if r.Service != "" {
		who = r.Service + "@" + r.Node
	}
	d := r.Digest
	fmt.Fprintf(&b, "%s %s %s: %d modules, %d ok, %d nok, %d n/a, %d failed in %s\n",
		who, r.Action, strings.Join(r.Modulesets, ","), len(r.Results), d.OK, d.NOK, d.NA, d.Failed, d.Duration.Round(time.Millisecond))
	if len(d.NotOK) > 0 {
		fmt.Fprintf(&b, "not ok: %s\n", strings.Join(d.NotOK, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON renders a report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteModuleInfoText renders Show's result for a terminal.
func WriteModuleInfoText(w io.Writer, infos []ModuleInfo) error {
	var b strings.Builder
	for _, mi := range infos {
		fmt.Fprintf(&b, "module %s (moduleset %s, %s", mi.Module, mi.Moduleset, mi.Kind)
		if mi.Script != "" {
			fmt.Fprintf(&b, " %s", mi.Script)
		}
		fmt.Fprintf(&b, ", autofix %v)\n  rulesets: %s\n", mi.Autofix, strings.Join(mi.Rulesets, ", "))
		for _, v := range mi.Env {
			fmt.Fprintf(&b, "  %s=%s\n", v.Name, v.Value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
