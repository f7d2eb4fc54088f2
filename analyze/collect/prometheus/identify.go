package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

// Server is what a Prometheus-compatible endpoint turned out to be.
type Server string

const (
	// ServerPrometheus is a Prometheus, or anything not recognised as one of the others.
	ServerPrometheus Server = "prometheus"
	// ServerThanosQuery is a Thanos Query: it lists its stores at /api/v1/stores.
	ServerThanosQuery Server = "thanos"
	// ServerMimir is a Grafana Mimir or a Cortex: its build information names the
	// application, or it refuses requests without a tenant (HTTP 401 "no org id").
	ServerMimir Server = "mimir"
)

// Identity is what a server said of itself when Identify asked.
type Identity struct {
	Server Server
	// Product is how the server describes itself ("Grafana Mimir 2.14.0", "Thanos 0.42.4"),
	// empty when it did not say.
	Product string
	// NeedsTenant is set when the server refused a request for want of a tenant.
	NeedsTenant bool
	// Stores are the external label sets of each store of a Thanos Query (a store gateway
	// may have several).
	Stores [][]map[string]string
}

// maxProbeBody bounds what is read of an answer while identifying a server: build
// information is a few hundred bytes, a store listing some hundred per store.
const maxProbeBody = 1 << 20

// noOrgID is the body of Mimir's and Cortex's HTTP 401 for a request without X-Scope-OrgID
// (user.ErrNoOrgID of dskit and weaveworks/common, written by http.Error).
const noOrgID = "no org id"

// Identify asks a server what it is with as few requests as possible, one attempt each:
// its build information, which ends the question for a Prometheus 2 or 3 that reports its
// version and for a Mimir (whose answer names the application); then, only when that says
// nothing conclusive (no version, as a Prometheus 3 built from the Go module; Thanos'
// 0.x versions; no answer), its store listing, which only a Thanos Query serves. The error
// is a failure to ask (refused connection, timeout, 5xx): the server is then taken for a
// Prometheus, and the audit reports what it cannot read.
func Identify(ctx context.Context, o httpconfig.Options) (Identity, error) {
	o.Attempts = 1
	rt, err := o.RoundTripper()
	if err != nil {
		return Identity{Server: ServerPrometheus}, err
	}
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections()
	base := strings.TrimSuffix(o.BaseURL(), "/")

	status, body, err := probe(ctx, client, base+"/api/v1/status/buildinfo")
	if err != nil {
		return Identity{Server: ServerPrometheus}, err
	}
	if refusedTenant(status, body) {
		return Identity{Server: ServerMimir, NeedsTenant: true}, nil
	}
	var version string
	if status == http.StatusOK {
		var doc struct {
			Data struct {
				Application string `json:"application"`
				Version     string `json:"version"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &doc) == nil {
			if app := doc.Data.Application; app != "" {
				// Prometheus' build information has no application field; Mimir's has.
				return Identity{Server: ServerMimir, Product: strings.TrimSpace(app + " " + doc.Data.Version)}, nil
			}
			version = doc.Data.Version
			if prometheusMajor(version) {
				return Identity{Server: ServerPrometheus, Product: "Prometheus " + version}, nil
			}
		}
	}

	status, body, err = probe(ctx, client, base+"/api/v1/stores")
	if err != nil {
		return Identity{Server: ServerPrometheus}, err
	}
	if refusedTenant(status, body) {
		return Identity{Server: ServerMimir, NeedsTenant: true}, nil
	}
	if status != http.StatusOK {
		return Identity{Server: ServerPrometheus}, nil
	}
	stores, ok := storeLabelSets(body)
	if !ok {
		return Identity{Server: ServerPrometheus}, nil
	}
	id := Identity{Server: ServerThanosQuery, Stores: stores}
	if version != "" {
		id.Product = "Thanos " + version
	}
	return id, nil
}

// probe GETs u and reads at most maxProbeBody of the answer.
func probe(ctx context.Context, client *http.Client, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("asking %s what it is: %s", httpconfig.RedactURL(u), describe(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return 0, nil, fmt.Errorf("asking %s what it is: %s", httpconfig.RedactURL(u), describe(err))
	}
	return resp.StatusCode, body, nil
}

func refusedTenant(status int, body []byte) bool {
	return status == http.StatusUnauthorized && strings.TrimSpace(string(body)) == noOrgID
}

// prometheusMajor reports whether a version is one of Prometheus' own (2.x, 3.x and later).
// Thanos reports its own 0.x versions in the same field.
func prometheusMajor(v string) bool {
	major, _, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(major)
	return err == nil && n >= 2
}

// storeLabelSets decodes a Thanos Query store listing: one entry per store, with its
// external label sets. Anything else (another server's JSON at that path) is not one.
func storeLabelSets(body []byte) ([][]map[string]string, bool) {
	var doc struct {
		Status string                   `json:"status"`
		Data   map[string][]storeStatus `json:"data"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.Status != "success" {
		return nil, false
	}
	var out [][]map[string]string
	for _, stores := range doc.Data {
		for _, s := range stores {
			out = append(out, s.LabelSets)
		}
	}
	return out, true
}
