package grafana

import (
	"context"
	"errors"

	"github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// The calls below read and write single dashboards and folders for publish/grafana, which
// pushes generated dashboards: they share the client's transport and its error conversion
// (every error of Grafana's is an *APIError).

// StoredDashboard returns the model and metadata Grafana holds under uid (an *APIError with
// status 404 when there is none).
func (c *Client) StoredDashboard(ctx context.Context, uid string) (map[string]any, *models.DashboardMeta, error) {
	f, err := c.getDashboard(ctx, uid)
	return f.model, f.meta, err
}

// PageURL is the address of a page of Grafana from the path Grafana gives for it (which
// includes its sub path).
func (c *Client) PageURL(path string) string { return c.pageURL(path) }

// FindFolder returns the folder with the title, or nil. Folders are listed page by page.
func (c *Client) FindFolder(ctx context.Context, title string) (*models.FolderSearchHit, error) {
	var found *models.FolderSearchHit
	limit := int64(DefaultPageSize)
	err := eachPage(DefaultPageSize, func(page int64) (int, bool, error) {
		resp, err := c.api.Folders.GetFolders(folders.NewGetFoldersParamsWithContext(ctx).WithLimit(&limit).WithPage(&page))
		if err != nil {
			return 0, false, apiError(err)
		}
		for _, f := range resp.GetPayload() {
			if f != nil && f.Title == title && found == nil {
				found = f
			}
		}
		return len(resp.GetPayload()), found != nil, nil
	})
	return found, err
}

// CreateFolder creates a folder with the title.
func (c *Client) CreateFolder(ctx context.Context, title string) (*models.Folder, error) {
	resp, err := c.api.Folders.CreateFolderWithParams(folders.NewCreateFolderParamsWithContext(ctx).WithBody(&models.CreateFolderCommand{Title: title}))
	if err != nil {
		return nil, apiError(err)
	}
	if resp.GetPayload() == nil || resp.GetPayload().UID == "" {
		return nil, errors.New("the answer names no folder uid")
	}
	return resp.GetPayload(), nil
}

// SaveDashboard saves a dashboard (POST /api/dashboards/db) and returns the address of its
// page, or "" when the answer names none.
func (c *Client) SaveDashboard(ctx context.Context, cmd *models.SaveDashboardCommand) (string, error) {
	resp, err := c.api.Dashboards.PostDashboardWithParams(dashboards.NewPostDashboardParamsWithContext(ctx).WithBody(cmd))
	if err != nil {
		return "", apiError(err)
	}
	body := resp.GetPayload()
	if body == nil || body.URL == nil {
		return "", nil
	}
	return c.pageURL(*body.URL), nil
}
