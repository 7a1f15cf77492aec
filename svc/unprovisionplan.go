package svc

import (
	"context"

	"github.com/svckit/svckit/resource"
)

// planUnprovision asks every resource of plan that can tell what its
// unprovision would delete or keep (resource.UnprovisionPlanner), under
// ctx marked dry-run and forced as opts say. It changes nothing. A
// resource that cannot tell (its state unreadable) gets the error as its
// line: the plan still shows the rest.
func (s *Service) planUnprovision(ctx context.Context, plan [][]string, opts ActionOptions) map[string][]string {
	ctx = resource.WithForce(resource.WithDryRun(ctx, true), opts.Force)
	byRID := map[string]resource.Resource{}
	for _, r := range s.resources {
		byRID[r.RID()] = r
	}
	out := map[string][]string{}
	for _, wave := range plan {
		for _, rid := range wave {
			p, ok := byRID[rid].(resource.UnprovisionPlanner)
			if !ok {
				continue
			}
			lines, err := p.PlanUnprovision(ctx)
			if err != nil {
				lines = append(lines, "cannot tell: "+s.Redact(err.Error()))
			}
			for i, l := range lines {
				lines[i] = s.Redact(l)
			}
			if len(lines) > 0 {
				out[rid] = lines
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
