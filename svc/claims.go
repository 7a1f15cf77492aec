package svc

// claimant is the first resource section that claimed a value.
type claimant struct {
	section string
	line    int
}

// checkClaims reports two enabled resources of this node that claim one
// thing: the same mount point, device, address, container name, disk
// name (the keywords with a driver.Keyword Claim). Values are compared
// after scoping and expansion for the node the configuration is loaded
// for, defaults included: the flex pods of other nodes are disabled here,
// so they may use the same values (each node's own load checks them).
func (l *loader) checkClaims() {
	seen := map[[2]string]claimant{}
	for i, sec := range l.raw.Sections {
		if l.stopped(i) {
			return
		}
		cfg, ok := l.s.configs[sec.Name]
		if !ok || cfg.Bool("disable") {
			continue
		}
		for ki := range cfg.Manifest.Keywords {
			kw := &cfg.Manifest.Keywords[ki]
			if kw.Claim == "" {
				continue // nothing claimed: no copy of cfg for Claims
			}
			for _, v := range kw.Claims(cfg) {
				key := [2]string{kw.Claim, v}
				line := l.claimLine(sec, kw.Name)
				first, dup := seen[key]
				if !dup {
					seen[key] = claimant{sec.Name, line}
					continue
				}
				l.problem(line, sec.Name, kw.Name, "%s %q is already claimed on node %s by [%s] (line %d): expected another %s than every other enabled resource of the node", kw.Claim, v, l.s.node, first.section, first.line, kw.Name)
			}
		}
	}
}

// claimLine is the line of the variant of kw that applies to this node,
// else (a default) the section's header.
func (l *loader) claimLine(sec *rawSection, name string) int {
	if k, ok := l.lookup(sec, name); ok {
		return k.Line
	}
	return sec.Line
}
