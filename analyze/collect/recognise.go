package collect

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// tenantHeader carries the Mimir or Cortex tenant of a request.
const tenantHeader = "X-Scope-OrgID"

// Recognise tells what the server of a source named by URL alone (no kind configured) is,
// and returns the source as it is to be audited: a Thanos Query as kind thanos, a Mimir or
// Cortex given a tenant as kind mimir, each with a note saying it was recognised; a Mimir or
// Cortex without a tenant as kind mimir refused with a message saying how to configure it;
// anything else as kind prometheus, unchanged. A server that cannot be asked is taken for a
// Prometheus: the audit then reports what it could not read.
func Recognise(ctx context.Context, s FleetSource, logger *slog.Logger) FleetSource {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s.Kind = KindPrometheus
	id, err := prometheus.Identify(ctx, s.HTTP)
	if err != nil {
		logger.Debug("could not tell what the server is: auditing it as a Prometheus", "url", s.HTTP.Redacted(), "err", err)
		return s
	}
	logger.Debug("recognised the server", "url", s.HTTP.Redacted(), "server", id.Server, "product", id.Product)
	switch id.Server {
	case prometheus.ServerThanosQuery:
		s.Kind = KindThanos
		what := "a Thanos Query"
		if id.Product != "" {
			what = "a Thanos Query (" + id.Product + ")"
		}
		s.Notes = append(s.Notes, fmt.Sprintf("recognised as %s, which merges %d stores (/api/v1/stores): audited as kind: thanos, one member per %s",
			what, len(id.Stores), strings.Join(memberLabels(s), ",")))
	case prometheus.ServerMimir:
		s.Kind = KindMimir
		what := id.Product
		if what == "" {
			what = "a Mimir or Cortex"
		}
		base := mimirBase(s.HTTP.URL)
		if id.NeedsTenant || !hasTenant(s.HTTP.Headers) {
			why := "which keeps every tenant apart"
			if id.NeedsTenant {
				why = `which asks for a tenant (HTTP 401 "no org id")`
			}
			s.Refused = fmt.Sprintf("this is %s, %s, not a Prometheus: configure it in the prometheus list with kind: mimir, "+
				"url: %s and tenant: <the X-Scope-OrgID; anonymous when multi-tenancy is off>", what, why, httpconfig.RedactURL(base))
			return s
		}
		s.HTTP.URL = base
		s.Notes = append(s.Notes, fmt.Sprintf("recognised as %s with the tenant of the %s header: audited as kind: mimir", what, tenantHeader))
	}
	return s
}

// mimirBase is a Mimir URL without the /prometheus prefix, which kind mimir adds.
func mimirBase(u string) string {
	return strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/prometheus")
}

func hasTenant(headers map[string]string) bool {
	for k, v := range headers {
		if strings.EqualFold(k, tenantHeader) && v != "" {
			return true
		}
	}
	return false
}

// unsplitStores says when the stores of a Thanos source cannot all be told apart: two or
// more stores have none of the member labels, so their targets and rules are judged
// together, as one server's. It names the external labels that differ between them, which
// member_labels could name instead.
func unsplitStores(stores [][]map[string]string, labels []string) (string, bool) {
	var bare []map[string]string
	for _, sets := range stores {
		if slices.ContainsFunc(sets, func(set map[string]string) bool {
			return !slices.ContainsFunc(labels, func(l string) bool { _, ok := set[l]; return !ok })
		}) {
			continue
		}
		bare = append(bare, mergeSets(sets))
	}
	if len(bare) < 2 {
		return "", false
	}
	var sets []string
	differ := map[string]bool{}
	for _, set := range bare {
		sets = append(sets, toLabelSet(set).String())
		for k, v := range set {
			for _, other := range bare {
				if other[k] != v {
					differ[k] = true
				}
			}
		}
	}
	slices.Sort(sets)
	msg := fmt.Sprintf("%d stores have no %s external label (%s): their targets and rules are judged together, as one server's, "+
		"a rule of one covering the jobs of all; if they are separate Prometheus servers, name the external labels that tell them apart in member_labels",
		len(bare), strings.Join(labels, ","), strings.Join(sets, " "))
	if len(differ) > 0 {
		msg += " (" + strings.Join(slices.Sorted(maps.Keys(differ)), ", ") + " differ)"
	}
	return msg, true
}

func mergeSets(sets []map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}
