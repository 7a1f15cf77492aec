package svc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/resource"
)

// ResourceStatus is the state of one resource in a status report.
type ResourceStatus struct {
	RID      string          `json:"rid"`
	Driver   string          `json:"driver"`
	Status   resource.Status `json:"status"`
	Label    string          `json:"label"`
	Log      []string        `json:"log,omitempty"`
	Tags     []string        `json:"tags,omitempty"`
	Subset   string          `json:"subset,omitempty"`
	Disabled bool            `json:"disable"`
	Optional bool            `json:"optional"`
	Standby  bool            `json:"standby"`
	Monitor  bool            `json:"monitor"`
	Encap    bool            `json:"encap"`
	Flags    string          `json:"flags"`
	// Restart is the resource's restart keyword (the monitor tries at
	// least 2 restarts of a standby resource all the same), Retries the restarts the monitor tried since it was last seen
	// up. With a restart, Flags ends with the restarts left, as the
	// reference's fifth flag: a digit, or + for more than 9.
	Restart int `json:"restart,omitempty"`
	Retries int `json:"retries,omitempty"`
}

// StatusReport is the status of a service on one node.
type StatusReport struct {
	Service   string           `json:"service"`
	Node      string           `json:"node"`
	Overall   resource.Status  `json:"overall"`
	Avail     resource.Status  `json:"avail"`
	Optional  resource.Status  `json:"optional"`
	Resources []ResourceStatus `json:"resources"`
	Time      time.Time        `json:"time"`
	// Frozen: the resource monitor leaves the service alone on this node.
	Frozen bool `json:"frozen,omitempty"`
	// Problems lists what the report could not read (the run state
	// files).
	Problems []string `json:"problems,omitempty"`
}

// nameWidth is the width of the name column of print status, the
// reference's "%-20s".
const nameWidth = 20

// accessoryGroups are the groups print status shows under "accessory";
// they do not count in avail.
var accessoryGroups = map[string]bool{"sync": true, "task": true}

// Status checks every resource concurrently and aggregates as the
// reference does: avail merges the non-optional resources except sync and
// task; overall merges avail, the optional ones and the accessories (an up
// sync counts as n/a, a down one as warn), and is warn when a resource
// logged a problem.
func (s *Service) Status(ctx context.Context) *StatusReport {
	ctx = s.redactingContext(ctx)
	rep := &StatusReport{Service: s.name, Node: s.node, Time: time.Now()}
	rep.Resources = make([]ResourceStatus, len(s.resources))
	// problem[i]: resource i logged an error that is no resource.Note.
	problem := make([]bool, len(s.resources))
	frozen, err := s.Frozen()
	if err != nil {
		rep.Problems = append(rep.Problems, s.Redact(err.Error()))
	}
	rep.Frozen = frozen
	restarts, err := s.Restarts()
	if err != nil {
		rep.Problems = append(rep.Problems, s.Redact(err.Error()))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i, r := range s.resources {
		f := r.Flags()
		rs := ResourceStatus{RID: r.RID(), Driver: r.DriverID(), Label: s.Redact(r.Label()), Tags: r.Tags(), Subset: r.Subset(),
			Disabled: f.Disabled, Optional: f.Optional, Standby: f.Standby, Monitor: f.Monitor, Encap: f.Encap, Flags: f.String()}
		if !accessoryGroups[resource.Group(rs.RID)] {
			rs.Restart, rs.Retries = s.restartKeyword(rs.RID), restarts[rs.RID].Retries
			rs.Flags += restartFlag(rs.Restart, rs.Retries)
		}
		if f.Disabled {
			rs.Status = resource.NotApplicable
			rep.Resources[i] = rs
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			st, err := r.Status(ctx)
			// The label after the status: a driver may name what the
			// status found (the container id of container.docker).
			rs.Label = s.Redact(r.Label())
			rs.Status = standby(st, f)
			if err != nil {
				rs.Log = append(rs.Log, s.Redact(err.Error()))
				problem[i] = !resource.IsNote(err)
			}
			rep.Resources[i] = rs
		}()
	}
	wg.Wait()
	avail, optional, overall := resource.Undef, resource.Undef, resource.Undef
	for i, rs := range rep.Resources {
		if rs.Disabled || rs.Encap {
			continue
		}
		st := rs.Status
		if accessoryGroups[resource.Group(rs.RID)] {
			switch st.Final() {
			case resource.Up, resource.StandbyUp:
				st = resource.NotApplicable
			case resource.Down, resource.StandbyDown, resource.Warn:
				st = resource.Warn
			}
			overall = overall.Merge(st)
			continue
		}
		if rs.Optional {
			optional = optional.Merge(st)
		} else {
			avail = avail.Merge(st)
		}
		if problem[i] {
			overall = overall.Merge(resource.Warn)
		}
	}
	rep.Avail, rep.Optional = avail.Final(), optional.Final()
	overall = overall.Merge(rep.Avail).Merge(rep.Optional)
	rep.Overall = overall.Final()
	if rep.Avail == resource.Undef {
		rep.Avail = resource.NotApplicable
	}
	if rep.Optional == resource.Undef {
		rep.Optional = resource.NotApplicable
	}
	if rep.Overall == resource.Undef {
		rep.Overall = resource.NotApplicable
	}
	// The reference shows a standby resource that is up as "up" when the
	// service is up: it is just part of the running service then.
	if rep.Avail == resource.Up {
		for i := range rep.Resources {
			if rep.Resources[i].Status == resource.StandbyUp {
				rep.Resources[i].Status = resource.Up
			}
		}
	}
	return rep
}

// restartFlag is the reference's restart flag: none without restarts,
// else the restarts left, + beyond 9.
func restartFlag(restart, retries int) string {
	if restart < 1 {
		return ""
	}
	left := max(restart-retries, 0)
	if left > 9 {
		return "+"
	}
	return string(rune('0' + left))
}

// StatusOptions are the flags of a status report's Visible and Render.
type StatusOptions struct {
	// ShowDisabled keeps the disabled resources (the service's
	// show_disabled, Service.ShowDisabled, is the usual value).
	ShowDisabled bool
}

// Visible returns a copy of the report without the disabled resources,
// unless opts.ShowDisabled: what print status shows, as data.
func (rep *StatusReport) Visible(opts StatusOptions) *StatusReport {
	if opts.ShowDisabled {
		return rep
	}
	out := *rep
	out.Resources = nil
	for _, rs := range rep.Resources {
		if !rs.Disabled {
			out.Resources = append(out.Resources, rs)
		}
	}
	return &out
}

// standby turns the up/down of a standby (always_on) resource into
// "stdby up"/"stdby down", so that a driver need not know the flag: such a
// resource stays up when the service is stopped, and the aggregation must
// not count it as a running service.
func standby(st resource.Status, f resource.Flags) resource.Status {
	if !f.Standby {
		return st
	}
	switch st {
	case resource.Up:
		return resource.StandbyUp
	case resource.Down:
		return resource.StandbyDown
	}
	return st
}

// Render draws the report as the reference's print status tree:
//
//	spdsvc01
//	overall                   up
//	|- avail                  up
//	|  |- ip#01db        .... up         10.0.0.34@br0@f52d3cb784a9
//	'- accessory
//	   '- sync#i0        .... up         rsync svc config to drpnodes, nodes
//
// Disabled resources are left out unless opts.ShowDisabled. A rid too
// long for the seed's 20-character column (container#dockerd) is on a
// line of its own, its flags, status and label on the next:
//
//	|  |- container#dockerd
//	|  |                 .... up         dockerd /spdsvc01/docker pid 4242
func (rep *StatusReport) Render(opts StatusOptions) string {
	var b strings.Builder
	// The seed's flags column is 4 wide (M D O E); a restart flag widens
	// it for every row, so that the columns stay aligned.
	width := 4
	for _, rs := range rep.Resources {
		width = max(width, len(rs.Flags))
	}
	// row writes a line of the tree; a name longer than the seed's
	// 20-character column (container#dockerd under avail) goes on a line
	// of its own and its columns on the next, after cont (the branch's
	// continuation), so that every status stays in its column.
	row := func(name, cont, flags, status, label string) {
		if len(name) > nameWidth {
			b.WriteString(name + "\n")
			name = strings.TrimRight(cont, " ")
		}
		line := fmt.Sprintf("%-*s %*s %-10s %s", nameWidth, name, width, flags, status, label)
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	b.WriteString(rep.Service + "\n")
	notice := ""
	if rep.Frozen {
		notice = "frozen"
	}
	row("overall", "", "", rep.Overall.String(), notice)
	var main, acc []ResourceStatus
	for _, rs := range rep.Resources {
		if rs.Disabled && !opts.ShowDisabled {
			continue
		}
		if accessoryGroups[resource.Group(rs.RID)] {
			acc = append(acc, rs)
		} else {
			main = append(main, rs)
		}
	}
	availBranch, availPad := "|- ", "|  "
	if len(acc) == 0 {
		availBranch, availPad = "'- ", "   "
	}
	row(availBranch+"avail", availPad, "", rep.Avail.String(), "")
	for i, rs := range main {
		branch := "|- "
		if i == len(main)-1 {
			branch = "'- "
		}
		cont := "|  "
		if i == len(main)-1 {
			cont = "   "
		}
		row(availPad+branch+rs.RID, availPad+cont, rs.Flags, rs.Status.Final().String(), rs.Label)
		for _, l := range rs.Log {
			b.WriteString(availPad + cont + "   # " + l + "\n")
		}
	}
	if len(acc) > 0 {
		b.WriteString("'- accessory\n")
		for i, rs := range acc {
			branch := "|- "
			if i == len(acc)-1 {
				branch = "'- "
			}
			cont := "   |  "
			if i == len(acc)-1 {
				cont = "      "
			}
			row("   "+branch+rs.RID, cont, rs.Flags, rs.Status.Final().String(), rs.Label)
			for _, l := range rs.Log {
				b.WriteString("   " + "   " + "   # " + l + "\n")
			}
		}
	}
	return b.String()
}
