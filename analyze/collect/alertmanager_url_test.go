package collect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

func TestReportedAlertmanagerURLs(t *testing.T) {
	for _, tc := range []struct {
		name, url string
	}{
		{"An Alertmanager URL with the unix scheme, as Prometheus reports it, is a source error and the audit goes on.", "unix:///run/alertmanager.sock/api/v2/alerts"},
		{"An Alertmanager URL without a host is a source error and the audit goes on.", "http:///api/v2/alerts"},
		{"An Alertmanager URL that does not parse is a source error and the audit goes on.", "http://[::1/api/v2/alerts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/alertmanagers" {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				// The documented answer, with the URL under test.
				json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
					"activeAlertmanagers":  []map[string]string{{"url": tc.url}},
					"droppedAlertmanagers": []any{},
				}})
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := collect.Run(ctx, collect.Options{Prometheus: &httpconfig.Options{URL: srv.URL, Attempts: 1}})
			if err != nil {
				t.Fatalf("err = %v, want a report with a source error", err)
			}
			var am *analyze.Source
			for i, s := range res.Inventory.Sources {
				if s.Name == "alertmanager" {
					am = &res.Inventory.Sources[i]
				}
			}
			if am == nil {
				t.Fatalf("sources %+v, want one for the Alertmanager", res.Inventory.Sources)
			}
			if len(am.Errors) != 2 {
				t.Fatalf("errors %+v, want one for each Alertmanager part", am.Errors)
			}
			for _, e := range am.Errors {
				if !strings.HasPrefix(e.Err, "the Alertmanager URL Prometheus reports cannot be read: ") {
					t.Errorf("error %+v, want it to say the reported URL cannot be read", e)
				}
			}
			if !res.Inventory.Has(analyze.PartAlertmanagers) {
				t.Error("the list of Alertmanagers was read but is not in the inventory")
			}
		})
	}
}
