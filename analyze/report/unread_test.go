package report

import (
	"slices"
	"testing"
)

func TestUnreadNamesEverySourceNotReadCompletelyWithItsError(t *testing.T) {
	r := Report{Sources: []Source{
		{Name: "prometheus", URL: "http://p:9090", OK: true},
		{Name: "loki", URL: "http://l:3100", Error: "connection refused"},
		{Name: "grafana", URL: "http://g:3000", Error: "401 Unauthorized"},
	}}
	if got, want := r.Unread(), []string{"loki http://l:3100: connection refused", "grafana http://g:3000: 401 Unauthorized"}; !slices.Equal(got, want) {
		t.Errorf("Unread() = %q, want %q", got, want)
	}
	if got := (Report{Sources: r.Sources[:1]}).Unread(); got != nil {
		t.Errorf("a report read completely lists %q", got)
	}
}
