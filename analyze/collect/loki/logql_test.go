package loki

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/internal/logql"
	"github.com/blindspot-dev/blindspot/rulesets"
)

func filterRegexp(t *testing.T, filter string) *regexp.Regexp {
	t.Helper()
	quoted, ok := strings.CutPrefix(filter, lineFilterPrefix)
	if !ok {
		t.Fatalf("filter %q is not a regular expression filter", filter)
	}
	re, err := strconv.Unquote(quoted)
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(re)
}

func TestPortableLineFilter(t *testing.T) {
	t.Parallel()

	t.Run("A case-insensitive alternation becomes character classes.", func(t *testing.T) {
		t.Parallel()
		got, err := portableLineFilter(`|~ "(?i)(passwd|password|token)"`)
		if err != nil {
			t.Fatal(err)
		}
		// Go's case folding: s also matches ſ (U+017F) and k the Kelvin sign (U+212A).
		if want := "|~ \"([Pp][Aa][Ss\u017f][Ss\u017f][Ww](?:[Dd]|[Oo][Rr][Dd])|[Tt][Oo][Kk\u212a][Ee][Nn])\""; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})

	t.Run("The rewritten secrets filter passes exactly the lines the original passes.", func(t *testing.T) {
		t.Parallel()
		patterns, err := rulesets.SecretPatterns()
		if err != nil {
			t.Fatal(err)
		}
		original := secrets.LineFilter(patterns)
		rewritten, err := portableLineFilter(original)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rewritten, "(?i") {
			t.Errorf("the rewritten filter is still case-insensitive: %s", rewritten)
		}
		before, after := filterRegexp(t, original), filterRegexp(t, rewritten)
		var lines []string
		for _, p := range patterns {
			lines = append(lines, p.Positive...)
			lines = append(lines, p.Negative...)
			for _, k := range p.Keywords {
				lines = append(lines, "x "+k+" y", strings.ToUpper(k), strings.ToUpper(k[:1])+k[1:])
			}
		}
		lines = append(lines, "GET /orders 200", "level=info msg=done")
		for _, l := range lines {
			if before.MatchString(l) != after.MatchString(l) {
				t.Errorf("%q: original filter %v, rewritten %v", l, before.MatchString(l), after.MatchString(l))
			}
		}
	})

	t.Run("A filter of another form is left alone.", func(t *testing.T) {
		t.Parallel()
		for _, f := range []string{"", `|= "password"`} {
			if got, err := portableLineFilter(f); err != nil || got != f {
				t.Errorf("portableLineFilter(%q) = %q, %v", f, got, err)
			}
		}
	})
}

func TestCountByStream(t *testing.T) {
	t.Parallel()
	got := countByStream([]string{"env", "job"}, logQuery(logql.HasLabel("job"), `|~ "x"`), 90*time.Minute)
	if want := `sum by (env, job) (count_over_time({job=~".+"} |~ "x" [5400s]))`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCover(t *testing.T) {
	t.Parallel()
	streams := []stream{
		{labels: map[string]string{"job": "api", "env": "prod"}},
		{labels: map[string]string{"job": "worker"}},
		{labels: map[string]string{"app": "legacy", "env": "prod"}},
	}
	// env and job are on two streams each: env wins by name, and job covers the worker.
	if got := cover(streams); !slices.Equal(got, []string{"env", "job"}) {
		t.Errorf("cover = %q, want env and job", got)
	}
}
