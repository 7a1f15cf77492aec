package checker_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/resource/secret"
)

// TestSubstSecretsRedacted checks that a value %%ENV:X%% substitutes from
// a secret-named X never shows in a check's diff or messages, whatever
// the rule's own name, and that other values still show.
func TestSubstSecretsRedacted(t *testing.T) {
	for _, tc := range []struct {
		name, fmt, current string
		vars               map[string]string
		hidden, shown      []string
	}{
		{name: "DB_PASSWORD in a file diff", fmt: "connect db=%%ENV:DB_NAME%% with %%ENV:DB_PASSWORD%%\n",
			current: "connect db=old with oldvalue\n",
			vars:    map[string]string{"DB_PASSWORD": "hunter2-new", "DB_NAME": "spd"},
			hidden:  []string{"hunter2-new"}, shown: []string{"+connect db=spd with xxxx", "-connect db=old with oldvalue"}},
		{name: "through OSVC_COMP_ and names the old list missed", fmt: "%%ENV:MYSQL_PWD%% %%ENV:AWS_CREDENTIALS%% %%ENV:SSH_KEY%%\n", current: "old\n",
			vars:   map[string]string{"OSVC_COMP_MYSQL_PWD": "pwdValue1", "AWS_CREDENTIALS": "credValue2", "SSH_KEY": "keyValue3"},
			hidden: []string{"pwdValue1", "credValue2", "keyValue3"}, shown: []string{"+xxxx xxxx xxxx"}},
		{name: "an old value assigned to a secret name", fmt: "password = %%ENV:DB_PASS%%\n", current: "password = oldpw\n",
			vars: map[string]string{"DB_PASS": "newpw"}, hidden: []string{"oldpw", "newpw"}, shown: []string{"+password = xxxx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, out := newEnv(t, tc.vars)
			if tc.current != "" {
				require.NoError(t, os.MkdirAll(filepath.Join(env.Root, "etc"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(env.Root, "etc/app.conf"), []byte(tc.current), 0o600))
			}
			v := fileVar(t, "OSVC_COMP_APP_CONF", map[string]any{"path": "/etc/app.conf", "fmt": tc.fmt})
			require.Equal(t, checker.NOK, run(t, "file", env, "check", v), out.String())
			for _, h := range tc.hidden {
				require.NotContains(t, out.String(), h)
			}
			for _, s := range tc.shown {
				require.Contains(t, out.String(), s)
			}
			require.Equal(t, checker.OK, run(t, "file", env, "fix", v), out.String())
			b, err := os.ReadFile(filepath.Join(env.Root, "etc/app.conf"))
			require.NoError(t, err)
			require.Contains(t, string(b), tc.vars[firstKey(tc.vars)], "the file gets the real value")
		})
	}

	// A shared set carries what one rule learnt to every output of a run.
	set := secret.NewSet()
	env, out := newEnv(t, map[string]string{"API_TOKEN": "tok-0987"})
	env.Secrets = set
	_, err := env.Subst("%%ENV:API_TOKEN%%")
	require.NoError(t, err)
	require.True(t, set.Contains("tok-0987"))
	require.Empty(t, out.String())
}

func firstKey(m map[string]string) string {
	for k := range m {
		if secret.IsName(k) {
			return k
		}
	}
	return ""
}
