package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestExpiredExceptions(t *testing.T) {
	b := newBuilder(analyze.PartTargets)
	b.AddTarget(target("api", "api", "10.0.0.1:80", analyze.HealthDown, "refused"))
	b.AddTarget(target("db", "db", "10.0.0.2:5432", analyze.HealthDown, "refused"))
	inv := b.Build()
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	ignore := func(job string, expires time.Time) checks.Ignore {
		return checks.Ignore{Check: checks.TargetsDownName, Subject: map[string]string{"job": job}, Reason: "r " + job, Expires: expires}
	}
	p := checks.Policy{
		Now: day.Add(9 * time.Hour),
		Ignore: []checks.Ignore{
			ignore("api", day),                 // expired this morning
			ignore("db", day.AddDate(0, 0, 1)), // holds through today
			ignore("gone", day.AddDate(0, -1, 0)),
			ignore("never", time.Time{}),
		},
	}
	res := checks.Run(inv, nil, []checks.Check{checks.TargetsDown{}}, p)

	t.Run("An expired exception no longer suppresses; one that still holds does.", func(t *testing.T) {
		if f := only(t, res.Findings); f.Subject["job"] != "api" {
			t.Errorf("reported %v, want the api target", f.Subject)
		}
		if len(res.Suppressed) != 1 || res.Suppressed[0].Finding.Subject["job"] != "db" {
			t.Errorf("suppressed %+v, want the db target", res.Suppressed)
		}
	})

	t.Run("Every expired exception is listed in configuration order, with the findings it matches.", func(t *testing.T) {
		if len(res.Expired) != 2 {
			t.Fatalf("expired %+v, want api and gone", res.Expired)
		}
		api, gone := res.Expired[0], res.Expired[1]
		if api.Ignore.Subject["job"] != "api" || len(api.Findings) != 1 || api.Findings[0] != res.Findings[0].ID {
			t.Errorf("first expired %+v, want api matching its finding", api)
		}
		if gone.Ignore.Subject["job"] != "gone" || gone.Findings == nil || len(gone.Findings) != 0 {
			t.Errorf("second expired %+v, want gone matching nothing (an empty list)", gone)
		}
	})
}
