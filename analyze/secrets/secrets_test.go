package secrets_test

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/rulesets"
)

func patterns(t testing.TB) []rulesets.SecretPattern {
	t.Helper()
	ps, err := rulesets.SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func patternByID(t testing.TB, ps []rulesets.SecretPattern, id string) rulesets.SecretPattern {
	t.Helper()
	i := slices.IndexFunc(ps, func(p rulesets.SecretPattern) bool { return p.ID == id })
	if i < 0 {
		t.Fatalf("no pattern %q", id)
	}
	return ps[i]
}

// hasKeyword reports whether line passes the line filter, that is holds a keyword of some
// pattern.
func hasKeyword(line string, ps []rulesets.SecretPattern) bool {
	lower := strings.ToLower(line)
	return slices.ContainsFunc(ps, func(p rulesets.SecretPattern) bool {
		return slices.ContainsFunc(p.Keywords, func(k string) bool { return strings.Contains(lower, k) })
	})
}

// stars is what Mask writes for a secret of p.
func stars(p rulesets.SecretPattern, secret string) string {
	if p.HideLength {
		return "****"
	}
	return strings.Repeat("*", len([]rune(secret)))
}

func TestSamples(t *testing.T) {
	t.Parallel()
	ps := patterns(t)

	t.Run("Every positive sample matches its pattern, and Mask removes the secret and keeps the rest of the line.", func(t *testing.T) {
		for _, p := range ps {
			for _, line := range p.Positive {
				ms := secrets.Scan(line, ps)
				own := slices.IndexFunc(ms, func(m secrets.Match) bool { return m.Pattern == p.ID })
				if own < 0 {
					t.Errorf("%s: positive sample not matched (matches: %v):\n  %s", p.ID, ms, line)
					continue
				}
				masked := secrets.Mask(line, ps)
				for _, m := range ms {
					if secret := line[m.Start:m.End]; secret != "" && strings.Contains(masked, secret) {
						t.Errorf("%s: the %s secret survives masking:\n  %s", p.ID, m.Pattern, masked)
					}
				}
				// Outside the secrets, the line is what it was.
				first, last := ms[0].Start, ms[0].End
				for _, m := range ms {
					last = max(last, m.End)
				}
				if !strings.HasPrefix(masked, line[:first]) || !strings.HasSuffix(masked, line[last:]) {
					t.Errorf("%s: masking changed the line outside its secrets:\n  %s\n  %s", p.ID, line, masked)
				}
				if len(ms) == 1 {
					m := ms[0]
					if want := line[:m.Start] + stars(p, line[m.Start:m.End]) + line[m.End:]; m.End > m.Start && masked != want {
						t.Errorf("%s: masked\n  %s\nwant\n  %s", p.ID, masked, want)
					}
				}
			}
		}
	})

	t.Run("Each match of a positive sample fills exactly one of its pattern's secret groups.", func(t *testing.T) {
		for _, p := range ps {
			for _, line := range p.Positive {
				for _, loc := range p.Regex.FindAllStringSubmatchIndex(line, -1) {
					filled := 0
					for g := 2; g < len(loc); g += 2 {
						if loc[g] >= 0 {
							filled++
						}
					}
					if filled != 1 {
						t.Errorf("%s: %d groups filled in\n  %s", p.ID, filled, line)
					}
				}
			}
		}
	})

	t.Run("No negative sample matches any pattern.", func(t *testing.T) {
		for _, p := range ps {
			for _, line := range p.Negative {
				if ms := secrets.Scan(line, ps); len(ms) > 0 {
					t.Errorf("%s: negative sample matched %v:\n  %s", p.ID, ms, line)
				}
			}
		}
	})

	t.Run("Every pattern has several positive and several negative samples.", func(t *testing.T) {
		for _, p := range ps {
			if len(p.Positive) < 2 || len(p.Negative) < 3 {
				t.Errorf("%s: %d positive, %d negative samples", p.ID, len(p.Positive), len(p.Negative))
			}
		}
	})

	t.Run("A masked line holds no secret any more: masking it again changes nothing.", func(t *testing.T) {
		for _, p := range ps {
			for _, line := range p.Positive {
				masked := secrets.Mask(line, ps)
				if again := secrets.Mask(masked, ps); again != masked {
					t.Errorf("%s: masking twice\n  %s\n  %s", p.ID, masked, again)
				}
			}
		}
	})
}

func TestMask(t *testing.T) {
	t.Parallel()
	ps := patterns(t)

	for _, tc := range []struct {
		name, line, want string
	}{
		{
			"An AWS access key id keeps its AKIA prefix and its length.",
			`msg="upload failed" access_key_id=AKIAZ7FAKE2KEY3ABCDE bucket=backups`,
			`msg="upload failed" access_key_id=AKIA**************** bucket=backups`,
		},
		{
			"A password becomes four asterisks, whatever its length.",
			`msg="login failed" user=bob password=FAKEcorrect-horse-battery-staple attempt=3`,
			`msg="login failed" user=bob password=**** attempt=3`,
		},
		{
			"A quoted JSON value is masked inside its quotes, so the line stays JSON.",
			`{"user":"bob","password":"FAKE with spaces \" and a quote","ok":false}`,
			`{"user":"bob","password":"****","ok":false}`,
		},
		{
			"Secrets overlapping across patterns are masked as one: a token in a URL's password.",
			`url=https://oauth2:glpat-FAKEtPKR0CsTy4Qwb8Dw@gitlab.example.com/app.git status=403`,
			`url=https://oauth2:****@gitlab.example.com/app.git status=403`,
		},
		{
			"Every secret of a line is masked, of whatever pattern.",
			`key=AKIAZ7FAKE2KEY3ABCDE then=ghp_FAKEu8jzPde0IgxLd6GncfBAepfJBd0Kh8oO then password=FAKE`,
			`key=AKIA**************** then=ghp_************************************ then password=****`,
		},
		{
			"A line without secrets is returned as it is.",
			`level=info ts=2024-05-01T10:00:00Z caller=main.go:1 msg="Server is ready to receive web requests."`,
			`level=info ts=2024-05-01T10:00:00Z caller=main.go:1 msg="Server is ready to receive web requests."`,
		},
		{
			"A placeholder the allow list knows is not a secret.",
			`password=REDACTED token=null key=AKIAIOSFODNN7EXAMPLE`,
			`password=REDACTED token=null key=AKIAIOSFODNN7EXAMPLE`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := secrets.Mask(tc.line, ps); got != tc.want {
				t.Errorf("Mask\n  %s\ngot\n  %s\nwant\n  %s", tc.line, got, tc.want)
			}
		})
	}

	t.Run("Keywords are found whatever their case, and a line without any keyword is not matched.", func(t *testing.T) {
		if ms := secrets.Scan(`PASSWORD=FAKEhunter2`, ps); len(ms) != 1 || ms[0].Pattern != "password-assignment" {
			t.Errorf("upper-case key: %v", ms)
		}
		// The regex alone would match; without the keyword the line is not looked at.
		p := patternByID(t, ps, "password-assignment")
		p.Keywords = []string{"no-such-keyword"}
		if ms := secrets.Scan(`password=FAKEhunter2`, []rulesets.SecretPattern{p}); len(ms) != 0 {
			t.Errorf("line without keyword matched: %v", ms)
		}
	})

	t.Run("Scan reports the secret's span, prefix excluded.", func(t *testing.T) {
		line := `id=AKIAZ7FAKE2KEY3ABCDE`
		want := []secrets.Match{{Pattern: "aws-access-key-id", Start: 7, End: 23}}
		if got := secrets.Scan(line, ps); !slices.Equal(got, want) {
			t.Errorf("Scan = %v, want %v", got, want)
		}
	})
}

func TestLineFilter(t *testing.T) {
	t.Parallel()
	ps := patterns(t)
	filter := secrets.LineFilter(ps)

	t.Run("The filter is a LogQL regex line filter whose string unquotes to a Go regular expression.", func(t *testing.T) {
		re := filterRegexp(t, filter)
		if !strings.HasPrefix(re.String(), "(?i)(") {
			t.Errorf("filter %s does not ignore case", filter)
		}
	})

	t.Run("Every keyword stays a case-insensitive literal of its own, which Loki 1.x tests as a substring correctly.", func(t *testing.T) {
		// Loki parses the filter as below and, for an alternation of literals, tests each as a
		// substring; a branch factored into a concatenation loses its (?i) there.
		re, err := syntax.Parse(filterRegexp(t, filter).String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		re = re.Simplify()
		if re.Op != syntax.OpAlternate {
			t.Fatalf("filter is %s, not an alternation", re.Op)
		}
		for _, sub := range re.Sub {
			if sub.Op != syntax.OpCapture || sub.Sub[0].Op != syntax.OpLiteral || sub.Sub[0].Flags&syntax.FoldCase == 0 {
				t.Errorf("branch %s is not a case-insensitive literal", sub)
			}
		}
	})

	t.Run("Every positive sample passes the filter, in upper case too.", func(t *testing.T) {
		re := filterRegexp(t, filter)
		for _, p := range ps {
			for _, line := range p.Positive {
				if !re.MatchString(line) || !re.MatchString(strings.ToUpper(line)) {
					t.Errorf("%s: sample does not pass %s:\n  %s", p.ID, filter, line)
				}
			}
		}
	})

	t.Run("Keywords with regular-expression syntax are quoted, and backslashes survive LogQL quoting.", func(t *testing.T) {
		if !strings.Contains(filter, `hooks\\.slack\\.com`) {
			t.Errorf("filter %s does not quote the dots of hooks.slack.com", filter)
		}
		re := filterRegexp(t, filter)
		if re.MatchString("hooksXslackXcom") {
			t.Error("a dot of a keyword matches any character")
		}
	})

	t.Run("Without patterns there is no filter.", func(t *testing.T) {
		if f := secrets.LineFilter(nil); f != "" {
			t.Errorf("LineFilter(nil) = %q", f)
		}
	})
}

// filterRegexp takes a line filter apart: `|~ "<Go-quoted regular expression>"`.
func filterRegexp(t testing.TB, filter string) *regexp.Regexp {
	t.Helper()
	quoted, ok := strings.CutPrefix(filter, "|~ ")
	if !ok {
		t.Fatalf("filter %q is not a |~ line filter", filter)
	}
	s, err := strconv.Unquote(quoted)
	if err != nil {
		t.Fatalf("filter %s: %v", filter, err)
	}
	re, err := regexp.Compile(s)
	if err != nil {
		t.Fatalf("filter %s: %v", filter, err)
	}
	return re
}

func TestClassify(t *testing.T) {
	t.Parallel()
	ps := patterns(t)

	t.Run("Lines are counted per pattern, once per line, with the first line masked as the example.", func(t *testing.T) {
		lines := []string{
			`level=info msg="ready"`,
			`level=warn msg="login failed" password=FAKEfirst password=FAKEsecond`,
			`level=warn msg="login failed" password=FAKEthird key=AKIAZ7FAKE2KEY3ABCDE`,
			`level=info msg="done"`,
		}
		got := secrets.Classify(lines, ps)
		want := map[string]secrets.PatternResult{
			"password-assignment": {Count: 2, Example: `level=warn msg="login failed" password=**** password=****`},
			"aws-access-key-id":   {Count: 1, Example: `level=warn msg="login failed" password=**** key=AKIA****************`},
		}
		if len(got) != len(want) {
			t.Errorf("Classify = %v, want %v", got, want)
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: %+v, want %+v", id, got[id], w)
			}
		}
	})

	t.Run("A long line's example is cut around the secret, which stays masked.", func(t *testing.T) {
		line := `level=error msg="request failed" trace="` + strings.Repeat("frame; ", 100) + `" password=FAKEhunter2 ` + strings.Repeat("é", 200)
		r := secrets.Classify([]string{line}, ps)["password-assignment"]
		if r.Count != 1 || !strings.Contains(r.Example, "password=****") || strings.Contains(r.Example, "FAKEhunter2") {
			t.Fatalf("result %+v", r)
		}
		trimmed := strings.TrimSuffix(strings.TrimPrefix(r.Example, "…"), "…")
		if len(trimmed) > secrets.MaxExample || !strings.HasPrefix(r.Example, "…") || !strings.HasSuffix(r.Example, "…") {
			t.Errorf("example of %d bytes: %q", len(trimmed), r.Example)
		}
		if !strings.ContainsRune(r.Example, 'é') || strings.ContainsRune(r.Example, '\uFFFD') {
			t.Errorf("example cut inside a character: %q", r.Example)
		}
	})

	t.Run("The example masks every occurrence of a secret value, not only the span the pattern matched.", func(t *testing.T) {
		line := `{"user":"ann","password":"S3cretPass!99","password_confirmation":"S3cretPass!99","note":"again S3cretPass!99"}`
		r := secrets.Classify([]string{line}, ps)["password-assignment"]
		if r.Count != 1 {
			t.Fatalf("result %+v", r)
		}
		if strings.Contains(r.Example, "S3cretPass") {
			t.Errorf("example keeps the secret: %s", r.Example)
		}
		want := `{"user":"ann","password":"****","password_confirmation":"****","note":"again ****"}`
		if r.Example != want {
			t.Errorf("example\n %s\nwant\n %s", r.Example, want)
		}
		// Mask, which agents reproduce byte for byte, still masks the matched span only.
		if m := secrets.Mask(line, ps); !strings.Contains(m, `"password_confirmation":"S3cretPass!99"`) {
			t.Errorf("Mask changed: %s", m)
		}
	})

	t.Run("Lines without secrets give an empty result.", func(t *testing.T) {
		if got := secrets.Classify([]string{"a", "token_count=5", "password="}, ps); len(got) != 0 {
			t.Errorf("Classify = %v", got)
		}
	})
}

// ordinaryLines are typical lines of the servers blindspot audits (Prometheus 2 and 3, Loki,
// Pushgateway), for the benchmark.
var ordinaryLines = []string{
	`ts=2024-05-01T10:00:00.123Z caller=main.go:1139 level=info msg="Loading configuration file" filename=/etc/prometheus/prometheus.yml`,
	`time=2024-05-01T10:00:00.123Z level=INFO source=manager.go:186 msg="Starting rule manager..." component="rule manager"`,
	`level=info ts=2024-05-01T10:00:00.123Z caller=head.go:644 component=tsdb msg="Replaying on-disk memory mappable chunks if any"`,
	`level=warn ts=2024-05-01T10:00:00.123Z caller=scrape.go:1684 component="scrape manager" scrape_pool=node target=http://10.0.0.1:9100/metrics msg="Error on ingesting samples that are too old or are too far into the future" num_dropped=1`,
	`level=info ts=2024-05-01T10:00:00.123Z caller=metrics.go:81 org_id=fake latency=fast query="{job=\"varlogs\"} |= \"error\"" query_type=filter range_type=range length=1h0m0s step=14s duration=12.3ms status=200 throughput=1.2MB total_bytes=15kB`,
	`level=debug ts=2024-05-01T10:00:00.123Z caller=logging.go:66 traceID=4f2a1b msg="POST /loki/api/v1/push (204) 1.234ms"`,
	`time=2024-05-01T10:00:00.123Z level=INFO source=main.go:88 msg="starting pushgateway" version="(version=1.9.0, branch=HEAD, revision=d1ca1a6a426126a09a21f745e8ffbaba550f9643)"`,
	`{"level":"info","ts":"2024-05-01T10:00:00.123Z","caller":"server/server.go:42","msg":"listening","address":"127.0.0.1:8080","tls":false}`,
}

// BenchmarkScan scans 10,000 lines, one in a hundred holding a secret.
func BenchmarkScan(b *testing.B) {
	ps := patterns(b)
	var positives []string
	for _, p := range ps {
		positives = append(positives, p.Positive...)
	}
	lines := make([]string, 10_000)
	for i := range lines {
		if i%100 == 0 {
			lines[i] = positives[(i/100)%len(positives)]
		} else {
			lines[i] = fmt.Sprintf("%s n=%d", ordinaryLines[i%len(ordinaryLines)], i)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, line := range lines {
			secrets.Scan(line, ps)
		}
	}
}
