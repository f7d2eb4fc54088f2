// Package alertmanager reads an Alertmanager: the configuration it has loaded (through
// /api/v2/status) and its silences (/api/v2/silences). The raw answers are kept, so that a
// snapshot replays them through the same decoding; the loaded configuration is parsed with
// Alertmanager's own loader at this edge, so checks see the configuration Alertmanager sees.
package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"
	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// endpoints are the paths read, relative to the Alertmanager's base URL, in report order.
var endpoints = []struct {
	Part analyze.Part
	Path string
}{
	{analyze.PartAlertmanagerConfig, "/api/v2/status"},
	{analyze.PartSilences, "/api/v2/silences"},
}

// BaseURL turns the alert-push URL Prometheus reports for an Alertmanager
// (http://host:9093/api/v2/alerts) into the Alertmanager's base URL.
func BaseURL(pushURL string) string {
	for _, suffix := range []string{"/api/v2/alerts", "/api/v1/alerts"} {
		if s, ok := strings.CutSuffix(pushURL, suffix); ok {
			return s
		}
	}
	return pushURL
}

// Fetch reads every endpoint of a live Alertmanager with blindspot's transport for o and
// returns the raw answers (a transport failure is an answer with Error set).
func Fetch(ctx context.Context, o httpconfig.Options) ([]prometheus.Response, error) {
	rt, base, err := o.Endpoint()
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections()
	base.Path = strings.TrimSuffix(base.Path, "/")
	out := make([]prometheus.Response, 0, len(endpoints))
	for _, e := range endpoints {
		u := *base
		u.Path += e.Path
		out = append(out, get(ctx, client, &u, e.Part, e.Path))
	}
	return out, nil
}

// Unusable are the answers of an Alertmanager that could not be asked at all (its URL, as
// Prometheus reported it, is not one blindspot can read): err for every endpoint.
func Unusable(err error) []prometheus.Response {
	out := make([]prometheus.Response, 0, len(endpoints))
	for _, e := range endpoints {
		out = append(out, prometheus.Response{Part: e.Part, Path: e.Path, Error: err.Error()})
	}
	return out
}

func get(ctx context.Context, client *http.Client, u *url.URL, part analyze.Part, path string) prometheus.Response {
	r := prometheus.Response{Part: part, Path: path}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // the URL is the same for every part; the report says it once
		}
		r.Error = err.Error()
		return r
	}
	defer resp.Body.Close()
	// The transport bounds the answer (httpconfig: max_response_bytes) and fails past it.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.Error = fmt.Sprintf("reading the answer: %v", err)
		return r
	}
	r.Status, r.ContentType, r.Body = resp.StatusCode, resp.Header.Get("Content-Type"), body
	return r
}

// Collect decodes the answers of one Alertmanager (live or from a snapshot) into b and
// returns src with the errors filled in. It never fails as a whole.
func Collect(responses []prometheus.Response, src analyze.Source, b *analyze.Builder) analyze.Source {
	for _, e := range endpoints {
		i := slices.IndexFunc(responses, func(r prometheus.Response) bool { return r.Part == e.Part })
		if i < 0 {
			src.Errors = append(src.Errors, analyze.SourceError{Part: e.Part, Err: e.Path + " was not read"})
			continue
		}
		r := responses[i]
		var err error
		switch {
		case r.Error != "":
			err = errors.New(r.Error)
		case r.Status != http.StatusOK:
			err = fmt.Errorf("%s: HTTP %d%s", e.Path, r.Status, bodyDetail(r.Body))
		case e.Part == analyze.PartAlertmanagerConfig:
			src.Version, err = addStatus(b, r.Body, src.URL)
		case e.Part == analyze.PartSilences:
			err = addSilences(b, r.Body)
		}
		if err != nil {
			src.Errors = append(src.Errors, analyze.SourceError{Part: e.Part, Err: oneLine(err.Error())})
			continue
		}
		b.AddPart(e.Part)
	}
	b.AddSource(src)
	return src
}

// addStatus records the loaded configuration and returns the Alertmanager's version ("" when
// unknown), which is known even when the configuration cannot be parsed.
func addStatus(b *analyze.Builder, body []byte, where string) (version string, err error) {
	var st models.AlertmanagerStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return "", fmt.Errorf("decoding /api/v2/status: %w", err)
	}
	if st.VersionInfo != nil && st.VersionInfo.Version != nil {
		version = *st.VersionInfo.Version
	}
	if st.Config == nil || st.Config.Original == nil {
		return version, errors.New("/api/v2/status holds no configuration")
	}
	cfg, err := amconfig.Load(*st.Config.Original)
	if err != nil {
		return version, fmt.Errorf("parsing the loaded configuration: %w", err)
	}
	var cluster string
	if st.Cluster != nil && st.Cluster.Status != nil {
		cluster = *st.Cluster.Status
	}
	b.SetAlertmanagerStatus(cfg, where, version, cluster)
	return version, nil
}

func addSilences(b *analyze.Builder, body []byte) error {
	var ss models.GettableSilences
	if err := json.Unmarshal(body, &ss); err != nil {
		return fmt.Errorf("decoding /api/v2/silences: %w", err)
	}
	out := make([]analyze.Silence, 0, len(ss))
	for _, s := range ss {
		if s == nil {
			continue
		}
		sil := analyze.Silence{
			ID:        deref(s.ID),
			CreatedBy: deref(s.CreatedBy),
			Comment:   deref(s.Comment),
		}
		if s.StartsAt != nil {
			sil.StartsAt = time.Time(*s.StartsAt).UTC()
		}
		if s.EndsAt != nil {
			sil.EndsAt = time.Time(*s.EndsAt).UTC()
		}
		if s.Status != nil {
			sil.State = deref(s.Status.State)
		}
		for _, m := range s.Matchers {
			if m == nil {
				continue
			}
			isEqual := true // absent in Alertmanager < 0.22, which only had equality matchers
			if m.IsEqual != nil {
				isEqual = *m.IsEqual
			}
			sil.Matchers = append(sil.Matchers, analyze.SilenceMatcher{Name: deref(m.Name), Value: deref(m.Value), IsRegex: m.IsRegex != nil && *m.IsRegex, IsEqual: isEqual})
		}
		out = append(out, sil)
	}
	b.AddSilences(out)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// bodyDetail is the short text of an error answer, or nothing for HTML pages and long bodies.
func bodyDetail(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || len(s) > 200 || strings.ContainsAny(s, "<{") {
		return ""
	}
	return ": " + s
}

func oneLine(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}
