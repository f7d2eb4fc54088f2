package analyze

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity orders findings. The zero value is Info.
type Severity int

const (
	Info Severity = iota
	Warning
	Critical
)

var severityNames = []string{"info", "warning", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses "info", "warning" or "critical".
func ParseSeverity(s string) (Severity, error) {
	i := slices.Index(severityNames, strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return Info, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames, ", "))
	}
	return Severity(i), nil
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one gap a check found. Check and Subject identify it across runs; ID is derived
// from them (see FindingID) so that baselines can compare audits.
type Finding struct {
	ID       string            `json:"id"`
	Check    string            `json:"check"`
	Severity Severity          `json:"severity"`
	Subject  map[string]string `json:"subject"`
	Message  string            `json:"message"`
	Details  map[string]string `json:"details,omitempty"`
	// Fix says what `blindspot generate` writes to close the gap, when it can.
	Fix string `json:"fix,omitempty"`
	// Help is the path of the check's documentation page (docs/checks/…).
	Help string `json:"help,omitempty"`
	// File and Group locate the rule the finding is about, when there is one.
	File  string `json:"file,omitempty"`
	Group string `json:"group,omitempty"`
}

// NewFinding builds a finding with its ID filled in.
func NewFinding(check string, sev Severity, subject map[string]string, message string, details map[string]string) Finding {
	return Finding{
		ID:       FindingID(check, subject),
		Check:    check,
		Severity: sev,
		Subject:  subject,
		Message:  message,
		Details:  details,
	}
}

// FindingID is a stable fingerprint of a check and a subject: the first 16 hex digits of the
// SHA-256 of the check name and the subject's keys and values in key order, each
// length-prefixed so that no two different subjects can share an encoding.
func FindingID(check string, subject map[string]string) string {
	// One buffer hashed at once (on the stack for the usual small subject): a check may make
	// hundreds of thousands of findings.
	var stack [256]byte
	buf := appendIDField(stack[:0], check)
	var keyStack [8]string
	keys := keyStack[:0]
	for k := range subject {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		buf = appendIDField(buf, k)
		buf = appendIDField(buf, subject[k])
	}
	sum := sha256.Sum256(buf)
	// Only the 16 digits kept are encoded, so the ID holds no 64-digit string behind it.
	return hex.EncodeToString(sum[:8])
}

// appendIDField appends s length-prefixed, so that no two different subjects can share an
// encoding.
func appendIDField(buf []byte, s string) []byte {
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, ':')
	buf = append(buf, s...)
	return append(buf, ';')
}

// groupOf is what a finding is listed under: its job, or the scrape pool of a finding about
// a pool without targets (which names no job).
func groupOf(subject map[string]string) string {
	if j, ok := subject["job"]; ok {
		return j
	}
	return subject["scrape_pool"]
}

// SortFindings orders findings by job (or scrape pool), worst severity first, then check and the rest of the
// subject, so every output is deterministic and each job's worst gaps lead.
func SortFindings(fs []Finding) {
	// The group and subject keys are built once, not at every comparison, and the findings
	// (large structs) are not moved while sorting: a large audit has hundreds of thousands.
	type sortKey struct {
		group, subject string
		i              int
	}
	keys := make([]sortKey, len(fs))
	for i := range fs {
		keys[i] = sortKey{groupOf(fs[i].Subject), subjectKey(fs[i].Subject), i}
	}
	slices.SortStableFunc(keys, func(x, y sortKey) int {
		if c := strings.Compare(x.group, y.group); c != 0 {
			return c
		}
		a, b := &fs[x.i], &fs[y.i]
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := strings.Compare(a.Check, b.Check); c != 0 {
			return c
		}
		if c := strings.Compare(x.subject, y.subject); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	// Move the findings into place cycle by cycle, with one finding aside: position p takes
	// the finding at src[p]; a done position points to itself.
	src := make([]int, len(fs))
	for p, k := range keys {
		src[p] = k.i
	}
	for p := range fs {
		if src[p] == p {
			continue
		}
		aside := fs[p]
		q := p
		for src[q] != p {
			next := src[q]
			fs[q] = fs[next]
			src[q] = q
			q = next
		}
		fs[q] = aside
		src[q] = q
	}
}

func subjectKey(s map[string]string) string {
	keys := make([]string, 0, len(s))
	n := 0
	for k, v := range s {
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(s[k])
		b.WriteByte(0)
	}
	return b.String()
}
