package svc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// bombConfig is the 1.3 KB [env] whose references double at each
// level: l39 would expand to 2^39 bytes.
func bombConfig() []byte {
	var b strings.Builder
	b.WriteString("[DEFAULT]\nnodes = n1\n\n[env]\nl0 = x\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "l%d = {env.l%d}{env.l%d}\n", i, i-1, i-1)
	}
	b.WriteString("\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /srv/{env.l39}\n")
	return []byte(b.String())
}

func parseLimited(t *testing.T, ctx context.Context, conf []byte) (*svc.Service, error) {
	t.Helper()
	return svc.Parse(ctx, "lim.conf", conf, svc.Options{Node: "n1", Svcname: "lim", Registry: fake.Registry(fake.Options{}), Root: t.TempDir(), NoTriggers: true})
}

func requireLimitProblem(t *testing.T, err error, line int, section, keyword, msg string) {
	t.Helper()
	var ve *svc.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, p := range ve.Problems {
		if strings.Contains(p.Message, msg) {
			require.Equal(t, "lim.conf", p.File)
			require.Equal(t, line, p.Line, "%s", p)
			require.Equal(t, section, p.Section, "%s", p)
			require.Equal(t, keyword, p.Keyword, "%s", p)
			return
		}
	}
	require.Failf(t, "no such problem", "want %q in:\n%v", msg, err)
}

// TestLoadLimits crosses each documented limit of a load: each is a
// located problem, not memory or time.
func TestLoadLimits(t *testing.T) {
	t.Run("expansion bomb", func(t *testing.T) {
		_, err := parseLimited(t, t.Context(), bombConfig())
		// l20 (line 25) is 1 MiB: l1 to l20 together go over the
		// total allowed for a 1.3 KB file, which is the floor, 1 MiB.
		requireLimitProblem(t, err, 25, "env", "l20", "svc.ExpansionFactor")
		var ve *svc.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Problems, 1, "the limit, and no problem it would cause")
	})
	t.Run("value size", func(t *testing.T) {
		// 100 KB of text, 11 references to it: 1.1 MB for a 100 KB
		// file is within the total but not within one value.
		conf := "[DEFAULT]\nnodes = n1\n[env]\nbig = " + strings.Repeat("x", 100000) + "\nhuge = " + strings.Repeat("{env.big}", 11) + "\n"
		_, err := parseLimited(t, t.Context(), []byte(conf))
		requireLimitProblem(t, err, 5, "env", "huge", "svc.MaxValueSize")
	})
	t.Run("total expansion", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("[DEFAULT]\nnodes = n1\n\n[env]\na = " + strings.Repeat("x", 10000) + "\n")
		for i := range 200 {
			fmt.Fprintf(&b, "b%d = {env.a}\n", i)
		}
		_, err := parseLimited(t, t.Context(), []byte(b.String()))
		requireLimitProblem(t, err, 5+105, "env", "b104", "svc.ExpansionFactor")
	})
	t.Run("reference depth", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("[DEFAULT]\nnodes = n1\n\n[env]\n")
		for i := range 100 {
			fmt.Fprintf(&b, "l%d = {env.l%d}\n", i, i+1)
		}
		b.WriteString("l100 = x\n")
		_, err := parseLimited(t, t.Context(), []byte(b.String()))
		// l0 (line 5) resolves l1... l32 is the 33rd level.
		requireLimitProblem(t, err, 5+32, "env", "l32", "svc.MaxReferenceDepth")
		require.Equal(t, 1, strings.Count(err.Error(), "MaxReferenceDepth"), "reported once")
	})
	t.Run("long chain in order", func(t *testing.T) {
		// The 200,000-link chain: each key resolved once.
		var b strings.Builder
		b.WriteString("[DEFAULT]\nnodes = n1\n\n[env]\nl0 = x\n")
		for i := 1; i < 200000; i++ {
			fmt.Fprintf(&b, "l%d = {env.l%d}\n", i, i-1)
		}
		b.WriteString("[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /srv/{env.l199999}\n")
		s, err := parseLimited(t, t.Context(), []byte(b.String()))
		require.NoError(t, err)
		cfg, ok := s.Config("fs#01")
		require.True(t, ok)
		require.Equal(t, "/srv/x", cfg.Values["mnt"])
	})
	t.Run("file size", func(t *testing.T) {
		conf := []byte("[DEFAULT]\nnodes = n1\n# " + strings.Repeat("x", svc.MaxFileSize) + "\n")
		_, err := parseLimited(t, t.Context(), conf)
		requireLimitProblem(t, err, 0, "", "", "svc.MaxFileSize")
	})
	t.Run("problem count", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("[DEFAULT]\nnodes = n1\n")
		for i := range 3000 {
			fmt.Fprintf(&b, "[what%d]\n", i)
		}
		_, err := parseLimited(t, t.Context(), []byte(b.String()))
		var ve *svc.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Problems, svc.MaxProblems+1)
		require.Equal(t, "2000 more problems not listed (svc.MaxProblems is 1000)", ve.Problems[svc.MaxProblems].Message)
	})
}

// TestLoadCancelled: a load whose context is done stops and says so,
// instead of reading on.
func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, conf := range [][]byte{sectionsConfig(50000), bombConfig()} {
		_, err := parseLimited(t, ctx, conf)
		require.ErrorIs(t, err, context.Canceled)
	}
}

// TestEmptyConfig: a configuration without a keyword would replace a
// service with nothing: it is a problem.
func TestEmptyConfig(t *testing.T) {
	for name, conf := range map[string]string{
		"empty file":      "",
		"comments":        "# a config\n\n; nothing else\n   \n",
		"header only":     "[DEFAULT]\n",
		"byte-order mark": "\xef\xbb\xbf",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseLimited(t, t.Context(), []byte(conf))
			requireLimitProblem(t, err, 0, "", "", "empty configuration")
		})
	}
}

// BenchmarkExpansionBomb loads the expansion bomb (which drove
// memory to 24 GB): it fails in well under a second and 100 MB; the
// figures are ns/op, B/op and peak-heap-MB.
func BenchmarkExpansionBomb(b *testing.B) {
	conf := bombConfig()
	reg := fake.Registry(fake.Options{})
	opts := svc.Options{Node: "n1", Svcname: "lim", Registry: reg, Root: b.TempDir(), NoTriggers: true}
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		_, err := svc.Parse(b.Context(), "lim.conf", conf, opts)
		var ve *svc.ValidationError
		if !errors.As(err, &ve) {
			b.Fatalf("want a ValidationError, got %v", err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// TestLoadManyUnknownKeywords: 100,000 unknown keywords give MaxProblems
// problems and a count of the others, without a suggestion computed for
// each (the edit distance to every keyword).
func TestLoadManyUnknownKeywords(t *testing.T) {
	var b strings.Builder
	b.WriteString("[DEFAULT]\nnodes = n1\n")
	for i := range 100000 {
		fmt.Fprintf(&b, "nodez%d = x\n", i)
	}
	_, err := parseLimited(t, t.Context(), []byte(b.String()))
	var ve *svc.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, svc.MaxProblems+1)
	require.Contains(t, ve.Problems[0].Message, "unknown keyword nodez0")
	require.Equal(t, "99000 more problems not listed (svc.MaxProblems is 1000)", ve.Problems[svc.MaxProblems].Message)
}

// TestLoadCancelledMidway: a context cancelled while a large config loads
// (as SIGINT does in svcmgr) stops the load with the context's error.
func TestLoadCancelledMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	conf := sectionsConfig(50000)
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := parseLimited(t, ctx, conf)
	require.ErrorIs(t, err, context.Canceled)
}

// TestLoadEndlessFile: Load reads no more of a config than MaxFileSize
// allows, so a config that is /dev/zero (or a huge file) is a problem,
// not the memory filled.
func TestLoadEndlessFile(t *testing.T) {
	etc := filepath.Join(t.TempDir(), "etc")
	require.NoError(t, os.MkdirAll(etc, 0o755))
	path := filepath.Join(etc, "zero.conf")
	require.NoError(t, os.Symlink("/dev/zero", path))
	_, err := svc.Load(t.Context(), path, svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{})})
	var ve *svc.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Error(), "svc.MaxFileSize")
}

func TestDefaultRoot(t *testing.T) {
	for path, want := range map[string]string{
		"/srv/n1/etc/spd.conf":    "/srv/n1",
		"/etc/svckit/spd.conf":    "/etc/svckit",
		"/etc/spd.conf":           "/",
		"/tmp/x/../y/etc/a.conf":  "/tmp/y",
		"/home/me/configs/a.conf": "/home/me/configs",
	} {
		require.Equal(t, want, svc.DefaultRoot(path), path)
	}
}
