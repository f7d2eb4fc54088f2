package audit

import "testing"

func TestMemberDir(t *testing.T) {
	for _, c := range []struct {
		name  string
		scope map[string]string
		want  string
	}{
		{"A member is named by its source, then its other keys in key order.", map[string]string{"source": "global", "region": "eu", "cluster": "a"}, "global_a_eu"},
		{"Characters a directory name should not hold become underscores.", map[string]string{"source": "eu/1", "cluster": "a b"}, "eu_1_a_b"},
		{"A name of dots alone would not be a directory of its own: it gets an underscore.", map[string]string{"source": ".."}, "_.."},
		{"The member of a fleet of one has an empty scope, and a directory all the same.", nil, "_"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := memberDir(c.scope); got != c.want {
				t.Errorf("memberDir(%v) = %q, want %q", c.scope, got, c.want)
			}
		})
	}
}

func TestWithoutKeys(t *testing.T) {
	t.Run("A member's keys leave a finding's subject, the rest stays, and the subject itself is not changed.", func(t *testing.T) {
		subject := map[string]string{"job": "api", "source": "eu", "cluster": "a"}
		got := withoutKeys(subject, map[string]string{"source": "eu", "cluster": "a"})
		if len(got) != 1 || got["job"] != "api" || len(subject) != 3 {
			t.Errorf("got %v, subject now %v", got, subject)
		}
	})
}
