// Package secret holds the one rule that decides what svckit must never
// show: values of variables and keywords named like secrets (passwords,
// tokens, keys, credentials) and every value known to come from one. The
// service loader, the compliance engine and the drivers all redact
// through it, so that a name recognised in one place is recognised in
// every log line, error, diff, report and JSON output.
package secret

import (
	"strings"
	"unicode"
)

// Placeholder replaces a secret in every output.
const Placeholder = "xxxx"

// MinLen is the length under which a value is not redacted where it
// merely occurs in a text: masking every "abc" or "1" would destroy the
// output and tell a reader which short strings are secrets. Such a value
// is still masked where a secret-named key or variable assigns it.
const MinLen = 4

// anywhere are the words that make a name secret wherever they occur in
// it, "db_password", "MYSQL_ROOT_PASSWORD", "apiKey".
var anywhere = []string{"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PRIVATEKEY"}

// parts are the words that make a name secret only as a whole part of
// it (parts are split at "_", "-", ".", spaces and camelCase humps):
// DB_PASS, MYSQL_PWD, SSH_KEY, but not PASSIVE, COMPASS, MONKEY.
var parts = map[string]bool{"PASS": true, "PWD": true, "PW": true, "CREDS": true, "KEY": true}

// keyCompanions are parts beside which KEY names no secret: key_name,
// key-value, public_key, key_file (a path), key_id.
var keyCompanions = map[string]bool{"VALUE": true, "NAME": true, "ID": true, "PUBLIC": true, "PUB": true,
	"FILE": true, "PATH": true, "TYPE": true, "SIZE": true, "LEN": true, "LENGTH": true, "DIR": true}

// credentials are whole names whose words say nothing secret but whose
// value is a credential: node.uuid is the password of a node towards
// the collector (nodename:uuid), as in the reference; its environment
// name OSVC_COMP_NODES_UUID too.
var credentials = map[string]bool{"NODE.UUID": true, "NODES.UUID": true, "OSVC_COMP_NODES_UUID": true}

// notSecret are names that match a rule but are known to hold no
// secret: the shell's working directories.
var notSecret = map[string]bool{"PWD": true, "OLDPWD": true}

// IsName tells whether a keyword, variable or option name says that its
// value is a secret. Case does not matter; dashes before an option name
// are ignored. KEY counts only beside another part (SSH_KEY, KEY_DATA):
// a bare "key" names a sysctl or an INI option, not a secret; and not
// beside a part that says it is a name, a path or public (key_name,
// key-value, KEY_FILE, PUBLIC_KEY).
func IsName(name string) bool {
	name = strings.TrimLeft(name, "-")
	u := strings.ToUpper(name)
	if u == "" || notSecret[u] {
		return false
	}
	if credentials[u] {
		return true
	}
	for _, w := range anywhere {
		if strings.Contains(u, w) {
			return true
		}
	}
	ps := splitParts(name)
	for _, p := range ps {
		if parts[p] && (p != "KEY" || keyIsSecret(ps)) {
			return true
		}
	}
	return false
}

func keyIsSecret(ps []string) bool {
	if len(ps) < 2 {
		return false
	}
	for _, p := range ps {
		if keyCompanions[p] {
			return false
		}
	}
	return true
}

// splitParts splits a name into upper-cased parts at non-alphanumeric
// characters and at lower-to-upper case changes (sshKey).
func splitParts(name string) []string {
	var out []string
	start := -1
	prevLower := false
	flush := func(end int) {
		if start >= 0 && end > start {
			out = append(out, strings.ToUpper(name[start:end]))
		}
		start = -1
	}
	for i, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			prevLower = false
			continue
		}
		if unicode.IsUpper(r) && prevLower {
			flush(i)
		}
		if start < 0 {
			start = i
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush(len(name))
	return out
}
