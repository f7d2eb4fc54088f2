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
	h := sha256.New()
	var buf []byte
	write := func(s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		buf = append(buf, ';')
		h.Write(buf)
	}
	write(check)
	keys := make([]string, 0, len(subject))
	for k := range subject {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		write(k)
		write(subject[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
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
	// The subject keys are built once, not at every comparison: a large audit has tens of
	// thousands of findings.
	keys := make(map[*Finding]string, len(fs))
	ptrs := make([]*Finding, len(fs))
	for i := range fs {
		ptrs[i] = &fs[i]
		keys[ptrs[i]] = subjectKey(fs[i].Subject)
	}
	slices.SortStableFunc(ptrs, func(a, b *Finding) int {
		if c := strings.Compare(groupOf(a.Subject), groupOf(b.Subject)); c != 0 {
			return c
		}
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := strings.Compare(a.Check, b.Check); c != 0 {
			return c
		}
		if c := strings.Compare(keys[a], keys[b]); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	sorted := make([]Finding, len(fs))
	for i, p := range ptrs {
		sorted[i] = *p
	}
	copy(fs, sorted)
}

func subjectKey(s map[string]string) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s\x00%s\x00", k, s[k])
	}
	return b.String()
}
