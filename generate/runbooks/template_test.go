package runbooks

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

func TestTemplate(t *testing.T) {
	t.Parallel()

	t.Run("A template asking for a key the data lacks fails instead of printing <no value>.", func(t *testing.T) {
		tmpl, err := newTemplate("t", "{{ .Name }} {{ .Nope }}")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		err = tmpl.Execute(&buf, map[string]any{"Name": "x"})
		if err == nil || !strings.Contains(err.Error(), "Nope") {
			t.Errorf("error %v, output %q", err, buf.String())
		}
	})

	t.Run("The runbook template fails when the data lacks a key it reads.", func(t *testing.T) {
		tmpl, err := runbookTemplate()
		if err != nil {
			t.Fatal(err)
		}
		a := generate.Alert{
			Name: "ShopTargetDown", Kind: generate.KindUp, Job: "shop", Expr: promqlbuild.Selector("up", "shop"),
			For: time.Minute, Runbook: "runbooks/ShopTargetDown.md",
		}
		data, err := dataOf(a, generate.DefaultOptions(generate.Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := tmpl.Execute(&bytes.Buffer{}, data); err != nil {
			t.Fatal(err)
		}
		for key := range data {
			partial := map[string]any{}
			for k, v := range data {
				if k != key {
					partial[k] = v
				}
			}
			// The up runbook does not read every key (Metric, Selectors, …); one it does
			// read must be named in the error.
			err := tmpl.Execute(&bytes.Buffer{}, partial)
			if err != nil && !strings.Contains(err.Error(), key) {
				t.Errorf("without %s: %v", key, err)
			}
		}
		delete(data, "Job")
		if err := tmpl.Execute(&bytes.Buffer{}, data); err == nil || !strings.Contains(err.Error(), "Job") {
			t.Errorf("without Job: %v", err)
		}
	})
}
