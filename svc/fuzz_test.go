package svc_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource/secret"
	"github.com/svckit/svckit/svc"
)

// fuzzSeeds are small configurations exercising each part of the loader:
// scoping, references, subsets, multi-line values, every validation
// error kind.
var fuzzSeeds = []string{
	"",
	"[DEFAULT]\nnodes = n1 n2\n",
	"[DEFAULT]\nnodes = n1 n2\nflex_primary = n2\ncluster_type = flex\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /srv/{svcname}/{rid}\nmnt@n1 = /srv/one\n",
	"[DEFAULT]\nnodes = n1\n[env]\nroot = /data\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = {env.root}/x\npost_provision = echo ${HOME} {nodename}\n",
	"[DEFAULT]\nnodes = n1\n[subset#disk:cge]\nparallel = true\n[disk#01]\ntype = gce\nsubset = cge\nnames = a\nsize = 17g\ngce_zone = z\n",
	"[DEFAULT]\nnodes = n1\n[container#01]\ntype = docker\nrun_image = mariadb\nrun_args = --net=none\n    -e MYSQL_ROOT_PASSWORD=pw\n    -v /a:/b\n[ip#01]\ntype = docker\nipdev = br0\nipname = 10.0.0.1\nnetmask = 255.255.255.0\ncontainer_rid = container#01\n",
	"[DEFAULT]\nnodes = n1\nbogus = 1\n[what]\n[fs#01]\ntype = nope\n[disk#01]\ntype = gce\nsize = lots\nnames@n9 = x\n",
	"[DEFAULT]\nnodes = n1\nnodes = n2\n[fs#01\ntype = ext4\n",
	"[ip#01]\ntype = docker\ncontainer_rid = container#zz\nstart_requires = ip#01\n",
	"[DEFAULT]\nnodes = n1\n[fs#a]\ntype = ext4\ndev = /dev/a\nmnt = /a\nstart_requires = fs#b\n[fs#b]\ntype = ext4\ndev = /dev/b\nmnt = /b\nstart_requires = fs#a\n",
}

// FuzzLoad feeds arbitrary bytes to Parse and validation: it must never
// panic or hang, a failure must be a *svc.ValidationError with located
// problems, and a loaded service must answer status, a dry-run plan and
// print config without leaking the secrets it holds.
func FuzzLoad(f *testing.F) {
	if b, err := os.ReadFile("testdata/spdsvc01.conf"); err == nil {
		f.Add(b)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		// A fresh in-memory fake registry per input: no state leaks
		// from one input to the next, and no file is written.
		reg := fake.Registry(fake.Options{})
		s, err := svc.Parse(ctx, "fuzz.conf", data, svc.Options{Node: "n1", Svcname: "fz", Registry: reg, NoTriggers: true})
		if err != nil {
			var ve *svc.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse error is %T, not *svc.ValidationError: %v", err, err)
			}
			if len(ve.Problems) == 0 {
				t.Fatalf("ValidationError without problems")
			}
			for _, p := range ve.Problems {
				if p.File != "fuzz.conf" || p.Message == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
			_ = ve.Error()
			return
		}
		if s == nil {
			t.Fatalf("Parse returned neither a service nor an error")
		}
		rep := s.Status(ctx)
		_ = rep.Render(svc.StatusOptions{ShowDisabled: true})
		res, err := s.Do(ctx, svc.Start, svc.ActionOptions{DryRun: true})
		if err != nil && len(s.Resources()) > 0 {
			// Selecting nothing enabled, or a start_requires cycle, is a
			// legitimate refusal; anything else must name the service.
			if !strings.Contains(err.Error(), "fz") && !strings.Contains(err.Error(), "cycle") {
				t.Fatalf("dry-run start: %v", err)
			}
		}
		// Every text a user sees that may hold a configuration value:
		// the printed config, resource labels and logs, action errors.
		// (The fixed parts of the tree, like "sync#i0", are no leak.)
		shown := []string{s.RenderConfig(svc.RenderConfigOptions{})}
		for _, rs := range rep.Resources {
			shown = append(shown, rs.Label)
			shown = append(shown, rs.Log...)
		}
		if res != nil {
			shown = append(shown, res.Error)
		}
		for _, sec := range svc.SecretsOf(s) {
			// Value redaction cannot hide a secret made of the letters
			// of its own mask ("x", "ax"): skip those. Secrets under
			// secret.MinLen are masked only where a name assigns them,
			// under secret.WordLen only as whole words.
			if strings.Contains(sec, "x") || len(sec) < secret.MinLen {
				continue
			}
			pat := regexp.QuoteMeta(sec)
			if len(sec) < secret.WordLen {
				pat = `(^|[^A-Za-z0-9])` + pat + `($|[^A-Za-z0-9])`
			}
			re := regexp.MustCompile(pat)
			for _, text := range shown {
				if re.MatchString(text) {
					t.Fatalf("secret %q in output:\n%s", sec, text)
				}
			}
		}
	})
}
