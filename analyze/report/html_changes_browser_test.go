package report_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// TestHTMLChangesInBrowser opens in Chromium a page with what changed since an earlier audit
// (as blindspot serve shows it), every value hostile: the changes come first, read as text,
// run no script, and a new finding links to its row.
func TestHTMLChangesInBrowser(t *testing.T) {
	rep := hostileReport()
	if len(rep.Findings) < 2 {
		t.Fatalf("the hostile report has %d findings", len(rep.Findings))
	}
	resolved := baseline.Entry{ID: "gone", Check: "targets/down", Subject: map[string]string{"job": imgJob}}
	changes := report.Changes{Since: collectedAt.Add(-10 * time.Minute), New: rep.Findings[:2], Resolved: []baseline.Entry{resolved}}
	var page strings.Builder
	if err := report.WriteHTML(&page, rep, report.HTMLOptions{Version: "v0.0.0-test", Changes: &changes}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "changes.html")
	if err := os.WriteFile(path, []byte(page.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t)
	b.do(t, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("#findings-count")))
	// Give an injected handler (an image's onerror) time to fire.
	b.do(t, chromedp.Sleep(300*time.Millisecond))
	if got := eval[string](t, b, `typeof window.__pwned`); got != "undefined" {
		t.Errorf("an injected script ran: window.__pwned is %s", got)
	}
	b.mu.Lock()
	dialogs := slices.Clone(b.dialogs)
	b.mu.Unlock()
	if len(dialogs) > 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
	if got := eval[[]string](t, b, `Array.from(document.querySelectorAll("main > section"), s => s.id).slice(0, 2)`); !slices.Equal(got, []string{"changes", "sources"}) {
		t.Errorf("the first sections are %q, want the changes before the sources", got)
	}
	text := eval[string](t, b, `document.getElementById("changes").innerText`)
	for _, want := range []string{"2 new, 1 resolved.", "targets/down job=" + strconv.Quote(imgJob), rep.Findings[0].Message} {
		if !strings.Contains(text, want) {
			t.Errorf("the changes do not read %q:\n%s", want, text)
		}
	}
	target := "f-" + rep.Findings[0].ID
	if !eval[bool](t, b, `(function (sel) {
		const a = document.querySelector(sel);
		if (!a) return false;
		a.click();
		return true;
	})(`+jsString(`#changes a[href="#`+target+`"]`)+`)`) {
		t.Fatalf("the changes have no link to %s", target)
	}
	b.poll(t, `location.hash === `+jsString("#"+target))
	if hidden := eval[bool](t, b, `document.getElementById(`+jsString(target)+`).hidden`); hidden {
		t.Errorf("the row the new finding links to is hidden")
	}
	b.screenshot(t, "changes.png")
}
