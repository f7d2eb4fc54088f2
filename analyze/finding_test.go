package analyze_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
)

func TestSeverity(t *testing.T) {
	t.Run("Every severity survives String, Parse, MarshalText and UnmarshalText unchanged.", func(t *testing.T) {
		for _, s := range []analyze.Severity{analyze.Info, analyze.Warning, analyze.Critical} {
			parsed, err := analyze.ParseSeverity(s.String())
			if err != nil || parsed != s {
				t.Errorf("ParseSeverity(%q) = %v, %v; want %v", s.String(), parsed, err, s)
			}
			text, err := s.MarshalText()
			if err != nil {
				t.Fatalf("%v.MarshalText: %v", s, err)
			}
			var back analyze.Severity
			if err := back.UnmarshalText(text); err != nil || back != s {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, s)
			}
		}
	})

	t.Run("Severities are spelt info, warning and critical, in that order, and the zero value is info.", func(t *testing.T) {
		got := []string{analyze.Info.String(), analyze.Warning.String(), analyze.Critical.String()}
		if want := []string{"info", "warning", "critical"}; !slices.Equal(got, want) {
			t.Errorf("names = %v, want %v", got, want)
		}
		if !(analyze.Info < analyze.Warning && analyze.Warning < analyze.Critical) {
			t.Error("severities are not ordered info < warning < critical")
		}
		var zero analyze.Severity
		if zero != analyze.Info {
			t.Errorf("zero value = %v, want info", zero)
		}
	})

	t.Run("Parsing ignores case and surrounding blanks.", func(t *testing.T) {
		got, err := analyze.ParseSeverity("  Warning\n")
		if err != nil || got != analyze.Warning {
			t.Errorf("ParseSeverity = %v, %v; want warning", got, err)
		}
	})

	t.Run("An unknown severity is an error naming it and the valid ones, and leaves the value alone.", func(t *testing.T) {
		if _, err := analyze.ParseSeverity("fatal"); err == nil {
			t.Fatal("ParseSeverity(fatal) succeeded")
		} else if msg := err.Error(); !strings.Contains(msg, `"fatal"`) || !strings.Contains(msg, "info, warning, critical") {
			t.Errorf("error %q does not name the value and the valid severities", msg)
		}
		s := analyze.Critical
		if err := s.UnmarshalText([]byte("")); err == nil {
			t.Error("UnmarshalText of an empty string succeeded")
		}
		if s != analyze.Critical {
			t.Errorf("a failed UnmarshalText changed the value to %v", s)
		}
	})

	t.Run("A severity out of range prints as a number rather than panicking.", func(t *testing.T) {
		if got := analyze.Severity(7).String(); got != "severity(7)" {
			t.Errorf("Severity(7).String() = %q", got)
		}
		if got := analyze.Severity(-1).String(); got != "severity(-1)" {
			t.Errorf("Severity(-1).String() = %q", got)
		}
	})

	t.Run("In JSON a severity is its name, and decodes back.", func(t *testing.T) {
		data, err := json.Marshal(map[string]analyze.Severity{"s": analyze.Critical})
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != `{"s":"critical"}` {
			t.Errorf("JSON = %s", data)
		}
		var back map[string]analyze.Severity
		if err := json.Unmarshal(data, &back); err != nil || back["s"] != analyze.Critical {
			t.Errorf("decoded %v, %v", back, err)
		}
		if err := json.Unmarshal([]byte(`{"s":"fatal"}`), &back); err == nil {
			t.Error("decoding an unknown severity succeeded")
		}
	})
}

func TestFindingID(t *testing.T) {
	t.Run("The ID of a fixed check and subject never changes.", func(t *testing.T) {
		// Baselines store these IDs: a change of the algorithm must be deliberate. The values
		// follow docs/report.md: sha256("12:targets/down;8:instance;13:10.0.0.1:9100;3:job;4:node;").
		cases := []struct {
			check   string
			subject map[string]string
			want    string
		}{
			{"targets/down", map[string]string{"job": "node", "instance": "10.0.0.1:9100"}, "8179e27dd1ad986f"},
			{"jobs/no-targets", map[string]string{}, "8c1adb1763b1f171"},
		}
		for _, c := range cases {
			if got := analyze.FindingID(c.check, c.subject); got != c.want {
				t.Errorf("FindingID(%q, %v) = %s, want %s", c.check, c.subject, got, c.want)
			}
		}
	})

	t.Run("The ID does not depend on the order a subject map was filled in or iterates.", func(t *testing.T) {
		want := analyze.FindingID("c", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"})
		for range 50 {
			m := map[string]string{}
			for _, k := range []string{"e", "c", "a", "d", "b"} {
				m[k] = fmt.Sprint(strings.Index("abcde", k) + 1)
			}
			if got := analyze.FindingID("c", m); got != want {
				t.Fatalf("FindingID = %s, want %s", got, want)
			}
		}
	})

	t.Run("Different checks or subjects get different IDs, even when their plain concatenations agree.", func(t *testing.T) {
		type input struct {
			check   string
			subject map[string]string
		}
		inputs := []input{
			{"c", map[string]string{"a": "b=c"}},
			{"c", map[string]string{"a=b": "c"}},
			{"c", map[string]string{"ab": "c"}},
			{"c", map[string]string{"a": "bc"}},
			{"c", map[string]string{"a": "b", "c": ""}},
			{"c", map[string]string{"a": "b;c"}},
			{"c", map[string]string{"1:a;": ""}},
			{"c", map[string]string{"": ""}},
			{"c", map[string]string{}},
			{"c1", map[string]string{}},
			{"c", map[string]string{"job": "x", "instance": "y"}},
			{"c", map[string]string{"job": "y", "instance": "x"}},
			{"d", map[string]string{"job": "x", "instance": "y"}},
		}
		seen := map[string]input{}
		for _, in := range inputs {
			id := analyze.FindingID(in.check, in.subject)
			if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
				t.Errorf("FindingID(%q, %v) = %q, not 16 hex digits", in.check, in.subject, id)
			}
			if prev, ok := seen[id]; ok {
				t.Errorf("FindingID(%q, %v) = FindingID(%q, %v) = %s", in.check, in.subject, prev.check, prev.subject, id)
			}
			seen[id] = in
		}
	})

	t.Run("An empty subject and a nil subject are the same subject.", func(t *testing.T) {
		if a, b := analyze.FindingID("c", nil), analyze.FindingID("c", map[string]string{}); a != b {
			t.Errorf("nil subject %s, empty subject %s", a, b)
		}
	})

	t.Run("NewFinding fills in the ID of its check and subject.", func(t *testing.T) {
		subject := map[string]string{"job": "node"}
		f := analyze.NewFinding("jobs/no-targets", analyze.Warning, subject, "msg", nil)
		if f.ID != analyze.FindingID("jobs/no-targets", subject) || f.Check != "jobs/no-targets" || f.Severity != analyze.Warning || f.Message != "msg" {
			t.Errorf("NewFinding = %+v", f)
		}
	})
}

func TestSortFindings(t *testing.T) {
	t.Run("Findings sort by job, then check, then the rest of the subject.", func(t *testing.T) {
		f := func(check, job, instance string) analyze.Finding {
			subject := map[string]string{"instance": instance}
			if job != "-" {
				subject["job"] = job
			}
			return analyze.NewFinding(check, analyze.Info, subject, "", nil)
		}
		want := []analyze.Finding{
			f("targets/down", "-", "a"),
			f("jobs/no-targets", "api", "z"),
			f("targets/down", "api", "10.0.0.1:80"),
			f("targets/down", "api", "10.0.0.2:80"),
			f("jobs/no-targets", "node", "a"),
			f("targets/down", "node", "a"),
		}
		// Every order of the six: the findings are moved into place cycle by cycle, and
		// each shape of cycle must land right.
		var perms [][]int
		var permute func(p []int, k int)
		permute = func(p []int, k int) {
			if k == len(p) {
				perms = append(perms, slices.Clone(p))
				return
			}
			for i := k; i < len(p); i++ {
				p[k], p[i] = p[i], p[k]
				permute(p, k+1)
				p[k], p[i] = p[i], p[k]
			}
		}
		permute([]int{0, 1, 2, 3, 4, 5}, 0)
		for _, perm := range perms {
			got := make([]analyze.Finding, len(want))
			for i, j := range perm {
				got[i] = want[j]
			}
			analyze.SortFindings(got)
			for i := range want {
				if got[i].ID != want[i].ID {
					t.Errorf("from %v: position %d is %s %v, want %s %v", perm, i, got[i].Check, got[i].Subject, want[i].Check, want[i].Subject)
				}
			}
		}
	})

	t.Run("Sorting an empty or nil list does nothing.", func(t *testing.T) {
		analyze.SortFindings(nil)
		analyze.SortFindings([]analyze.Finding{})
	})
}
