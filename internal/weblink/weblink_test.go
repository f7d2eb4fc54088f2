package weblink

import "testing"

func TestOnlyWebAndRelativeLinksAreSafe(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"https://runbooks.example.com/node-down", "https://runbooks.example.com/node-down", true},
		{"http://wiki.example.com/x?y=1#z", "http://wiki.example.com/x?y=1#z", true},
		{"HTTPS://wiki.example.com/x", "HTTPS://wiki.example.com/x", true},
		{"  https://wiki.example.com/x\n", "https://wiki.example.com/x", true},
		{"runbooks/NodeDown.md", "runbooks/NodeDown.md", true},
		{"/d/abc", "/d/abc", true},
		{"//wiki.example.com/x", "//wiki.example.com/x", true},
		{"", "", false},
		{"   ", "", false},
		{"javascript:alert(1)", "", false},
		{"JaVaScRiPt:alert(1)", "", false},
		{" javascript:alert(1)", "", false},
		{"java\tscript:alert(1)", "", false},
		{"java\nscript:alert(1)", "", false},
		{"java script:alert(1)", "", false},
		{"\x01javascript:alert(1)", "", false},
		{"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "", false},
		{"vbscript:msgbox(1)", "", false},
		{"VBScript:msgbox(1)", "", false},
		{"file:///etc/passwd", "", false},
		{"https:javascript", "", false},
		{"http://", "", false},
		{`/\evil.example.com`, "", false},
		{"javascript&colon;alert(1)", "", false},
		{"&#106;avascript:alert(1)", "", false},
		{"https://wiki.example.com/x?a=1&b=2", "https://wiki.example.com/x?a=1&b=2", true},
	}
	for _, c := range cases {
		got, ok := Safe(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Safe(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestOnlyAbsoluteWebURLsAreAbsoluteLinks(t *testing.T) {
	for in, want := range map[string]string{
		"https://grafana.example.com/d/x": "https://grafana.example.com/d/x",
		"rules/node.yaml":                 "",
		"javascript:alert(1)":             "",
		"/d/abc":                          "",
	} {
		if got := Absolute(in); got != want {
			t.Errorf("Absolute(%q) = %q, want %q", in, got, want)
		}
	}
}
