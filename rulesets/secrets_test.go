package rulesets

import (
	"slices"
	"strings"
	"testing"
)

func TestSecretPatterns(t *testing.T) {
	t.Parallel()

	ps, err := SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("The embedded patterns load in file order, vendors first, with the ids findings name.", func(t *testing.T) {
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		want := []string{
			"aws-access-key-id", "aws-secret-access-key", "github-token", "gitlab-token", "slack-token",
			"slack-webhook", "stripe-live-key", "google-api-key", "private-key", "jwt",
			"authorization-bearer", "authorization-basic", "password-assignment", "url-credentials",
		}
		if !slices.Equal(ids, want) {
			t.Errorf("ids %q, want %q", ids, want)
		}
	})

	t.Run("A pattern adapted from gitleaks names the file at a fixed commit, the MIT license and its copyright holder.", func(t *testing.T) {
		adapted := 0
		for _, p := range ps {
			if p.Origin.Name == "" {
				continue
			}
			adapted++
			o := p.Origin
			if o.Name != "gitleaks" || o.License != "MIT" || o.Attribution != "Copyright (c) 2019 Zachary Rice" ||
				o.Source != "https://github.com/gitleaks/gitleaks/blob/b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b/config/gitleaks.toml" {
				t.Errorf("%s: origin %+v", p.ID, o)
			}
			if len(p.Upstream) == 0 {
				t.Errorf("%s: no upstream rule named", p.ID)
			}
		}
		if adapted != 9 {
			t.Errorf("%d patterns adapted from gitleaks, want 9", adapted)
		}
		// The file itself carries the license text, which MIT asks of copies.
		for _, s := range []string{"Copyright (c) 2019 Zachary Rice", "Permission is hereby granted, free of charge", "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b"} {
			if !strings.Contains(string(secretsYAML), s) {
				t.Errorf("secrets.yaml does not say %q", s)
			}
		}
	})

	t.Run("Every regex captures the secret, in one group or in groups all named secret.", func(t *testing.T) {
		for _, p := range ps {
			names := p.Regex.SubexpNames()[1:]
			if len(names) == 0 || len(names) > 1 && slices.ContainsFunc(names, func(n string) bool { return n != "secret" }) {
				t.Errorf("%s: groups %q", p.ID, names)
			}
		}
	})

	t.Run("The patterns are the caller's to change.", func(t *testing.T) {
		ps[0].Keywords[0] = "changed"
		ps[0].Positive[0] = "changed"
		again, err := SecretPatterns()
		if err != nil {
			t.Fatal(err)
		}
		if again[0].Keywords[0] == "changed" || again[0].Positive[0] == "changed" {
			t.Error("a caller's change reached the loaded patterns")
		}
	})
}

func TestSecretPatternValidation(t *testing.T) {
	t.Parallel()

	const valid = `
origins:
  - name: gitleaks
    source: https://github.com/gitleaks/gitleaks/blob/b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b/config/gitleaks.toml
    license: MIT
    attribution: Copyright (c) 2019 Zachary Rice
patterns:
  - id: aws-access-key-id
    description: AWS access key ID.
    origin: gitleaks
    upstream: [aws-access-token]
    regex: '\bAKIA([A-Z2-7]{16})\b'
    keywords: [akia]
    samples:
      positive: ['key=AKIAZ7FAKE2KEY3ABCDE']
      negative: ['key=AKIA']
  - id: password-assignment
    description: Passwords.
    regex: 'password=(?:"(?P<secret>[^"]+)"|(?P<secret>\S+))'
    keywords: [password]
    allow: ['^REDACTED$']
    hide_length: true
    samples:
      positive: ['password=FAKE']
      negative: ['password=']
`
	if ps, err := parseSecretPatterns([]byte(valid)); err != nil || len(ps) != 2 || !ps[1].HideLength || len(ps[1].Allow) != 1 {
		t.Fatalf("the valid file: %v, %+v", err, ps)
	}

	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"An unknown field is refused.", "    hide_length: true", "    hide_lenght: true", "field hide_lenght not found"},
		{"A regex that does not compile is refused.", `regex: '\bAKIA([A-Z2-7]{16})\b'`, `regex: '\bAKIA([A-Z2-7]{16}\b'`, "regex: error parsing regexp"},
		{"A regex without a capture group is refused.", `regex: '\bAKIA([A-Z2-7]{16})\b'`, `regex: '\bAKIA[A-Z2-7]{16}\b'`, "no capture group holds the secret"},
		{"Two unnamed capture groups are refused.", `regex: '\bAKIA([A-Z2-7]{16})\b'`, `regex: '\b(AKIA)([A-Z2-7]{16})\b'`, "every group must be named"},
		{"A group named otherwise than secret is refused.", `(?P<secret>\S+)`, `(?P<value>\S+)`, `capture group "value"`},
		{"An upper-case keyword is refused.", "keywords: [akia]", "keywords: [AKIA]", `keyword "AKIA" is not lower-case`},
		{"A pattern without keywords is refused.", "keywords: [akia]", "keywords: []", "no keywords"},
		{"A keyword listed twice is refused.", "keywords: [akia]", "keywords: [akia, akia]", "listed twice"},
		{"An allow expression that does not compile is refused.", "allow: ['^REDACTED$']", "allow: ['^(REDACTED$']", "allow: error parsing regexp"},
		{"An id that is not kebab-case is refused.", "id: password-assignment", "id: Password_Assignment", "not lower-case words joined by dashes"},
		{"An id listed twice is refused.", "id: password-assignment", "id: aws-access-key-id", `pattern "aws-access-key-id" is listed twice`},
		{"An origin not listed is refused.", "    origin: gitleaks", "    origin: trufflehog", `origin "trufflehog" is not listed`},
		{"An origin without upstream rules is refused.", "    upstream: [aws-access-token]\n", "", "origin and upstream go together"},
		{"An origin no pattern names is refused.", "    origin: gitleaks\n    upstream: [aws-access-token]\n", "", `origin "gitleaks" is named by no pattern`},
		{"An origin without license is refused.", "    license: MIT\n", "", "names no license"},
		{"A pattern without negative samples is refused.", "      negative: ['password=']\n", "", "samples need positive and negative lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(valid, tc.old, tc.new, 1)
			if doc == valid {
				t.Fatalf("%q is not in the valid file", tc.old)
			}
			_, err := parseSecretPatterns([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
