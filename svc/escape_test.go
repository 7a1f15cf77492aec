package svc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/svc"
)

func TestEscapeControl(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain /srv/a é 日本", "plain /srv/a é 日本"},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"nul\x00", `nul\x00`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"rtl\u202eevil", `rtl\u202eevil`},
		{"\u00a0nbsp", `\u00a0nbsp`},
	} {
		require.Equal(t, tt.want, svc.EscapeControl(tt.in), "%q", tt.in)
	}
}

// TestProblemEscapesConfigText: whatever a config holds, a validation
// error prints no control character (section, keyword, value, syntax).
func TestProblemEscapesConfigText(t *testing.T) {
	for name, conf := range map[string]string{
		"section": "[DEFAULT]\nnodes = n1\n[\x1b]2;title\x07]\ntype = x\n",
		"keyword": "[DEFAULT]\nnodes = n1\nbo\x1b[2Jgus = 1\n",
		"value":   "[DEFAULT]\nnodes = n1\n[fs#01]\ntype = ext4\ndev = /dev/a\nmnt = /a\noptional = tr\x1b[31mue\n",
		"syntax":  "[DEFAULT]\nnodes = n1\n\x1b[31mno delimiter\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseLimited(t, t.Context(), []byte(conf))
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, `\x1b`)
			for _, r := range msg {
				if r < 0x20 && r != '\n' {
					t.Fatalf("control character %q in %q", r, msg)
				}
			}
			// The only newlines are the ones between problems.
			var ve *svc.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, max(0, len(ve.Problems)-1)+min(1, len(ve.Problems)-1), strings.Count(msg, "\n"))
		})
	}
}
