package svc

import (
	"regexp"
	"sort"
	"strings"

	"github.com/google/shlex"
)

// Redacted replaces a secret in every output.
const Redacted = "xxxx"

var (
	secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|private_?key)`)
	// envAssign finds "-e NAME=value", "--env NAME=value", "--env=NAME=value"
	// with an optional opening quote, in commands written in configs.
	envAssign = regexp.MustCompile(`((?:^|\s)(?:-e|--env)(?:\s+|=)(['"]?)([A-Za-z_][A-Za-z0-9_]*)=)`)
)

// IsSecretName tells whether a keyword or environment variable name holds
// a secret (password, secret, token, api key).
func IsSecretName(name string) bool { return secretName.MatchString(name) }

// findSecrets collects the secret values of a configuration: values of
// keywords named like secrets, and values of secret environment variables
// given to containers with -e/--env.
func findSecrets(rc *rawConfig) []string {
	set := map[string]bool{}
	for _, sec := range rc.Sections {
		for _, k := range sec.Keys {
			if IsSecretName(k.Name) && k.Value != "" {
				set[k.Value] = true
			}
			if !strings.Contains(k.Value, "-e") && !strings.Contains(k.Value, "--env") {
				continue
			}
			words, err := shlex.Split(k.Value)
			if err != nil {
				continue
			}
			for i, w := range words {
				var assign string
				switch {
				case (w == "-e" || w == "--env") && i+1 < len(words):
					assign = words[i+1]
				case strings.HasPrefix(w, "--env="):
					assign = strings.TrimPrefix(w, "--env=")
				case strings.HasPrefix(w, "-e") && len(w) > 2 && strings.Contains(w, "="):
					assign = w[2:]
				default:
					continue
				}
				if name, val, ok := strings.Cut(assign, "="); ok && IsSecretName(name) && val != "" {
					set[val] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// Redact replaces every secret value of the service's configuration found
// in text. Callers pass every log line and error through it.
func (s *Service) Redact(text string) string {
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, Redacted)
	}
	return text
}

// RenderConfig returns the configuration text as written, with secret
// values replaced unless showSecrets.
func (s *Service) RenderConfig(showSecrets bool) string {
	text := string(s.data)
	if showSecrets {
		return text
	}
	return redactConfigText(text, s.secrets)
}

// redactConfigText redacts a configuration text line by line, keeping its
// layout: values of secret-named keywords, -e NAME=value of secret-named
// variables, and any other occurrence of a known secret value.
func redactConfigText(text string, secrets []string) string {
	lines := strings.Split(text, "\n")
	kept := lines[:0]
	inSecret := false
	for _, line := range lines {
		indented := line != "" && (line[0] == ' ' || line[0] == '\t')
		if !indented {
			inSecret = false
			if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				name, _, _ := strings.Cut(strings.TrimSpace(k), "@")
				if IsSecretName(name) {
					kept = append(kept, k+"= "+Redacted)
					inSecret = true
					continue
				}
			}
		} else if inSecret {
			// The continuation lines of a secret value go with it.
			continue
		}
		kept = append(kept, redactEnvAssignments(line))
	}
	out := strings.Join(kept, "\n")
	for _, v := range secrets {
		out = strings.ReplaceAll(out, v, Redacted)
	}
	return out
}

func redactEnvAssignments(line string) string {
	locs := envAssign.FindAllStringSubmatchIndex(line, -1)
	if locs == nil {
		return line
	}
	var b strings.Builder
	last := 0
	for _, m := range locs {
		name := line[m[6]:m[7]]
		if !IsSecretName(name) {
			continue
		}
		quote := line[m[4]:m[5]]
		b.WriteString(line[last:m[1]])
		end := m[1]
		for end < len(line) {
			c := line[end]
			if (quote != "" && string(c) == quote) || (quote == "" && (c == ' ' || c == '\t')) {
				break
			}
			end++
		}
		b.WriteString(Redacted)
		last = end
	}
	b.WriteString(line[last:])
	return b.String()
}
