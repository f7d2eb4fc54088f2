package baseline_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
)

var (
	monday  = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	tuesday = monday.AddDate(0, 0, 1)
)

func finding(check string, sev analyze.Severity, subject map[string]string) analyze.Finding {
	return analyze.NewFinding(check, sev, subject, check+" "+subject["job"], nil)
}

var (
	down      = finding("targets/down", analyze.Critical, map[string]string{"job": "api", "instance": "10.0.0.1:80"})
	noUp      = finding("alerts/missing-up", analyze.Critical, map[string]string{"job": "api"})
	noSev     = finding("alerts/no-severity", analyze.Info, map[string]string{"rule": "X"})
	noTargets = finding("jobs/no-targets", analyze.Warning, map[string]string{"job": "batch"})
	allChecks = []string{"targets/down", "alerts/missing-up", "alerts/no-severity", "jobs/no-targets"}
)

func ids(fs []analyze.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func TestCompare(t *testing.T) {
	b := baseline.Update(baseline.File{}, baseline.Run{Findings: []analyze.Finding{down, noUp}, ChecksRun: allChecks}, monday)

	t.Run("The same findings again are all known.", func(t *testing.T) {
		c := baseline.Compare(b, baseline.Run{Findings: []analyze.Finding{down, noUp}, ChecksRun: allChecks})
		if len(c.New) != 0 || len(c.Known) != 2 || len(c.Resolved) != 0 {
			t.Errorf("comparison %+v, want 2 known", c)
		}
	})

	t.Run("A finding the baseline lacks is new; one it holds and the run lacks is resolved.", func(t *testing.T) {
		c := baseline.Compare(b, baseline.Run{Findings: []analyze.Finding{noUp, noTargets, noSev}, ChecksRun: allChecks})
		if got := ids(c.New); len(got) != 2 || got[0] != noTargets.ID || got[1] != noSev.ID {
			t.Errorf("new = %q, want jobs/no-targets and alerts/no-severity", got)
		}
		if len(c.Resolved) != 1 || c.Resolved[0].ID != down.ID || !c.Resolved[0].FirstSeen.Equal(monday) {
			t.Errorf("resolved = %+v, want the down target first seen on monday", c.Resolved)
		}
		if got := baseline.AtOrAbove(c.New, analyze.Warning); len(got) != 1 || got[0].ID != noTargets.ID {
			t.Errorf("new at or above warning = %q, want only jobs/no-targets", ids(got))
		}
	})

	t.Run("A finding of a check that did not run, or that is suppressed now, is not resolved.", func(t *testing.T) {
		c := baseline.Compare(b, baseline.Run{ChecksRun: []string{"alerts/missing-up"}, Suppressed: []string{noUp.ID}})
		if len(c.Resolved) != 0 {
			t.Errorf("resolved = %+v, want none", c.Resolved)
		}
	})
}

func TestUpdate(t *testing.T) {
	b := baseline.Update(baseline.File{}, baseline.Run{Findings: []analyze.Finding{down, noUp}, ChecksRun: allChecks}, monday)

	t.Run("Updating keeps first_seen of findings still present, stamps new ones and drops resolved ones.", func(t *testing.T) {
		next := baseline.Update(b, baseline.Run{Findings: []analyze.Finding{noUp, noTargets}, ChecksRun: allChecks}, tuesday)
		got := map[string]time.Time{}
		for _, e := range next.Findings {
			got[e.ID] = e.FirstSeen
		}
		if len(got) != 2 || !got[noUp.ID].Equal(monday) || !got[noTargets.ID].Equal(tuesday) {
			t.Errorf("first_seen by id = %v, want alerts/missing-up monday and jobs/no-targets tuesday", got)
		}
	})

	t.Run("Entries of checks that did not run are kept: a source that is down resolves nothing.", func(t *testing.T) {
		next := baseline.Update(b, baseline.Run{ChecksRun: []string{"alerts/no-severity"}}, tuesday)
		if len(next.Findings) != 2 {
			t.Errorf("entries after a run where neither check ran: %+v", next.Findings)
		}
	})
}

func TestFile(t *testing.T) {
	b := baseline.Update(baseline.File{}, baseline.Run{Findings: []analyze.Finding{noTargets, down, noUp}, ChecksRun: allChecks}, monday.Add(123*time.Millisecond))

	t.Run("The file is sorted by check and id, in whole seconds, the same bytes for the same findings in any order.", func(t *testing.T) {
		data, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		other := baseline.Update(baseline.File{}, baseline.Run{Findings: []analyze.Finding{noUp, noTargets, down}, ChecksRun: allChecks}, monday)
		data2, err := other.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != string(data2) {
			t.Errorf("two orders give two files:\n%s\n%s", data, data2)
		}
		first := strings.Index(string(data), `"alerts/missing-up"`)
		second := strings.Index(string(data), `"jobs/no-targets"`)
		third := strings.Index(string(data), `"targets/down"`)
		if first < 0 || !(first < second && second < third) {
			t.Errorf("entries not sorted by check:\n%s", data)
		}
		if !strings.Contains(string(data), `"first_seen": "2026-11-23T02:00:00Z"`) {
			t.Errorf("first_seen not in whole UTC seconds:\n%s", data)
		}
		path := filepath.Join(t.TempDir(), "b.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := baseline.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Findings) != 3 {
			t.Errorf("read back %d entries", len(back.Findings))
		}
	})

	for _, tc := range []struct{ name, data, want string }{
		{"Another version is refused.", `{"version": 2, "findings": []}`, "version 2, want 1"},
		{"An unknown field is refused.", `{"version": 1, "entries": []}`, `unknown field "entries"`},
		{"Two entries with one id are refused.", `{"version": 1, "findings": [` + entry(down) + `,` + entry(down) + `]}`, "duplicate id"},
		{"An entry whose id does not fit its check and subject is refused.", `{"version": 1, "findings": [{"id": "abc", "check": "targets/down", "subject": {}, "first_seen": "2026-01-01T00:00:00Z"}]}`, "does not match"},
		{"Not JSON is refused.", `version: 1`, "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := baseline.Parse("b.json", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "baseline b.json: ") {
				t.Errorf("error %v, want one naming b.json and saying %q", err, tc.want)
			}
		})
	}
}

func entry(f analyze.Finding) string {
	return `{"id": "` + f.ID + `", "check": "` + f.Check + `", "subject": {"job": "api", "instance": "10.0.0.1:80"}, "first_seen": "2026-01-01T00:00:00Z"}`
}

func TestOpen(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "b.json")
	t.Run("A missing baseline is an error unless it is to be created, and then an empty one.", func(t *testing.T) {
		if _, err := baseline.Open(missing, false); !errors.Is(err, baseline.ErrNotExist) {
			t.Errorf("err %v, want ErrNotExist", err)
		}
		f, err := baseline.Open(missing, true)
		if err != nil || f.Version != baseline.Version || len(f.Findings) != 0 {
			t.Errorf("%+v, %v: want an empty baseline of the current version", f, err)
		}
	})
	t.Run("A baseline that exists but does not parse is an error even to be created.", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := baseline.Open(bad, true); err == nil || errors.Is(err, baseline.ErrNotExist) {
			t.Errorf("err %v, want the parse error", err)
		}
	})
}
