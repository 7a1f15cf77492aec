package svc_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

const secretConf = `[DEFAULT]
nodes = n1

[env]
db_password = hunter2pw
db_password@n1 = hunter3pw
api_token = tok-0987
cert_secret = first-line
    second-line
user = visible-user

[container#01]
type = docker
run_image = registry.local/{env.api_token}/img
run_args = --net=none
    -e MYSQL_ROOT_PASSWORD={env.db_password}
    --env=APP_SECRET=abc123secret
    -e "X_TOKEN=quoted tok"
    -e MYSQL_USER={env.user} -e PLAIN=visible
    -v /srv/data:/var/lib/mysql
`

var secrets = []string{"hunter2pw", "hunter3pw", "tok-0987", "first-line", "second-line", "abc123secret", "quoted tok"}

func requireNoSecret(t *testing.T, text, what string) {
	t.Helper()
	for _, sec := range secrets {
		require.NotContains(t, text, sec, "%s shows a secret:\n%s", what, text)
	}
}

// TestRenderConfigRedacts checks print config: secret-named keys and
// -e/--env assignments of secret-named variables are masked, the layout
// and everything else kept; showSecrets gives the file as written.
func TestRenderConfigRedacts(t *testing.T) {
	s := mustParse(t, secretConf, "n1", fake.Options{})
	out := s.RenderConfig(svc.RenderConfigOptions{})
	requireNoSecret(t, out, "print config")
	want := strings.NewReplacer(
		"db_password = hunter2pw", "db_password = xxxx",
		"db_password@n1 = hunter3pw", "db_password@n1 = xxxx",
		"api_token = tok-0987", "api_token = xxxx",
		"cert_secret = first-line\n    second-line\n", "cert_secret = xxxx\n",
		"--env=APP_SECRET=abc123secret", "--env=APP_SECRET=xxxx",
		`-e "X_TOKEN=quoted tok"`, `-e "X_TOKEN=xxxx"`,
		// The value of a secret variable is masked even when it is a
		// reference: the reader cannot tell.
		"-e MYSQL_ROOT_PASSWORD={env.db_password}", "-e MYSQL_ROOT_PASSWORD=xxxx",
	).Replace(secretConf)
	require.Equal(t, want, out)
	require.Contains(t, out, "-e MYSQL_USER={env.user} -e PLAIN=visible")
	require.Equal(t, secretConf, s.RenderConfig(svc.RenderConfigOptions{ShowSecrets: true}))

	seed, err := os.ReadFile("testdata/spdsvc01.conf")
	require.NoError(t, err)
	s, err = parse(t, string(seed), "spd02", fake.Options{})
	require.NoError(t, err)
	out = s.RenderConfig(svc.RenderConfigOptions{})
	require.NotContains(t, out, "s3cr3tPw")
	require.Equal(t, strings.Count(string(seed), "-e MYSQL_ROOT_PASSWORD=s3cr3tPw"), strings.Count(out, "-e MYSQL_ROOT_PASSWORD=xxxx"))
	require.Equal(t, strings.Count(string(seed), "\n"), strings.Count(out, "\n"), "layout kept")
	require.Equal(t, string(seed), s.RenderConfig(svc.RenderConfigOptions{ShowSecrets: true}))
}

// TestWriteConfig: WriteConfig writes what RenderConfig returns, by
// pieces (secrets masked in each), with or without the secrets, and
// stops at the first write error, which it returns.
func TestWriteConfig(t *testing.T) {
	seed, err := os.ReadFile("testdata/spdsvc01.conf")
	require.NoError(t, err)
	for _, conf := range []string{secretConf, string(seed)} {
		node := "n1"
		if conf != secretConf {
			node = "spd02"
		}
		s, err := parse(t, conf, node, fake.Options{})
		require.NoError(t, err)
		for _, show := range []bool{false, true} {
			opts := svc.RenderConfigOptions{ShowSecrets: show}
			w := &countingWriter{}
			require.NoError(t, s.WriteConfig(w, opts))
			require.Equal(t, s.RenderConfig(opts), w.b.String())
			if !show {
				requireNoSecret(t, w.b.String(), "WriteConfig")
				require.LessOrEqual(t, w.writes, len(conf)/(32<<10)+1, "written through a buffer, not by lines")
			}
			failing := &countingWriter{failAfter: 1}
			require.ErrorIs(t, s.WriteConfig(failing, opts), errWriteFailed)
			require.Equal(t, 1, failing.writes, "no write after the first error")
		}
	}
}

var errWriteFailed = errors.New("disk full")

type countingWriter struct {
	b         strings.Builder
	writes    int
	failAfter int // fail from this write on (1: the first); 0 never
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.failAfter > 0 && w.writes >= w.failAfter {
		return 0, errWriteFailed
	}
	return w.b.Write(p)
}

// TestSecretsNeverShown checks that status labels, status JSON, action
// errors, steps and results never hold a secret, even when a driver's
// error quotes it.
func TestSecretsNeverShown(t *testing.T) {
	ctx := t.Context()
	s := mustParse(t, secretConf, "n1", fake.Options{Faults: []fake.Fault{
		{RID: "container#01", Action: "start", Nth: 1, Message: "pull registry.local/tok-0987/img: denied for hunter3pw"},
		{RID: "container#01", Action: "status", Nth: 1, Message: "inspect with password hunter3pw failed"},
	}})
	rep := s.Status(ctx)
	tree := rep.Render(svc.StatusOptions{ShowDisabled: true})
	requireNoSecret(t, tree, "status")
	require.Contains(t, tree, "@registry.local/xxxx/img")
	require.Contains(t, tree, "# container#01: status: inspect with password xxxx failed")
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	requireNoSecret(t, string(b), "status json")

	res, err := s.Start(ctx, svc.ActionOptions{})
	require.Error(t, err)
	requireNoSecret(t, err.Error(), "start error")
	require.Contains(t, err.Error(), "pull registry.local/xxxx/img: denied for xxxx")
	require.ErrorIs(t, err, fake.ErrInjected, "redaction keeps the error chain")
	var aerr *svc.ActionError
	require.ErrorAs(t, err, &aerr)
	requireNoSecret(t, aerr.Error(), "action error")
	b, err = json.Marshal(res)
	require.NoError(t, err)
	requireNoSecret(t, string(b), "result json")
}

// TestSecretFlow follows secrets through references, scopes and names
// the old lists missed, into every output: print config, validation
// problems, syntax errors, status JSON, action results and logs.
func TestSecretFlow(t *testing.T) {
	const base = `[DEFAULT]
nodes = n1

[env]
dbpw = s3cretFromEnv
db_password = hunter2
chain = {env.dbpw}
plain = visible-value

[container#01]
type = docker
run_image = img
`
	for _, tc := range []struct {
		name    string
		conf    string
		secrets []string // must show nowhere
		shown   []string // must still show in print config
		problem string   // a validation problem expected, redacted
	}{
		{name: "env value through a -e reference",
			conf:    base + "run_args = --net=none -e MYSQL_PASSWORD={env.dbpw}\n",
			secrets: []string{"s3cretFromEnv"}, shown: []string{"dbpw = xxxx", "-e MYSQL_PASSWORD=xxxx", "plain = visible-value"}},
		{name: "through an env chain",
			conf:    base + "run_args = -e APP_TOKEN={env.chain}\n",
			secrets: []string{"s3cretFromEnv"}, shown: []string{"chain = {env.dbpw}", "dbpw = xxxx"}},
		{name: "names the old lists missed",
			conf: base + `run_args = -e MYSQL_PWD=pwdValue1 -e DB_PASS=passValue2
    --env=AWS_CREDENTIALS=credValue3 -e SSH_KEY=keyValue4 -e MONKEY=banana
`,
			secrets: []string{"pwdValue1", "passValue2", "credValue3", "keyValue4"}, shown: []string{"-e MONKEY=banana"}},
		{name: "secret in a validation error",
			conf:    base + "stop_timeout = {env.db_password}\n",
			secrets: []string{"hunter2"}, problem: `stop_timeout: bad value: "xxxx" is not a duration`},
		{name: "short secret through a chain in a validation error",
			conf:    strings.Replace(base, "dbpw = s3cretFromEnv", "dbpw = ab1", 1) + "run_args = -e MYSQL_PASSWORD={env.dbpw}\nstart_timeout = {env.chain}\n",
			secrets: []string{"ab1"}, problem: `start_timeout: bad value: "xxxx"`},
		{name: "syntax error quoting a secret line",
			conf:    strings.Replace(base, "[env]\n", "[env]\nmysql_password synt4xSecret\n", 1),
			secrets: []string{"synt4xSecret"}, problem: "syntax error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			ctx := resource.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)))
			s, err := parse(t, tc.conf, "n1", fake.Options{Faults: []fake.Fault{
				{RID: "container#01", Action: "start", Nth: 1, Message: "denied for s3cretFromEnv keyValue4 pwdValue1"},
			}})
			if tc.problem != "" {
				require.ErrorContains(t, err, tc.problem)
				for _, sec := range tc.secrets {
					require.NotContains(t, err.Error(), sec)
				}
				return
			}
			require.NoError(t, err)
			for _, sec := range tc.secrets {
				require.Contains(t, svc.SecretsOf(s), sec)
			}
			shown := []string{s.RenderConfig(svc.RenderConfigOptions{})}
			for _, w := range tc.shown {
				require.Contains(t, shown[0], w)
			}
			rep := s.Status(ctx)
			b, err := json.Marshal(rep)
			require.NoError(t, err)
			shown = append(shown, string(b), rep.Render(svc.StatusOptions{ShowDisabled: true}))
			res, startErr := s.Start(ctx, svc.ActionOptions{})
			require.Error(t, startErr)
			require.Contains(t, startErr.Error(), "denied for")
			b, err = json.Marshal(res)
			require.NoError(t, err)
			shown = append(shown, startErr.Error(), string(b), logs.String())
			for _, text := range shown {
				for _, sec := range tc.secrets {
					require.NotContains(t, text, sec)
				}
			}
		})
	}
}
