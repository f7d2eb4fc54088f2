package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/search"
	"github.com/grafana/grafana-openapi-client-go/models"

	dashmodel "github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
)

// Options bound what Read asks of Grafana.
type Options struct {
	// PageSize is the search limit per page. Zero means DefaultPageSize.
	PageSize int
	// Concurrency bounds the dashboards fetched at once. Zero means DefaultConcurrency.
	Concurrency int
	// Progress, when set, is called as dashboards are fetched (done of total), so that a
	// terminal can show how far a large Grafana is read. Calls do not overlap.
	Progress func(done, total int)
}

const (
	// DefaultPageSize is Grafana's own default search limit (its maximum is 5000).
	DefaultPageSize = 1000
	// DefaultConcurrency matches the transport's default limit of requests in flight.
	DefaultConcurrency = 4
	// maxPages stops paging through a server that ignores the page parameter and answers
	// every page in full.
	maxPages = 1000
)

// Dashboard is one dashboard as Grafana stores it.
type Dashboard struct {
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	FolderUID   string   `json:"folder_uid,omitempty"`
	FolderTitle string   `json:"folder_title,omitempty"`
	Tags        []string `json:"tags"`
	// URL is where the dashboard is shown (the server's address and the dashboard's path).
	URL     string `json:"url"`
	Version int64  `json:"version"`
	// JSON is the dashboard model exactly as Grafana answered it.
	JSON json.RawMessage `json:"dashboard"`
}

// Result is what Read found. Err is set when the dashboards could not all be read: the
// dashboards that were read are kept, but a coverage judgement on them would be wrong.
type Result struct {
	Dashboards []Dashboard // sorted by UID
	// Notes are dashboards listed by the search that were gone when fetched.
	Notes []string
	Err   error
}

// Read lists every dashboard with /api/search (type dash-db, page by page until a short page)
// and fetches each with /api/dashboards/uid/:uid, at most o.Concurrency at once.
func Read(ctx context.Context, c *Client, o Options, logger *slog.Logger) Result {
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	hits, err := c.searchDashboards(ctx, o.PageSize)
	if err != nil {
		return Result{Err: fmt.Errorf("listing dashboards: %w", err)}
	}
	logger.Debug("grafana dashboards listed", "count", len(hits))

	var (
		res     Result
		fetched int
		mu      sync.Mutex
		wg      sync.WaitGroup
		work    = make(chan *models.Hit)
	)
	for range min(o.Concurrency, max(len(hits), 1)) {
		wg.Go(func() {
			for h := range work {
				d, err := c.dashboard(ctx, h)
				mu.Lock()
				switch {
				case StatusOf(err) == http.StatusNotFound:
					res.Notes = append(res.Notes, fmt.Sprintf("dashboard %s (%q) was deleted while being read", h.UID, h.Title))
				case err != nil:
					res.Err = errors.Join(res.Err, fmt.Errorf("reading dashboard %s: %w", h.UID, err))
				default:
					res.Dashboards = append(res.Dashboards, d)
				}
				fetched++
				if o.Progress != nil {
					o.Progress(fetched, len(hits))
				}
				mu.Unlock()
			}
		})
	}
	for _, h := range hits {
		if ctx.Err() != nil {
			break
		}
		work <- h
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil && res.Err == nil {
		res.Err = context.Cause(ctx)
	}
	if res.Err != nil {
		res.Err = firstError(res.Err)
	}
	slices.SortFunc(res.Dashboards, func(a, b Dashboard) int { return strings.Compare(a.UID, b.UID) })
	slices.Sort(res.Notes)
	return res
}

// firstError keeps one error of a join (and says how many more), so that a Grafana refusing
// every request gives one line.
func firstError(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok || len(j.Unwrap()) < 2 {
		return err
	}
	errs := j.Unwrap()
	return fmt.Errorf("%w (and %d more dashboards)", errs[0], len(errs)-1)
}

// searchDashboards pages through /api/search until a page is short.
func (c *Client) searchDashboards(ctx context.Context, pageSize int) ([]*models.Hit, error) {
	var (
		out  []*models.Hit
		seen = map[string]bool{}
		typ  = "dash-db"
		lim  = int64(pageSize)
	)
	err := eachPage(pageSize, func(page int64) (int, bool, error) {
		resp, err := c.api.Search.Search(search.NewSearchParamsWithContext(ctx).WithType(&typ).WithLimit(&lim).WithPage(&page))
		if err != nil {
			return 0, false, apiError(err)
		}
		added := 0
		for _, h := range resp.GetPayload() {
			if h == nil || h.UID == "" || h.Type != "dash-db" || seen[h.UID] {
				continue
			}
			seen[h.UID] = true
			out = append(out, h)
			added++
		}
		// A page that adds nothing new is a server ignoring the page parameter.
		return len(resp.GetPayload()), added == 0, nil
	})
	return out, err
}

// eachPage calls fetch with pages 1, 2, … until a page holds fewer than pageSize items or
// fetch says to stop.
func eachPage(pageSize int, fetch func(page int64) (n int, stop bool, err error)) error {
	for page := int64(1); page <= maxPages; page++ {
		n, stop, err := fetch(page)
		if err != nil || stop || n < pageSize {
			return err
		}
	}
	return fmt.Errorf("more than %d pages of %d: the listing does not end", maxPages, pageSize)
}

// dashboard fetches one dashboard by uid.
func (c *Client) dashboard(ctx context.Context, h *models.Hit) (Dashboard, error) {
	full, err := c.getDashboard(ctx, h.UID)
	if err != nil {
		return Dashboard{}, err
	}
	d := Dashboard{
		UID:         h.UID,
		Title:       h.Title,
		FolderUID:   h.FolderUID,
		FolderTitle: h.FolderTitle,
		Tags:        h.Tags,
		URL:         c.pageURL(h.URL),
		JSON:        full.json,
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	if m := full.meta; m != nil {
		d.Version = m.Version
		if d.FolderUID == "" && m.FolderUID != "" {
			d.FolderUID, d.FolderTitle = m.FolderUID, m.FolderTitle
		}
	}
	return d, nil
}

// fetched is a dashboard's model and metadata as /api/dashboards/uid/:uid answers them.
type fetched struct {
	json  json.RawMessage
	model map[string]any
	meta  *models.DashboardMeta
}

func (c *Client) getDashboard(ctx context.Context, uid string) (fetched, error) {
	resp, err := c.api.Dashboards.GetDashboardByUIDWithParams(dashboards.NewGetDashboardByUIDParamsWithContext(ctx).WithUID(uid))
	if err != nil {
		return fetched{}, apiError(err)
	}
	body := resp.GetPayload()
	model, ok := body.Dashboard.(map[string]any)
	if !ok {
		return fetched{}, fmt.Errorf("the answer holds no dashboard object")
	}
	raw, err := json.Marshal(model)
	if err != nil {
		return fetched{}, fmt.Errorf("encoding dashboard %s: %w", uid, err)
	}
	return fetched{json: raw, model: model, meta: body.Meta}, nil
}

// pageURL joins the server's origin and a path Grafana gives (which includes its sub path).
func (c *Client) pageURL(path string) string {
	if path == "" || !strings.HasPrefix(path, "/") {
		return c.base + "/" + strings.TrimPrefix(path, "/")
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return c.base + path
	}
	u.Path, u.RawQuery = "", ""
	return strings.TrimSuffix(u.String(), "/") + path
}

// Parse extracts the PromQL of the dashboards, each named by its URL. A dashboard whose model
// holds no panels is skipped with a note.
func Parse(ds []Dashboard) ([]dashmodel.Dashboard, []string, error) {
	out := []dashmodel.Dashboard{}
	var notes []string
	for _, d := range ds {
		parsed, skipped, err := dashmodel.ParseJSON(d.URL, d.JSON)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, parsed...)
		for _, s := range skipped {
			notes = append(notes, fmt.Sprintf("skipped %s: %s", s.File, s.Reason))
		}
	}
	return out, notes, nil
}
