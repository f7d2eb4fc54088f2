package rules

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

// Rules formats (Options.RulesFormat).
const (
	FormatPrometheus = "prometheus"
	FormatOperator   = "prometheus-operator"
)

// Business modes (BusinessOptions.Mode).
const (
	ModeAbsolute = "absolute"
	ModeRelative = "relative"
)

// OptionError is an option that cannot be used. Option names it as its key below the
// `generate:` section of the configuration file, so that cmd can point at the line to fix:
//
//	up_for, absent_for, owner_label, owners[i].jobs, owners[i].team, runbook_base_url,
//	rules_format, operator.name_prefix, operator.namespace, operator.labels,
//	business.mode, business.window, business.threshold, business.ratio, business.for,
//	business.stale_after, kubernetes.labels, kubernetes.selector_label
//
// and grafana_url for Options.GrafanaURL, which comes from `grafana.url` instead.
type OptionError struct {
	Option  string
	Problem string
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Problem }

// maxRelativeSpan bounds window + for of relative alerts: within a week.
const maxRelativeSpan = 6 * 24 * time.Hour

// reservedLabels are the labels an owner label must not replace: the ones blindspot writes
// and the ones the alerts' expressions and Alertmanager routing rely on.
var reservedLabels = []string{"alertname", "generated_by", "instance", "job", "severity", model.MetricNameLabel}

// validateOptions checks options that DefaultOptions has filled in. It reports the first
// problem only: one clear line for the user.
// ValidateOptions checks the options Plan and Render would use (after DefaultOptions), so a
// caller can reject a bad configuration before it collects anything.
func ValidateOptions(o generate.Options) error { return validateOptions(generate.DefaultOptions(o)) }

func validateOptions(o generate.Options) error {
	bad := func(option, format string, args ...any) error {
		return &OptionError{Option: option, Problem: fmt.Sprintf(format, args...)}
	}
	durations := []struct {
		option string
		d      time.Duration
	}{
		{"up_for", o.UpFor},
		{"absent_for", o.AbsentFor},
		{"business.window", o.Business.Window},
		{"business.for", o.Business.For},
		{"business.stale_after", o.Business.StaleAfter},
	}
	for _, d := range durations {
		switch {
		case d.d <= 0:
			return bad(d.option, "%s is not positive", d.d)
		case d.d%time.Millisecond != 0:
			// Rule files and PromQL durations count whole milliseconds.
			return bad(d.option, "%s is not a whole number of milliseconds", d.d)
		}
	}

	b := o.Business
	switch b.Mode {
	case ModeAbsolute, ModeRelative:
	default:
		return bad("business.mode", "%q is neither %q nor %q", b.Mode, ModeAbsolute, ModeRelative)
	}
	if b.Window < time.Minute {
		return bad("business.window", "%s is shorter than 1m: a rate needs two scrapes in its window, and more for a stable one", b.Window)
	}
	if b.Mode == ModeRelative && b.Window+b.For > maxRelativeSpan {
		// The alert compares with a week earlier; its promtool test needs the week before
		// the drop to cover window and for.
		return bad("business.for", "with business.window, %s is longer than %s in relative mode",
			model.Duration(b.Window+b.For), model.Duration(maxRelativeSpan))
	}
	t := strconv.FormatFloat(b.Threshold, 'g', -1, 64)
	switch {
	case math.IsNaN(b.Threshold) || math.IsInf(b.Threshold, 0):
		return bad("business.threshold", "%s is not a finite number", t)
	case b.Threshold < 0:
		return bad("business.threshold", "%s is negative", t)
	}
	if !(b.Ratio > 0 && b.Ratio < 1) { // also rejects NaN
		return bad("business.ratio", "%s is not between 0 and 1 (exclusive)", strconv.FormatFloat(b.Ratio, 'g', -1, 64))
	}

	if !model.LegacyValidation.IsValidLabelName(o.OwnerLabel) {
		return bad("owner_label", "%q is not a valid label name", o.OwnerLabel)
	}
	if slices.Contains(reservedLabels, o.OwnerLabel) {
		return bad("owner_label", "%q would replace a label the alerts need", o.OwnerLabel)
	}
	for i, ow := range o.Owners {
		option := "owners[" + strconv.Itoa(i) + "]"
		if ow.Jobs == "" {
			return bad(option+".jobs", "is empty")
		}
		if _, err := path.Match(ow.Jobs, ""); err != nil {
			return bad(option+".jobs", "%q is not a valid glob: %v", ow.Jobs, err)
		}
		if ow.Team == "" {
			return bad(option+".team", "is empty")
		}
		if !model.LabelValue(ow.Team).IsValid() {
			return bad(option+".team", "%q is not valid UTF-8", ow.Team)
		}
	}

	if o.RunbookBaseURL != "" {
		if _, err := url.Parse(o.RunbookBaseURL); err != nil {
			return bad("runbook_base_url", "%q is not a URL", redact.URL(o.RunbookBaseURL))
		}
	}
	if o.GrafanaURL != "" {
		u, err := url.Parse(o.GrafanaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("grafana_url", "%q is not an http(s) URL", redact.URL(o.GrafanaURL))
		}
	}

	switch o.RulesFormat {
	case FormatPrometheus, FormatOperator:
	default:
		return bad("rules_format", "%q is neither %q nor %q", o.RulesFormat, FormatPrometheus, FormatOperator)
	}
	// The operator options are checked whatever the format: a configuration that is wrong
	// should not wait for the day the format changes to say so.
	op := o.Operator
	if !isDNSSubdomain(op.NamePrefix + "x") {
		return bad("operator.name_prefix", "%q cannot start a Kubernetes object name (lower-case letters, digits, '-' and '.')", op.NamePrefix)
	}
	if op.Namespace != "" && !isDNSLabel(op.Namespace) {
		return bad("operator.namespace", "%q is not a valid Kubernetes namespace", op.Namespace)
	}
	for _, k := range slices.Sorted(maps.Keys(op.Labels)) {
		if !isK8sLabelKey(k) {
			return bad("operator.labels", "%q is not a valid Kubernetes label key", k)
		}
		if !isK8sLabelValue(op.Labels[k]) {
			return bad("operator.labels", "the value %q of %s is not a valid Kubernetes label value", op.Labels[k], k)
		}
	}
	k8s := o.Kubernetes
	for _, k := range slices.Sorted(maps.Keys(k8s.Labels)) {
		if !isK8sLabelKey(k) {
			return bad("kubernetes.labels", "%q is not a valid Kubernetes label key", k)
		}
		if !isK8sLabelValue(k8s.Labels[k]) {
			return bad("kubernetes.labels", "the value %q of %s is not a valid Kubernetes label value", k8s.Labels[k], k)
		}
	}
	if !isK8sLabelKey(k8s.SelectorLabel) {
		return bad("kubernetes.selector_label", "%q is not a valid Kubernetes label key", k8s.SelectorLabel)
	}
	return nil
}

// The Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), written out here
// rather than importing apimachinery for four small functions.

// isDNSLabel: at most 63 lower-case letters, digits and '-', starting and ending with a
// letter or digit (RFC 1123).
func isDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// isDNSSubdomain: DNS labels joined by '.', at most 253 characters (RFC 1123).
func isDNSSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !isDNSLabel(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// isK8sLabelKey: an optional DNS subdomain prefix and '/', then a name.
func isK8sLabelKey(s string) bool {
	name := s
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			if !isDNSSubdomain(s[:i]) {
				return false
			}
			name = s[i+1:]
			break
		}
	}
	return name != "" && isK8sLabelValue(name)
}

// isK8sLabelValue: empty, or at most 63 letters, digits, '-', '_' and '.', starting and
// ending with a letter or digit.
func isK8sLabelValue(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' && c != '_' && c != '.' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}
