package secret_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/resource/secret"
)

func TestIsName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"MYSQL_ROOT_PASSWORD", true}, {"db_password", true}, {"Passwd", true}, {"app_secret", true},
		{"api_token", true}, {"API_KEY", true}, {"apikey", true}, {"apiKey", true}, {"private_key", true},
		{"MYSQL_PWD", true}, {"DB_PASS", true}, {"db-pass", true}, {"AWS_CREDENTIALS", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", true}, {"SSH_KEY", true}, {"sshKey", true}, {"KEY_DATA", true},
		{"aws_secret_access_key", true}, {"OSVC_COMP_MYSQL_ROOT_PASSWORD", true}, {"--password", true},
		{"node.db_password", true}, {"node.uuid", true}, {"OSVC_COMP_NODES_UUID", true}, {"uuid", false}, {"fs.uuid", false}, {"REDIS_PW", true}, {"registry_creds", true}, {"tokenizer_mode", true},
		{"GPG_PASSPHRASE", true},
		// False positives the rule must avoid.
		{"MONKEY", false}, {"KEYBOARD", false}, {"PASSIVE", false}, {"COMPASS", false}, {"BYPASS_CACHE", false},
		{"key", false}, {"KEYS", false}, {"PWD", false}, {"OLDPWD", false}, {"MYSQL_USER", false},
		{"names", false}, {"run_args", false}, {"docker_daemon_private", false}, {"", false}, {"--", false},
		{"passage", false}, {"key-value", false}, {"KEY_NAME", false}, {"ssh_public_key", false}, {"TLS_KEY_FILE", false}, {"spwd", false}, {"keycloak_url", false},
	} {
		require.Equal(t, tc.want, secret.IsName(tc.name), tc.name)
	}
}

func TestRedactCommand(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"-e MYSQL_PASSWORD=s3cret -e USER=bob", "-e MYSQL_PASSWORD=xxxx -e USER=bob"},
		{"--env=APP_SECRET=abc --net=none", "--env=APP_SECRET=xxxx --net=none"},
		{"--env DB_PASS=abc", "--env DB_PASS=xxxx"},
		{"-eMYSQL_PWD=abc -d", "-eMYSQL_PWD=xxxx -d"},
		{`-e "X_TOKEN=quoted tok" -e PLAIN=1`, `-e "X_TOKEN=xxxx" -e PLAIN=1`},
		{`-e X_TOKEN='a b' x`, `-e X_TOKEN='xxxx' x`},
		{"MYSQL_PWD=pw mysql -u root", "MYSQL_PWD=xxxx mysql -u root"},
		{"db_password = hunter2 is here\nnext = 1", "db_password = xxxx\nnext = 1"},
		{`{"password": "p w", "user": "u"}`, `{"password": "xxxx", "user": "u"}`},
		{`{"api_token":123,"n":1}`, `{"api_token":xxxx,"n":1}`},
		{`msg="login token=abc failed" rid=x`, `msg="login token=xxxx failed" rid=x`},
		{"mytool --password hunter2 --verbose", "mytool --password xxxx --verbose"},
		{"mytool --no-password --verbose", "mytool --no-password --verbose"},
		{"https://h/x?token=abc&page=2 next", "https://h/x?token=xxxx next"},
		{"-e 'MYSQL_PASSWORD= lead' x", "-e 'MYSQL_PASSWORD=xxxx' x"},
		{"-e MYSQL_PASSWORD=semi;colon -e A=1", "-e MYSQL_PASSWORD=xxxx -e A=1"},
		{`-e MYSQL_PASSWORD=it\'s_\"quoted\" x`, `-e MYSQL_PASSWORD=xxxx x`},
		{`-e "MYSQL_PASSWORD=a \"b\" c" x`, `-e "MYSQL_PASSWORD=xxxx" x`},
		{"PASSWORD=\nPASSWORD= rest of line", "PASSWORD=\nPASSWORD= xxxx"},
		{"-e MONKEY=banana -e KEY=k -e passive=1", "-e MONKEY=banana -e KEY=k -e passive=1"},
		{"no assignment at all", "no assignment at all"},
	} {
		require.Equal(t, tc.want, secret.RedactCommand(tc.in), tc.in)
	}
}

func TestRedactArgs(t *testing.T) {
	in := []string{"-e", "MYSQL_PASSWORD=s3cret", "--env", "AWS_CREDENTIALS=c", "--env=SSH_KEY=k", "-eDB_PASS=p",
		"-e", "TZ=UTC", "--password", "pw", "--name", "db", "-v", "/a:/b"}
	require.Equal(t, []string{"-e", "MYSQL_PASSWORD=xxxx", "--env", "AWS_CREDENTIALS=xxxx", "--env=SSH_KEY=xxxx", "-eDB_PASS=xxxx",
		"-e", "TZ=UTC", "--password", "xxxx", "--name", "db", "-v", "/a:/b"}, secret.RedactArgs(in))
	require.Equal(t, "MYSQL_PASSWORD=s3cret", in[1], "the input is left alone")
}

func TestRedactEnv(t *testing.T) {
	require.Equal(t,
		[]string{"MYSQL_ROOT_PASSWORD=xxxx", "API_TOKEN=xxxx", "aws_secret_access_key=xxxx", "SSH_KEY=xxxx", "MYSQL_PWD=xxxx", "TZ=UTC", "NOVALUE", "PWD=/root"},
		secret.RedactEnv([]string{"MYSQL_ROOT_PASSWORD=s3cr3t", "API_TOKEN=t", "aws_secret_access_key=k", "SSH_KEY=x", "MYSQL_PWD=p", "TZ=UTC", "NOVALUE", "PWD=/root"}))
}

func TestAssignments(t *testing.T) {
	require.Equal(t, []string{"s3cret", "a b", "k"},
		secret.Assignments("--net=none -e MYSQL_PASSWORD=s3cret\n-e \"X_TOKEN=a b\" --env=SSH_KEY=k -e USER=u"))
	require.Empty(t, secret.Assignments("-e USER=u -e MONKEY=m"))
}

func TestSetRedact(t *testing.T) {
	var nilSet *secret.Set
	require.Equal(t, "x PASSWORD=xxxx abc", nilSet.Redact("x PASSWORD=abc abc"), "a nil set still masks by name")
	require.Nil(t, nilSet.Values())

	s := secret.NewSet("root", "abc", "", "long-s3cret-value", "s3cret")
	require.Equal(t, 4, s.Len(), "empty values are ignored")
	require.True(t, s.Contains("abc"))
	for _, tc := range []struct{ in, want string }{
		{"chroot /mnt", "chroot /mnt"}, // short secrets go as whole words only
		{"user=root, host root@h", "user=xxxx, host xxxx@h"},
		{"abc is short", "abc is short"},    // under MinLen: by value never
		{"PASSWORD=abc", "PASSWORD=xxxx"},   // by name always
		{"x long-s3cret-valuex", "x xxxxx"}, // long secrets go wherever they occur, longest first
		{"s3cret1 and s3cret", "s3cret1 and xxxx"},
		{"", ""},
	} {
		require.Equal(t, tc.want, s.Redact(tc.in), tc.in)
	}
	require.Equal(t, "", s.RedactError(nil))
	require.Equal(t, "denied for xxxx", s.RedactError(errors.New("denied for root")))
}

func TestSetConcurrent(t *testing.T) {
	s := secret.NewSet()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("secret-value-%d", i)
			s.Add(v)
			require.NotContains(t, s.Redact("x "+v+" y"), v)
		}()
	}
	wg.Wait()
	require.Equal(t, 8, s.Len())
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	set := secret.NewSet("hunter2pw")
	log := slog.New(secret.NewHandler(slog.NewTextHandler(&buf, nil), set)).With("dsn", "u:hunter2pw@db")
	log.Info("connecting with hunter2pw",
		"password", "short", "env", []string{"MYSQL_PWD=p", "TZ=UTC"},
		"error", errors.New("auth hunter2pw"), slog.Group("g", "api_token", "t", "n", 1), "cmd", "-e DB_PASS=x")
	set.Add("added-later")
	log.WithGroup("w").Warn("late", "v", "added-later")
	out := buf.String()
	for _, s := range []string{"hunter2pw", "short", "MYSQL_PWD=p", "g.api_token=t ", `DB_PASS=x"`, "added-later"} {
		require.NotContains(t, out, s)
	}
	for _, s := range []string{"dsn=u:xxxx@db", `msg="connecting with xxxx"`, "password=xxxx", `env="[MYSQL_PWD=xxxx TZ=UTC]"`,
		`error="auth xxxx"`, "g.api_token=xxxx", "g.n=1", `cmd="-e DB_PASS=xxxx"`, "w.v=xxxx"} {
		require.Contains(t, out, s)
	}
	require.True(t, strings.Count(out, "\n") == 2)
}
