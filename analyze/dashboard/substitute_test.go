package dashboard_test

import (
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/dashboard"
)

func TestSubstitute(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"$__rate_interval becomes a duration.", `rate(x[$__rate_interval])`, `rate(x[5m])`},
		{"$__interval and $__range become durations.", `avg_over_time(x[$__interval])[$__range:]`, `avg_over_time(x[5m])[5m:]`},
		{"${var:regex} becomes the placeholder naming it.", `x{job=~"${job:regex}"}`, `x{job=~"__var_job__"}`},
		{"[[var]] becomes the placeholder naming it.", `x{job="[[job]]"}`, `x{job="__var_job__"}`},
		{"$var becomes the placeholder naming it.", `x{job="$job"} > $threshold`, `x{job="__var_job__"} > __var_threshold__`},
		{"A name the placeholder cannot hold becomes the anonymous placeholder.", `x{a="${__data.x}",b="$_c",c="$d__e"}`, `x{a="__var__",b="__var__",c="__var__"}`},
		{"A user variable used as a range becomes a duration.", `rate(x[$interval]) offset $shift`, `rate(x[5m]) offset 5m`},
		{"${__range_s} becomes a number.", `x[${__range_s}s]`, `x[300s]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := dashboard.Substitute(c.in); got != c.want {
				t.Errorf("Substitute(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestVariablePlaceholders(t *testing.T) {
	s := dashboard.Substitute(`x{job=~"$job-${env}-[[__data.x]]"}`)
	if got := dashboard.VariablesIn(s); !slices.Equal(got, []string{"job", "env", ""}) {
		t.Errorf("variables of %q: %q", s, got)
	}
	got, ok := dashboard.ExpandVariables(s, func(name string) (string, bool) { return "<" + name + ">", name != "" })
	if got != `x{job=~"<job>-<env>-<>"}` || ok {
		t.Errorf("expanded %q %v", got, ok)
	}
	if dashboard.HasVariable(`x{job="api"}`) || !dashboard.HasVariable(dashboard.Placeholder) {
		t.Error("HasVariable")
	}
}
