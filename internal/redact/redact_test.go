package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"User and password are removed.", "https://admin:s3cr3t@prom.example.com:9090/prefix", "https://prom.example.com:9090/prefix"},
		{"A user without password is removed.", "http://admin@prom:9090", "http://prom:9090"},
		{"A URL without credentials is unchanged.", "http://prom:9090/api?x=1", "http://prom:9090/api?x=1"},
		{"A trailing question mark is dropped.", "http://admin:s3cr3t@prom:9090/?", "http://prom:9090/"},
		{"An access token in the query is masked, the other parameters stay.", "https://g.example/d/x?orgId=1&access_token=tok123&from=now", "https://g.example/d/x?orgId=1&access_token=xxxxx&from=now"},
		{"Every usual credential parameter is masked.", "http://h/?token=a&api_key=b&apikey=c&password=d&secret=e&signature=f&X-Amz-Signature=g&X-Amz-Credential=h&client_secret=i",
			"http://h/?token=xxxxx&api_key=xxxxx&apikey=xxxxx&password=xxxxx&secret=xxxxx&signature=xxxxx&X-Amz-Signature=xxxxx&X-Amz-Credential=xxxxx&client_secret=xxxxx"},
		{"A parameter name that merely contains a word like key is kept.", "http://h/?monkey=1&var-job=api", "http://h/?monkey=1&var-job=api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("An unparseable URL is replaced, not echoed.", func(t *testing.T) {
		if got := URL("http://admin:s3/cr3t@prom:9090"); got != Unparseable {
			t.Errorf("URL echoed the input: %q", got)
		}
	})
}

func TestTextRedactsEveryURLInAMessage(t *testing.T) {
	in := `Get "http://prom:9090/api/v1/query?access_token=tok123&query=up": dial tcp: refused; see https://admin:pw9@grafana.example/d/x.`
	got := Text(in)
	for _, secret := range []string{"tok123", "pw9", "admin"} {
		if strings.Contains(got, secret) {
			t.Errorf("Text kept %q: %s", secret, got)
		}
	}
	want := `Get "http://prom:9090/api/v1/query?access_token=xxxxx&query=up": dial tcp: refused; see https://grafana.example/d/x.`
	if got != want {
		t.Errorf("Text =\n %s\nwant\n %s", got, want)
	}
	if plain := "no url here: 5 errors"; Text(plain) != plain {
		t.Errorf("Text changed a message without URL: %q", Text(plain))
	}
}
