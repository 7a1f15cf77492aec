package svccomp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/internal/svccomp"
	"github.com/svckit/svckit/svc"
)

func TestVars(t *testing.T) {
	s, err := svc.Load(context.Background(), "../../svc/testdata/spdsvc01.conf",
		svc.Options{Node: "spd03", Registry: fake.Registry(fake.Options{}), VarDir: t.TempDir(), NoTriggers: true})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"services.svc_nodes":        "spd01 spd02 spd03 spd04",
		"services.svc_drpnodes":     "",
		"services.svc_cluster_type": "flex",
		"services.svc_topology":     "flex",
		"services.svc_app":          "RIVER_SPD",
		"services.svc_autostart":    "spd01 spd02 spd03 spd04",
		"services.svc_env":          "PRD",
		"services.svc_type":         "PRD",
		"svc_name":                  "spdsvc01",
		"svc_path":                  "spdsvc01",
	}, withoutEnv(svccomp.Vars(s)))
}

func TestRequest(t *testing.T) {
	tests := []struct {
		req  svccomp.Request
		args []string
		err  string
	}{
		{svccomp.Request{Action: "fix", Modulesets: []string{"a", "b"}, Modules: []string{"m"}, Rules: []string{"/r 1.json", "/r2.json"}, DryRun: true},
			[]string{"--dry-run", "compliance", "fix", "--moduleset", "a,b", "--module", "m", "--rules", "/r 1.json", "--rules", "/r2.json"}, ""},
		{svccomp.Request{Action: "check"}, []string{"compliance", "check"}, ""},
		{svccomp.Request{Action: "attach"}, nil, "--moduleset is required"},
		{svccomp.Request{Action: "detach"}, nil, "--moduleset is required"},
		{svccomp.Request{Action: "auto"}, nil, `action "auto", expected one of check, fix, fixable, attach, detach, show, list`},
		{svccomp.Request{Action: "check; rm -rf /"}, nil, "expected one of"},
	}
	for _, tt := range tests {
		err := tt.req.Check()
		if tt.err != "" {
			var ue *svccomp.UsageError
			require.ErrorAs(t, err, &ue)
			require.ErrorContains(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.args, tt.req.Args())
	}
}

// withoutEnv drops the [env] variables, tested by TestVarsEnv.
func withoutEnv(v map[string]string) map[string]string {
	for k := range v {
		if strings.HasPrefix(k, "svc_conf_env_") {
			delete(v, k)
		}
	}
	return v
}

// TestVarsEnv: the [env] section reaches the modules as
// OSVC_COMP_SVC_CONF_ENV_<KEY>, resolved for the node.
func TestVarsEnv(t *testing.T) {
	conf := "[DEFAULT]\nnodes = n1 n2\n[env]\nshard_size = 17g\nrole = a\nrole@n2 = b\n"
	s, err := svc.Parse(context.Background(), "e.conf", []byte(conf), svc.Options{Node: "n2", Registry: fake.Registry(fake.Options{}), VarDir: t.TempDir()})
	require.NoError(t, err)
	v := svccomp.Vars(s)
	require.Equal(t, "17g", v["svc_conf_env_shard_size"])
	require.Equal(t, "b", v["svc_conf_env_role"], "scoped for the node")
	require.Equal(t, map[string]string{"shard_size": "17g", "role": "b"}, s.Env())
}
