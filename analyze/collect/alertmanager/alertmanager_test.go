package alertmanager_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/alertmanager"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// The testdata bodies were recorded from Debian's Alertmanager 0.25 of the closed-loop test.
func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeAlertmanager answers /api/v2/status and /api/v2/silences with the given bodies (a nil
// body is a 404, as for a path the server does not have).
func fakeAlertmanager(t *testing.T, status, silences []byte) string {
	t.Helper()
	srv := httptest.NewServer(servers.AlertmanagerAPI(status, silences))
	t.Cleanup(srv.Close)
	return srv.URL
}

func collect(t *testing.T, url string) (*analyze.Inventory, analyze.Source) {
	t.Helper()
	responses, err := alertmanager.Fetch(context.Background(), httpconfig.Options{URL: url, Attempts: 1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := analyze.NewBuilder(time.Date(2026, 11, 26, 6, 20, 0, 0, time.UTC))
	src := alertmanager.Collect(responses, analyze.Source{Name: "alertmanager", Kind: "live", URL: url}, b)
	return b.Build(), src
}

func TestCollect(t *testing.T) {
	t.Parallel()

	t.Run("A real Alertmanager's status and silences become its parsed configuration and silences.", func(t *testing.T) {
		t.Parallel()
		url := fakeAlertmanager(t, recorded(t, "status.json"), recorded(t, "silences.json"))
		inv, src := collect(t, url)
		if !src.OK() || !inv.Has(analyze.PartAlertmanagerConfig) || !inv.Has(analyze.PartSilences) {
			t.Fatalf("errors %+v, parts %v", src.Errors, inv.Parts)
		}
		cfg := inv.Alerting.Config
		if cfg == nil || cfg.Route.Receiver != "blackhole" || len(cfg.Receivers) != 4 || len(cfg.Route.Routes) != 4 {
			t.Errorf("config %+v", cfg)
		}
		if inv.Alerting.Version != "0.25.0" || inv.Alerting.Cluster != "disabled" || inv.Alerting.ConfigURL != url {
			t.Errorf("version %q, cluster %q, url %q", inv.Alerting.Version, inv.Alerting.Cluster, inv.Alerting.ConfigURL)
		}
		s := inv.Alerting.Silences
		if len(s) != 1 || s[0].State != "active" || s[0].CreatedBy != "blindspot-test" ||
			len(s[0].Matchers) != 1 || s[0].Matchers[0] != (analyze.SilenceMatcher{Name: "alertname", Value: "SilencedDown", IsEqual: true}) ||
			s[0].EndsAt.Sub(s[0].StartsAt).Round(time.Hour) != 30*24*time.Hour {
			t.Errorf("silences %+v", s)
		}
	})

	t.Run("A configuration text Alertmanager's loader refuses is an error naming the part; the silences are still read.", func(t *testing.T) {
		t.Parallel()
		var st map[string]any
		if err := json.Unmarshal(recorded(t, "status.json"), &st); err != nil {
			t.Fatal(err)
		}
		st["config"] = map[string]any{"original": "route:\n  receiver: nobody\nreceivers: []\n"}
		bad, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		inv, src := collect(t, fakeAlertmanager(t, bad, recorded(t, "silences.json")))
		if len(src.Errors) != 1 || src.Errors[0].Part != analyze.PartAlertmanagerConfig ||
			!strings.Contains(src.Errors[0].Err, "parsing the loaded configuration") || !strings.Contains(src.Errors[0].Err, "nobody") {
			t.Errorf("errors %+v", src.Errors)
		}
		if inv.Has(analyze.PartAlertmanagerConfig) || !inv.Has(analyze.PartSilences) || inv.Alerting.Config != nil {
			t.Errorf("parts %v", inv.Parts)
		}
	})

	t.Run("An answer that is not the documented JSON is an error for its part.", func(t *testing.T) {
		t.Parallel()
		inv, src := collect(t, fakeAlertmanager(t, recorded(t, "status.json"), []byte(`{"silences":`)))
		if len(src.Errors) != 1 || src.Errors[0].Part != analyze.PartSilences || !inv.Has(analyze.PartAlertmanagerConfig) {
			t.Errorf("errors %+v, parts %v", src.Errors, inv.Parts)
		}
	})

	t.Run("A server that is not an Alertmanager (404) fails both parts with the status.", func(t *testing.T) {
		t.Parallel()
		_, src := collect(t, fakeAlertmanager(t, nil, nil))
		if len(src.Errors) != 2 || !strings.Contains(src.Errors[0].Err, "HTTP 404") {
			t.Errorf("errors %+v", src.Errors)
		}
	})

	t.Run("An Alertmanager that is down fails both parts with the connection error.", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		inv, src := collect(t, url)
		if len(src.Errors) != 2 || !strings.Contains(src.Errors[0].Err, "connection refused") || len(inv.Parts) != 0 {
			t.Errorf("errors %+v, parts %v", src.Errors, inv.Parts)
		}
	})
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	for push, want := range map[string]string{
		"http://127.0.0.1:9093/api/v2/alerts":         "http://127.0.0.1:9093",
		"https://am.example.com/prefix/api/v1/alerts": "https://am.example.com/prefix",
		"http://am:9093": "http://am:9093",
	} {
		if got := alertmanager.BaseURL(push); got != want {
			t.Errorf("BaseURL(%q) = %q, want %q", push, got, want)
		}
	}
}
