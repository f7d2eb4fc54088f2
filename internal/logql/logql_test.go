package logql

import "testing"

func TestStreamSelector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"Labels are sorted by name.", map[string]string{"job": "api", "env": "prod"}, `{env="prod", job="api"}`},
		{"Values are quoted as LogQL (Go) string literals.", map[string]string{"job": `evil"} |= "x` + "\n"}, `{job="evil\"} |= \"x\n"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := StreamSelector(tc.labels)
			if err != nil || got != tc.want {
				t.Errorf("StreamSelector = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
	t.Run("A label name LogQL cannot hold is refused.", func(t *testing.T) {
		if _, err := StreamSelector(map[string]string{`job"}`: "x"}); err == nil {
			t.Error("no error")
		}
	})
}

func TestValidLabelName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{"job": true, "_x9": true, "Env_2": true, "": false, "9x": false, "a-b": false, "é": false, `job"}`: false} {
		if err := ValidLabelName(name); (err == nil) != ok {
			t.Errorf("ValidLabelName(%q) = %v, want valid %v", name, err, ok)
		}
	}
}

func TestHasLabel(t *testing.T) {
	t.Parallel()
	if got, want := HasLabel("job"), `{job=~".+"}`; got != want {
		t.Errorf("HasLabel = %s, want %s: a selector that matches only the empty string is refused by Loki", got, want)
	}
}
