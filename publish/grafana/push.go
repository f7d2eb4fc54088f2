// Package grafana pushes the dashboards blindspot generated to a Grafana, by uid, through the
// client of analyze/collect/grafana (its transport, authentication and error conversion).
// Pushing is not collection: it changes Grafana, and only `blindspot push grafana` does it.
package grafana

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"

	"github.com/grafana/grafana-openapi-client-go/models"

	collectgrafana "github.com/blindspot-dev/blindspot/analyze/collect/grafana"
)

// Upload is a dashboard to push: its model and the file it was read from.
type Upload struct {
	File  string
	Model map[string]any
}

// PushOptions say where and how to push.
type PushOptions struct {
	// Folder is the title of the folder to push into, created when missing. Empty: new
	// dashboards go to the General folder and existing ones stay where they are.
	Folder string
	// OwnerTag marks the dashboards blindspot may change: a dashboard in Grafana with the same
	// uid but without the tag is never touched.
	OwnerTag string
	// Message is the version message Grafana keeps with each change.
	Message string
	DryRun  bool
}

// Action is what a push does to one dashboard.
type Action string

const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Pushed is the outcome for one dashboard (with DryRun, what would be done).
type Pushed struct {
	UID, Title, File string
	Action           Action
	// URL is the dashboard's address in Grafana; empty for a dry run of a new dashboard.
	URL string
}

// PushResult is what a push did.
type PushResult struct {
	// FolderCreated is set when the folder was (or, with DryRun, would be) created.
	FolderCreated bool
	FolderUID     string
	Dashboards    []Pushed
}

// Counts counts the dashboards by what was done to them.
func (r PushResult) Counts() map[Action]int {
	counts := map[Action]int{}
	for _, d := range r.Dashboards {
		counts[d.Action]++
	}
	return counts
}

// PushError is a push that Grafana refused or that blindspot refused to make, in one line.
type PushError struct {
	msg string
	err error
}

func (e *PushError) Error() string { return e.msg }
func (e *PushError) Unwrap() error { return e.err }

// planned is one upload with what Grafana holds under its uid.
type planned struct {
	up      Upload
	uid     string
	title   string
	action  Action
	version int64  // of the dashboard in Grafana, for the optimistic lock
	folder  string // folder uid to save into
	url     string
}

// Push creates or updates the uploads by uid. It first reads what Grafana holds under every
// uid and refuses the whole push, changing nothing, when one of them is a dashboard blindspot
// does not own. Then it creates the folder if needed and saves each dashboard that differs,
// never with overwrite: the version read is sent back, so a dashboard changed in between
// (412 version-mismatch) or another dashboard with the same title in the folder
// (412 name-exists) stops the push with an error instead of being replaced.
func Push(ctx context.Context, c *collectgrafana.Client, ups []Upload, o PushOptions) (PushResult, error) {
	var res PushResult
	folderUID, folderExists := "", true
	if o.Folder != "" {
		f, err := c.FindFolder(ctx, o.Folder)
		if err != nil {
			return res, pushError(err, "looking up folder %q", o.Folder)
		}
		if f == nil {
			folderExists = false
		} else {
			folderUID = f.UID
		}
	}

	plan := make([]planned, 0, len(ups))
	files := map[string]string{} // uid → file
	for _, up := range ups {
		p, err := planOne(ctx, c, up, o, folderUID, folderExists)
		if err != nil {
			return res, err
		}
		if other, dup := files[p.uid]; dup {
			return res, &PushError{msg: fmt.Sprintf("%s and %s both hold dashboard %s", other, up.File, p.uid)}
		}
		files[p.uid] = up.File
		plan = append(plan, p)
	}

	if !folderExists {
		res.FolderCreated = true
		if !o.DryRun {
			f, err := c.CreateFolder(ctx, o.Folder)
			if err != nil {
				return res, pushError(err, "creating folder %q", o.Folder)
			}
			folderUID = f.UID
			for i := range plan {
				plan[i].folder = folderUID
			}
		}
	}
	res.FolderUID = folderUID
	for _, p := range plan {
		out := Pushed{UID: p.uid, Title: p.title, File: p.up.File, Action: p.action, URL: p.url}
		if p.action != Unchanged && !o.DryRun {
			url, err := save(ctx, c, p, o.Message)
			if err != nil {
				return res, err
			}
			out.URL = url
		}
		res.Dashboards = append(res.Dashboards, out)
	}
	return res, nil
}

func planOne(ctx context.Context, c *collectgrafana.Client, up Upload, o PushOptions, folderUID string, folderExists bool) (planned, error) {
	uid, _ := up.Model["uid"].(string)
	title, _ := up.Model["title"].(string)
	if uid == "" {
		return planned{}, &PushError{msg: fmt.Sprintf("%s: the dashboard has no uid", up.File)}
	}
	p := planned{up: up, uid: uid, title: title, action: Created, folder: folderUID}
	model, meta, err := c.StoredDashboard(ctx, uid)
	switch {
	case collectgrafana.StatusOf(err) == http.StatusNotFound:
		return p, nil
	case err != nil:
		return p, pushError(err, "reading dashboard %s", uid)
	}
	if !slices.Contains(tagsOf(model), o.OwnerTag) {
		existingTitle, _ := model["title"].(string)
		return p, &PushError{msg: fmt.Sprintf("dashboard %s (%q) in Grafana is not blindspot's (no tag %s): not changing it; remove it or give the generated dashboard another uid", uid, existingTitle, o.OwnerTag)}
	}
	if meta != nil {
		p.version = meta.Version
		p.url = c.PageURL(meta.URL)
		if o.Folder == "" {
			p.folder = meta.FolderUID
		}
	}
	sameFolder := folderExists && meta != nil && meta.FolderUID == p.folder
	if sameFolder && sameContent(up.Model, model) {
		p.action = Unchanged
	} else {
		p.action = Updated
	}
	return p, nil
}

// sameContent compares two dashboard models, ignoring what Grafana sets on saving.
func sameContent(a, b map[string]any) bool {
	strip := func(m map[string]any) map[string]any {
		m = maps.Clone(m)
		delete(m, "id")
		delete(m, "version")
		return m
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

func tagsOf(m map[string]any) []string {
	var tags []string
	list, _ := m["tags"].([]any)
	for _, t := range list {
		if s, ok := t.(string); ok {
			tags = append(tags, s)
		}
	}
	return tags
}

func save(ctx context.Context, c *collectgrafana.Client, p planned, message string) (string, error) {
	model := maps.Clone(p.up.Model)
	delete(model, "id")
	model["version"] = p.version
	url, err := c.SaveDashboard(ctx, &models.SaveDashboardCommand{Dashboard: model, FolderUID: p.folder, Message: message})
	if err != nil {
		return "", pushError(err, "saving dashboard %s (%s)", p.uid, p.up.File)
	}
	return url, nil
}

// pushError explains an error of Grafana's in one line, with what to do about it.
func pushError(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var ae *collectgrafana.APIError
	if !errors.As(err, &ae) {
		return &PushError{msg: fmt.Sprintf("%s: %v", what, err), err: err}
	}
	hint := ""
	switch {
	case ae.Status == http.StatusUnauthorized:
		hint = " (check grafana.bearer_token_file or grafana.basic_auth)"
	case ae.Status == http.StatusForbidden:
		hint = " (the service account or user lacks the permission: it needs folders:read and folders:create, and dashboards:create and dashboards:write on the folder, e.g. the Editor role)"
	case ae.Reason == "version-mismatch":
		hint = " (someone saved it while blindspot pushed: run the push again)"
	case ae.Reason == "name-exists":
		hint = " (another dashboard in the folder has this title: rename or move it)"
	}
	return &PushError{msg: fmt.Sprintf("%s: Grafana answered %v%s", what, ae, hint), err: err}
}
