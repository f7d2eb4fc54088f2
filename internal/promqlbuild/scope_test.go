package promqlbuild

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestAddMatchers(t *testing.T) {
	t.Run("Every selector gets the labels it does not match on yet, in label order.", func(t *testing.T) {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(`sum(rate(http_requests_total{cluster="a"}[5m])) / absent(up)`)
		if err != nil {
			t.Fatal(err)
		}
		AddMatchers(e, map[string]string{"job": "api", "cluster": "b"})
		want := `sum(rate(http_requests_total{cluster="a",job="api"}[5m])) / absent(up{cluster="b",job="api"})`
		if e.String() != want {
			t.Errorf("got  %s\nwant %s", e, want)
		}
	})
}

func TestSeriesWith(t *testing.T) {
	t.Run("Labels are set on a series, replacing a value it had, and a UTF-8 name is printed as a matcher.", func(t *testing.T) {
		for in, want := range map[string]string{
			`up{job="x",instance="i"}`: `up{cluster="b",instance="i",job="api"}`,
			`{"my.metric"}`:            `{__name__="my.metric",cluster="b",job="api"}`,
		} {
			got, lbls, err := SeriesWith(in, map[string]string{"job": "api", "cluster": "b"})
			if err != nil || got != want || lbls.Get("cluster") != "b" {
				t.Errorf("%s: got %s (%v), want %s", in, got, err, want)
			}
		}
	})
	t.Run("A series that does not parse is an error naming it.", func(t *testing.T) {
		if _, _, err := SeriesWith(`up{`, nil); err == nil {
			t.Error("no error")
		}
	})
}
