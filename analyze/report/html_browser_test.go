package report_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// EnvChromium names the browser the real-browser tests drive, as scripts/test-deps.sh prints it.
const EnvChromium = "BLINDSPOT_TEST_CHROMIUM"

// browser is a headless Chromium tab with the JavaScript dialogs it opened.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string
}

// startBrowser starts Debian's chromium headless for the test and stops it when the test ends.
// Without a browser the test is skipped, except under CI, where it fails.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		msg := EnvChromium + ": " + err.Error() + `; run eval "$(scripts/test-deps.sh)"`
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Closing the browser first lets it shut down cleanly; cancelling the allocator then
		// kills whatever is left and waits for it.
		_ = chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
	})
	b := &browser{ctx: ctx}
	// Starting the browser is the one step without a deadline of its own (a timeout on the
	// first Run would bound the browser's whole life), so it is bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("starting %s: no answer in 60s", path)
	}
	// An injected alert() would block the page until answered: record and dismiss it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

// do runs steps with a deadline.
func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// poll waits until a JavaScript expression is true.
func (b *browser) poll(t *testing.T, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// open writes the report's page to the test's temporary directory and loads it.
func (b *browser) open(t *testing.T, r report.Report, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, renderHTML(t, r), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(t, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("#findings-count")))
}

// screenshot saves the whole page under the test's temporary directory and logs where.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// The page's state as read through the DOM.
const (
	jsMatrixJobs  = `Array.from(document.querySelectorAll("#matrix tbody th.job"), th => th.textContent)`
	jsVisibleIDs  = `Array.from(document.querySelectorAll("#findings-table tbody tr"), tr => tr.hidden ? null : tr.id).filter(id => id !== null)`
	jsCount       = `document.getElementById("findings-count").textContent`
	jsJobSortKeys = `Array.from(document.querySelectorAll("#findings-table tbody tr td.job"), td => td.dataset.key)`
	jsCellState   = `(function (job, column) {
		const heads = Array.from(document.querySelectorAll("#matrix thead th"), th => th.textContent);
		const row = Array.from(document.querySelectorAll("#matrix tbody tr")).find(tr => tr.querySelector("th").textContent === job);
		return row ? row.children[heads.indexOf(column)].dataset.state : "no row";
	})`
	jsSelect = `(function (id, value) {
		const s = document.getElementById(id);
		s.value = value;
		s.dispatchEvent(new Event("change"));
		return s.value;
	})`
)

func jsString(s string) string { return fmt.Sprintf("%q", s) }

func TestHTMLInBrowser(t *testing.T) {
	b := startBrowser(t)

	t.Run("The demo report's matrix, filters, search, sort and cell links work in Chromium.", func(t *testing.T) {
		rep := demoReport(t)
		b.open(t, rep, "demo.html")

		var jobs []string
		for _, row := range rep.Coverage {
			jobs = append(jobs, row.Job)
		}
		if got := eval[[]string](t, b, jsMatrixJobs); !slices.Equal(got, jobs) {
			t.Errorf("matrix rows = %q, want the demo's jobs %q", got, jobs)
		}
		for _, c := range []struct{ job, column, want string }{
			{"payments-api", "scraped", "gap"},
			{"node", "scraped", "covered"},
			{"node", "up alert", "covered"},
			{"payments-api", "up alert", "gap"},
			{"billing", "business", "gap"},
			{"checkout", "business", "covered"},
			{"node", "business", "none"},
			{"node", "logs", "covered"},
			{"pushgateway", "logs", "gap"},
			{"node", "secrets", "gap"},
			{"prometheus", "secrets", "covered"},
			{"node", "runbooks", "gap"},
			{"node", "dashboards", "covered"},
			{"prometheus", "dashboards", "gap"},
			{"node", "pages someone", "covered"},
			{"legacy-app", "pages someone", "gap"},
		} {
			if got := eval[string](t, b, jsCellState+"("+jsString(c.job)+","+jsString(c.column)+")"); got != c.want {
				t.Errorf("cell %s / %s is %q, want %q", c.job, c.column, got, c.want)
			}
		}

		all := len(rep.Findings)
		if got := eval[[]string](t, b, jsVisibleIDs); len(got) != all {
			t.Fatalf("%d findings shown before filtering, want %d", len(got), all)
		}
		// Filters: what the rows show must be what the report holds.
		idsWhere := func(keep func(f analyze.Finding) bool) []string {
			var out []string
			for _, f := range rep.Findings {
				if keep(f) {
					out = append(out, "f-"+f.ID)
				}
			}
			return out
		}
		eval[string](t, b, jsSelect+`("filter-severity", "critical")`)
		want := idsWhere(func(f analyze.Finding) bool { return f.Severity == analyze.Critical })
		if got := eval[[]string](t, b, jsVisibleIDs); !slices.Equal(got, want) || len(want) == 0 || len(want) == all {
			t.Errorf("severity critical shows %q, want %q", got, want)
		}
		if got, wantCount := eval[string](t, b, jsCount), fmt.Sprintf("%d of %d findings shown", len(want), all); got != wantCount {
			t.Errorf("count = %q, want %q", got, wantCount)
		}
		eval[string](t, b, jsSelect+`("filter-severity", "")`)
		eval[string](t, b, jsSelect+`("filter-check", "alerts/no-runbook")`)
		want = idsWhere(func(f analyze.Finding) bool { return f.Check == "alerts/no-runbook" })
		if got := eval[[]string](t, b, jsVisibleIDs); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("check alerts/no-runbook shows %q, want %q", got, want)
		}
		eval[string](t, b, jsSelect+`("filter-check", "")`)
		jobKey := eval[string](t, b, `Array.from(document.querySelectorAll("#filter-job option")).find(o => o.textContent === "payments-api").value`)
		eval[string](t, b, jsSelect+`("filter-job", `+jsString(jobKey)+`)`)
		want = idsWhere(func(f analyze.Finding) bool { return f.Subject["job"] == "payments-api" })
		if got := eval[[]string](t, b, jsVisibleIDs); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("job payments-api shows %q, want %q", got, want)
		}
		eval[string](t, b, jsSelect+`("filter-job", "")`)

		// Search, typed with real key events; Enter does not submit (reload) the page.
		b.do(t, chromedp.SendKeys(chromedp.ID("filter-search"), "InvoicesStalled\r"))
		if got := eval[string](t, b, `location.search + document.getElementById("filter-search").value`); got != "InvoicesStalled" {
			t.Errorf("after Enter in the search box: %q (the page reloaded?)", got)
		}
		want = idsWhere(func(f analyze.Finding) bool {
			return strings.Contains(strings.ToLower(findingText(f)), "invoicesstalled")
		})
		if got := eval[[]string](t, b, jsVisibleIDs); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("search InvoicesStalled shows %q, want %q", got, want)
		}
		b.do(t, chromedp.Click(chromedp.ID("filter-reset")))
		b.poll(t, `document.querySelectorAll("#findings-table tbody tr[hidden]").length === 0`)

		// Sort by job, then the other way round.
		b.do(t, chromedp.Click(chromedp.CSS(`th[data-sort="job"] button`)))
		keys := eval[[]string](t, b, jsJobSortKeys)
		if !slices.IsSorted(keys) || len(keys) != all {
			t.Errorf("sorted by job: %q", keys)
		}
		b.do(t, chromedp.Click(chromedp.CSS(`th[data-sort="job"] button`)))
		keys = eval[[]string](t, b, jsJobSortKeys)
		if !slices.IsSortedFunc(keys, func(a, b string) int { return strings.Compare(b, a) }) || keys[0] == keys[len(keys)-1] {
			t.Errorf("sorted by job, descending: %q", keys)
		}
		if got := eval[string](t, b, `document.querySelector('th[data-sort="job"]').getAttribute("aria-sort")`); got != "descending" {
			t.Errorf("aria-sort = %q", got)
		}

		// A matrix cell narrows the table to the findings behind it and jumps to the first.
		b.do(t, chromedp.Click(chromedp.CSS(`#matrix a.cell-link`)))
		cellIDs := eval[[]string](t, b, `document.querySelector("#matrix a.cell-link").dataset.findings.split(" ").map(id => "f-" + id)`)
		got := eval[[]string](t, b, jsVisibleIDs)
		slices.Sort(got)
		slices.Sort(cellIDs)
		if !slices.Equal(got, cellIDs) || len(got) == 0 || len(got) == all {
			t.Errorf("after following a cell, rows %q shown, want %q", got, cellIDs)
		}
		if hash := eval[string](t, b, `location.hash`); hash != "#"+cellIDs[0] && !slices.Contains(cellIDs, strings.TrimPrefix(hash, "#")) {
			t.Errorf("location.hash = %q, want one of %q", hash, cellIDs)
		}
		if eval[bool](t, b, `document.getElementById("cell-filter").hidden`) {
			t.Error("no notice says the table shows one cell's findings")
		}
		b.do(t, chromedp.Click(chromedp.ID("cell-filter-clear")))
		if got := eval[[]string](t, b, jsVisibleIDs); len(got) != all {
			t.Errorf("%d findings shown after clearing, want %d", len(got), all)
		}

		// Keyboard: the filters are labelled form controls; a cell link and a sort button
		// work with Enter.
		if got := eval[[]string](t, b, `Array.from(document.querySelectorAll(".filters select, .filters input"), e => e.labels.length ? e.labels[0].textContent : "unlabelled")`); !slices.Equal(got, []string{"Severity", "Check", "Job", "Search"}) {
			t.Errorf("filter labels = %q", got)
		}
		last := `Array.from(document.querySelectorAll("#matrix a.cell-link")).pop()`
		b.do(t, chromedp.Evaluate[chromedp.Void](last+`.focus()`), chromedp.KeyEvent("\r"))
		cellIDs = eval[[]string](t, b, last+`.dataset.findings.split(" ").map(id => "f-" + id)`)
		got = eval[[]string](t, b, jsVisibleIDs)
		slices.Sort(got)
		slices.Sort(cellIDs)
		if !slices.Equal(got, cellIDs) || len(got) == 0 {
			t.Errorf("Enter on the last cell link shows %q, want %q", got, cellIDs)
		}
		b.do(t, chromedp.Focus(chromedp.CSS(`th[data-sort="rank"] button`)), chromedp.KeyEvent("\r"))
		if got := eval[string](t, b, `document.querySelector('th[data-sort="rank"]').getAttribute("aria-sort")`); got != "ascending" {
			t.Errorf("Enter on the severity heading: aria-sort = %q", got)
		}
		b.do(t, chromedp.Click(chromedp.ID("cell-filter-clear")))
		b.screenshot(t, "demo.png")

		// Printed, the page drops the controls and keeps the cell colors.
		b.do(t, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
		if got := eval[string](t, b, `getComputedStyle(document.querySelector(".filters")).display`); got != "none" {
			t.Errorf("printed, the filters show (display %q)", got)
		}
		if got := eval[string](t, b, `getComputedStyle(document.querySelector("#matrix td.gap")).printColorAdjust`); got != "exact" {
			t.Errorf("printed, the gap cells may lose their color (print-color-adjust %q)", got)
		}
		if n := eval[int](t, b, `document.querySelectorAll("#findings-table tbody tr[hidden]").length`); n != 0 {
			t.Errorf("%d findings hidden when printing an unfiltered page", n)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(pdf), "%PDF-") || len(pdf) < 10000 {
			t.Errorf("printing gave %d bytes starting %q", len(pdf), pdf[:min(len(pdf), 8)])
		}
		path := filepath.Join(t.TempDir(), "demo.pdf")
		if err := os.WriteFile(path, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("printed: %s", path)
		b.do(t, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("Hostile label values show as text in Chromium, and none of their scripts runs.", func(t *testing.T) {
		rep := hostileReport()
		b.open(t, rep, "hostile.html")
		// Give an injected handler (an image's onerror) time to fire.
		b.do(t, chromedp.Sleep(300*time.Millisecond))
		if got := eval[string](t, b, `typeof window.__pwned`); got != "undefined" {
			t.Errorf("an injected script ran: window.__pwned is %s (%q)", got, eval[string](t, b, `String(window.__pwned)`))
		}
		b.mu.Lock()
		dialogs := slices.Clone(b.dialogs)
		b.mu.Unlock()
		if len(dialogs) > 0 {
			t.Errorf("dialogs opened: %q", dialogs)
		}
		jobs := eval[[]string](t, b, jsMatrixJobs)
		for _, j := range []string{scriptJob, imgJob, alertJob, "node"} {
			if !slices.Contains(jobs, j) {
				t.Errorf("no matrix row reads %q; rows: %q", j, jobs)
			}
		}
		// Should a value slip past the escaping, the page's Content-Security-Policy (its own
		// script's hash only) still keeps an inline script from running.
		if got := eval[string](t, b, `(function () {
			const s = document.createElement("script");
			s.textContent = "window.__csp = 1";
			document.body.appendChild(s);
			s.remove();
			return typeof window.__csp;
		})()`); got != "undefined" {
			t.Errorf("an inline script added to the page ran (window.__csp is %s): the CSP does not hold", got)
		}
		if n := eval[int](t, b, `document.scripts.length`); n != 1 {
			t.Errorf("%d script elements, want the page's own", n)
		}
		if n := eval[int](t, b, `document.querySelectorAll("img, svg, iframe, object, embed").length`); n != 0 {
			t.Errorf("%d injected elements", n)
		}
		if got := eval[[]string](t, b, `Array.from(document.links, a => a.getAttribute("href")).filter(h => !/^(#|https?:\/\/)/.test(h))`); len(got) != 0 {
			t.Errorf("links that are neither anchors nor http(s): %q", got)
		}
		body := eval[string](t, b, `document.body.innerText`)
		for _, want := range []string{hostileLine, jsURL, hostileLabel} {
			if !strings.Contains(body, want) {
				t.Errorf("the page does not read %q", want)
			}
		}
		// The filters still work with hostile job names.
		key := eval[string](t, b, `Array.from(document.querySelectorAll("#filter-job option")).find(o => o.textContent === `+jsString(scriptJob)+`).value`)
		eval[string](t, b, jsSelect+`("filter-job", `+jsString(key)+`)`)
		var want []string
		for _, f := range rep.Findings {
			if f.Subject["job"] == scriptJob {
				want = append(want, "f-"+f.ID)
			}
		}
		if got := eval[[]string](t, b, jsVisibleIDs); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("job filter on the hostile job shows %q, want %q", got, want)
		}
		b.screenshot(t, "hostile.png")
	})

	t.Run("The sparklines of a flatlined counter and a vanished job are drawn at their size, their line within the drawing, and named by their label.", func(t *testing.T) {
		b.open(t, historyReport(true), "history.html")
		got := eval[[]string](t, b, `Array.from(document.querySelectorAll("#findings-table svg"), svg => {
			const box = svg.getBoundingClientRect(), line = svg.querySelector("polyline").getBBox();
			return [svg.closest("tr").dataset.check, Math.round(box.width) + "x" + Math.round(box.height),
				line.x >= 0 && line.y >= 0 && line.x + line.width <= 120 && line.y + line.height <= 24, svg.getAttribute("aria-label").length > 0].join(" ");
		})`)
		want := []string{"business/flatlined 120x24 true true", "jobs/vanished 120x24 true true"}
		if !slices.Equal(got, want) {
			t.Errorf("sparklines %q, want %q", got, want)
		}
		b.screenshot(t, "history.png")
	})
}

// findingText is every value of a finding the page shows in its row.
func findingText(f analyze.Finding) string {
	parts := []string{f.Severity.String(), f.Check, f.Message, f.Fix, f.File, f.Group}
	for k, v := range f.Subject {
		parts = append(parts, k, v)
	}
	for k, v := range f.Details {
		parts = append(parts, k, v)
	}
	return strings.Join(parts, "\n")
}
