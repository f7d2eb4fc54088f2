package servers

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestLoki(t *testing.T) {
	start := time.Now()
	l := StartLoki(t, Find(t).Loki)
	t.Logf("Loki ready in %s", time.Since(start).Round(time.Millisecond))

	now := time.Now()
	// Given newest first: Push must send them oldest first or Loki rejects the older ones.
	l.Push(t, LogStream{Labels: map[string]string{"job": "api"}, Entries: []LogEntry{
		{Time: now.Add(-time.Second), Line: "second"},
		{Time: now.Add(-2 * time.Second), Line: "first"},
	}})

	var got struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"result"`
	}
	params := url.Values{
		"query":     {`{job="api"}`},
		"start":     {now.Add(-time.Minute).Format(time.RFC3339Nano)},
		"end":       {now.Add(time.Minute).Format(time.RFC3339Nano)},
		"direction": {"forward"},
	}
	if err := getAPI(&http.Client{Timeout: 5 * time.Second}, l.URL, "/loki/api/v1/query_range?"+params.Encode(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ResultType != "streams" || len(got.Result) != 1 {
		t.Fatalf("result %+v", got)
	}
	var lines []string
	for _, v := range got.Result[0].Values {
		lines = append(lines, v[1])
	}
	if want := []string{"first", "second"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

func TestDefaultLokiIsInTheCache(t *testing.T) {
	t.Setenv("BLINDSPOT_CACHE", "/cache")
	if got, want := defaultLoki(), "/cache/loki-"+LokiVersion+"/loki"; got != want {
		t.Errorf("defaultLoki() = %q, want %q", got, want)
	}
}
