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
