package svc_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"MYSQL_ROOT_PASSWORD": true, "db_password": true, "Passwd": true, "app_secret": true,
		"api_token": true, "API_KEY": true, "private_key": true,
		"MYSQL_USER": false, "names": false, "run_args": false, "tokenizer_mode": true,
	} {
		require.Equal(t, want, svc.IsSecretName(name), name)
	}
}

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
	out := s.RenderConfig(false)
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
	require.Equal(t, secretConf, s.RenderConfig(true))

	seed, err := os.ReadFile("testdata/spdsvc01.conf")
	require.NoError(t, err)
	s, err = parse(t, string(seed), "spd02", fake.Options{})
	require.NoError(t, err)
	out = s.RenderConfig(false)
	require.NotContains(t, out, "s3cr3tPw")
	require.Equal(t, strings.Count(string(seed), "-e MYSQL_ROOT_PASSWORD=s3cr3tPw"), strings.Count(out, "-e MYSQL_ROOT_PASSWORD=xxxx"))
	require.Equal(t, strings.Count(string(seed), "\n"), strings.Count(out, "\n"), "layout kept")
	require.Equal(t, string(seed), s.RenderConfig(true))
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
	tree := rep.Render(true)
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
