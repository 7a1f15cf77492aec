package spdplanner

import (
	"regexp"
	"sort"

	"github.com/svckit/svckit/svc"
)

var podTag = regexp.MustCompile(`^pod\d+$`)

// PodsUp reads a node's status report: listed are the pods (podNN tags)
// with any resource shown, up those whose every resource is up.
func PodsUp(rep *svc.StatusReport) (up, listed []string) {
	all := map[string]bool{}
	for _, rs := range rep.Resources {
		for _, tag := range rs.Tags {
			if !podTag.MatchString(tag) {
				continue
			}
			if _, ok := all[tag]; !ok {
				all[tag] = true
			}
			if rs.Status.Final().String() != "up" {
				all[tag] = false
			}
		}
	}
	for p, ok := range all {
		listed = append(listed, p)
		if ok {
			up = append(up, p)
		}
	}
	sort.Strings(up)
	sort.Strings(listed)
	return up, listed
}
