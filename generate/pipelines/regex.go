package pipelines

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/rulesets"
)

// secretName is the name a pattern gives its capture groups when it has several (rulesets).
const secretName = "secret"

// captureSecretOnly returns the pattern's regular expression in the form the replace stages
// of Alloy and Promtail want: every capture group is the secret, and none has a name. A named
// group would also be copied into the stage's extracted map, keeping the secret around for
// later stages. A pattern whose one group is unnamed is returned as written, for readability.
func captureSecretOnly(p rulesets.SecretPattern) (string, error) {
	re, err := parse(p)
	if err != nil {
		return "", err
	}
	names := p.Regex.SubexpNames()[1:]
	if len(names) == 1 && names[0] == "" {
		return p.Regex.String(), nil
	}
	var walk func(*syntax.Regexp)
	walk = func(n *syntax.Regexp) {
		if n.Op == syntax.OpCapture {
			n.Name = ""
		}
		for _, s := range n.Sub {
			walk(s)
		}
	}
	walk(re)
	return re.String(), nil
}

// parse parses the pattern's regular expression as Go's regexp does and checks that its
// capture groups are what the rewrites rely on: all of them hold the secret.
func parse(p rulesets.SecretPattern) (*syntax.Regexp, error) {
	re, err := syntax.Parse(p.Regex.String(), syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("pattern %s: parsing its regular expression: %w", p.ID, err)
	}
	names := p.Regex.SubexpNames()[1:]
	for _, n := range names {
		if n != secretName && (n != "" || len(names) > 1) {
			return nil, fmt.Errorf("pattern %s: capture group %q does not hold the secret", p.ID, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("pattern %s: no capture group holds the secret", p.ID)
	}
	return re, nil
}

// template is a pattern rewritten for engines that can only replace a whole match, with
// references to groups (Vector's VRL replace, OTTL's replace_pattern): Regex captures what the
// match holds before the secret and after it, and Replacement puts those back around the mask.
type template struct {
	Regex       string
	Replacement string
}

// errSecretRepeated is returned for a pattern whose secret sits inside a repetition: what
// surrounds each repeated secret cannot be captured by a fixed set of groups.
var errSecretRepeated = errors.New("the secret is inside a repetition")

// splitAroundSecret rewrites p so that the text of a match before the secret and after it is
// in capture groups, and the secret in none: (prefix)(?:secret)(suffix). Where the secret
// sits in alternatives, each alternative gets its own groups; a group whose alternative did not
// match expands to nothing, in Go and in Rust alike, so the replacement lists them all:
// ${1}${3}****${2}${4}.
func splitAroundSecret(p rulesets.SecretPattern, mask string) (template, error) {
	re, err := parse(p)
	if err != nil {
		return template{}, err
	}
	s := splitter{}
	out, pre, post, err := s.split(re)
	if err != nil {
		return template{}, fmt.Errorf("pattern %s: %w", p.ID, err)
	}
	var b strings.Builder
	for _, g := range pre {
		fmt.Fprintf(&b, "${%d}", g)
	}
	b.WriteString(mask)
	for _, g := range post {
		fmt.Fprintf(&b, "${%d}", g)
	}
	return template{Regex: out.String(), Replacement: b.String()}, nil
}

type splitter struct{ groups int }

// holdsSecret reports whether n has a capture group.
func holdsSecret(n *syntax.Regexp) bool {
	if n.Op == syntax.OpCapture {
		return true
	}
	for _, s := range n.Sub {
		if holdsSecret(s) {
			return true
		}
	}
	return false
}

// capture wraps n in a new capture group. Groups are numbered by their opening parenthesis,
// which is the order in which split creates them: left to right.
func (s *splitter) capture(n *syntax.Regexp) (*syntax.Regexp, int) {
	s.groups++
	return &syntax.Regexp{Op: syntax.OpCapture, Flags: n.Flags, Cap: s.groups, Sub: []*syntax.Regexp{n}}, s.groups
}

// uncapture returns a copy of n without capture groups (the secret's own group has no use).
func uncapture(n *syntax.Regexp) *syntax.Regexp {
	if n.Op == syntax.OpCapture {
		return uncapture(n.Sub[0])
	}
	c := *n
	c.Sub = make([]*syntax.Regexp, len(n.Sub))
	for i, sub := range n.Sub {
		c.Sub[i] = uncapture(sub)
	}
	c.Sub0 = [1]*syntax.Regexp{}
	return &c
}

// split rewrites n, which holds the secret, and returns the groups that capture what comes
// before it and after it, in order.
func (s *splitter) split(n *syntax.Regexp) (*syntax.Regexp, []int, []int, error) {
	switch n.Op {
	case syntax.OpCapture:
		return uncapture(n.Sub[0]), nil, nil, nil
	case syntax.OpConcat:
		i := -1
		for j, sub := range n.Sub {
			if holdsSecret(sub) {
				if i >= 0 {
					return nil, nil, nil, errors.New("the secret is captured twice in one match")
				}
				i = j
			}
		}
		var subs []*syntax.Regexp
		var pre, post []int
		if i > 0 {
			g, num := s.capture(concat(n.Flags, n.Sub[:i]))
			subs, pre = append(subs, g), append(pre, num)
		}
		mid, innerPre, innerPost, err := s.split(n.Sub[i])
		if err != nil {
			return nil, nil, nil, err
		}
		subs = append(subs, mid)
		pre = append(pre, innerPre...)
		post = append(post, innerPost...)
		if i < len(n.Sub)-1 {
			g, num := s.capture(concat(n.Flags, n.Sub[i+1:]))
			subs, post = append(subs, g), append(post, num)
		}
		return concat(n.Flags, subs), pre, post, nil
	case syntax.OpAlternate:
		var subs []*syntax.Regexp
		var pre, post []int
		for _, sub := range n.Sub {
			if !holdsSecret(sub) {
				// A match through this alternative would hold no secret, and the
				// replacement would insert the mask into the line.
				return nil, nil, nil, errors.New("an alternative holds no secret")
			}
			out, p, q, err := s.split(sub)
			if err != nil {
				return nil, nil, nil, err
			}
			subs = append(subs, out)
			pre, post = append(pre, p...), append(post, q...)
		}
		c := *n
		c.Sub, c.Sub0 = subs, [1]*syntax.Regexp{}
		return &c, pre, post, nil
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return nil, nil, nil, errSecretRepeated
	}
	return nil, nil, nil, fmt.Errorf("unexpected %v around the secret", n.Op)
}

func concat(flags syntax.Flags, subs []*syntax.Regexp) *syntax.Regexp {
	if len(subs) == 1 {
		return subs[0]
	}
	return &syntax.Regexp{Op: syntax.OpConcat, Flags: flags, Sub: subs}
}

// stageReplace is what a replace stage of Promtail or Alloy needs to mask a pattern exactly as
// analyze/secrets does: an expression whose only capture group is matched, and a template
// that turns the captured text into its masked form. Both engines execute the template for
// each match with the captured text as .Value, with their regexReplaceAll and
// regexReplaceAllLiteral functions (Go's ReplaceAllString and ReplaceAllLiteralString).
type stageReplace struct {
	Expression string
	Replace    string
}

// maskedRune matches one character, as utf8.RuneCountInString counts them: an invalid byte
// is one.
const maskedRune = `(?s).`

// replaceStageFor builds the replace stage of p.
//
// A pattern with one group captures the secret: the template leaves it when it is empty or
// allowed, and otherwise writes four asterisks, or one per character.
//
// A pattern whose secret sits in several groups (one per alternative) cannot be given to
// Promtail 1.x as is: its replace stage slices the line at every group, and a group that took
// no part in the match makes it panic. Its stage captures the whole match instead, and the
// template finds the secret by matching the pattern again, anchored to the match: once to
// read the secret, once to write what surrounds it around the mask.
func replaceStageFor(p rulesets.SecretPattern) (stageReplace, error) {
	re, err := parse(p)
	if err != nil {
		return stageReplace{}, err
	}
	allowed := ""
	if len(p.Allow) > 0 {
		// The allow list matches anywhere in the secret; anchored with any text around it,
		// the expression matches the whole secret exactly when one of them matches.
		var alts []string
		for _, a := range p.Allow {
			alts = append(alts, "(?:"+a.String()+")")
		}
		allowed = `\A(?s:.*?)(?:` + strings.Join(alts, "|") + `)(?s:.*)\z`
	}
	mask := func(secret string) string {
		if p.HideLength {
			return Mask
		}
		return fmt.Sprintf("{{ regexReplaceAllLiteral %s %s %q }}", templateString(maskedRune), secret, "*")
	}
	cond := func(secret string) string {
		if allowed == "" {
			return secret
		}
		return fmt.Sprintf("and %s (ne (regexReplaceAllLiteral %s %s \"\") \"\")", secret, templateString(allowed), secret)
	}
	if p.Regex.NumSubexp() == 1 {
		expr, err := captureSecretOnly(p)
		if err != nil {
			return stageReplace{}, err
		}
		return stageReplace{
			Expression: expr,
			Replace:    fmt.Sprintf("{{ if %s }}%s{{ else }}{{ .Value }}{{ end }}", cond(".Value"), mask(".Value")),
		}, nil
	}
	whole := &syntax.Regexp{Op: syntax.OpCapture, Cap: 1, Sub: []*syntax.Regexp{uncapture(re)}}
	anchored := func(n *syntax.Regexp) string {
		return `\A(?:` + n.String() + `)\z`
	}
	re = unname(re)
	var secretRefs strings.Builder
	for g := 1; g <= p.Regex.NumSubexp(); g++ {
		fmt.Fprintf(&secretRefs, "${%d}", g)
	}
	s := splitter{}
	split, pre, post, err := s.split(re)
	if err != nil {
		return stageReplace{}, fmt.Errorf("pattern %s: %w", p.ID, err)
	}
	refs := func(gs []int) string {
		var b strings.Builder
		for _, g := range gs {
			fmt.Fprintf(&b, "${%d}", g)
		}
		return b.String()
	}
	splitExpr := templateString(anchored(split))
	return stageReplace{
		Expression: whole.String(),
		Replace: fmt.Sprintf("{{ $secret := regexReplaceAll %s .Value %s }}"+
			"{{ if %s }}{{ regexReplaceAll %s .Value %s }}%s{{ regexReplaceAll %s .Value %s }}{{ else }}{{ .Value }}{{ end }}",
			templateString(anchored(re)), templateString(secretRefs.String()),
			cond("$secret"), splitExpr, templateString(refs(pre)), mask("$secret"), splitExpr, templateString(refs(post))),
	}, nil
}

// templateString is a Go template string literal: Go's quoting, which text/template reads.
func templateString(s string) string { return strconv.Quote(s) }

// unname returns a copy of n whose capture groups have no names.
func unname(n *syntax.Regexp) *syntax.Regexp {
	c := *n
	if c.Op == syntax.OpCapture {
		c.Name = ""
	}
	c.Sub = make([]*syntax.Regexp, len(n.Sub))
	for i, sub := range n.Sub {
		c.Sub[i] = unname(sub)
	}
	c.Sub0 = [1]*syntax.Regexp{}
	return &c
}
