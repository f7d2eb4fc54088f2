package redact

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestAttrRedactsTheURLsOfTextAndErrorsAndKeepsOtherValues(t *testing.T) {
	const u = "http://user:hunter2@prometheus:9090/api?token=hunter2"
	for _, a := range []slog.Attr{slog.String("url", u), slog.Any("err", errors.New("Get "+u+": refused"))} {
		got := Attr(nil, a).Value.String()
		if strings.Contains(got, "hunter2") || !strings.Contains(got, "prometheus:9090") {
			t.Errorf("%s: %q, want the URL without its credentials", a.Key, got)
		}
	}
	if got := Attr(nil, slog.Int("n", 3)); got.Value.Int64() != 3 {
		t.Errorf("a number became %v", got.Value)
	}
}
