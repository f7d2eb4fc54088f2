// Package fakegrafana is a small in-memory Grafana for tests: it answers the endpoints
// blindspot uses as Grafana's documented HTTP API does (status codes, JSON shapes, error
// bodies) and records every request so that tests can assert what the client sent.
//
// Grafana itself cannot run in the tests (AGPL, not packaged). The behaviour kept here is the
// documented one: /api/search pages with limit and page and sorts by title; POST
// /api/dashboards/db refuses a stale version (412 version-mismatch) or a title taken in the
// folder (412 name-exists) unless overwrite is set; 401 without valid credentials; 403 for an
// action the caller's role lacks.
package fakegrafana

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Request is one request the fake received.
type Request struct {
	Method        string
	Path          string
	Query         url.Values
	Authorization string
	Body          []byte
}

// Folder is a Grafana folder.
type Folder struct {
	ID    int64
	UID   string
	Title string
}

type dashboard struct {
	id        int64
	uid       string
	folderUID string
	version   int64
	model     map[string]any
}

// Server is the fake. Configure it before serving; its methods are safe for concurrent use.
type Server struct {
	// Token is the service account token expected as "Bearer <Token>"; User and Password
	// the basic auth credentials accepted instead. With none set, any request is accepted.
	Token, User, Password string
	// Deny lists the actions the caller may not perform, as Grafana's RBAC names them:
	// "folders:create", and "dashboards:write" (optionally ":<folder uid>" for one folder).
	Deny []string

	mu         sync.Mutex
	dashboards map[string]*dashboard
	folders    []Folder
	nextID     int64
	requests   []Request
}

// New returns an empty fake.
func New() *Server { return &Server{dashboards: map[string]*dashboard{}} }

// AddFolder stores a folder.
func (s *Server) AddFolder(uid, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.folders = append(s.folders, Folder{ID: s.nextID, UID: uid, Title: title})
}

// AddDashboard stores a dashboard model (a plain dashboard or the export wrapper) in a
// folder ("" for General). A model without uid gets one derived from its title.
func (s *Server) AddDashboard(folderUID string, content []byte) (uid string, err error) {
	var m map[string]any
	if err := json.Unmarshal(content, &m); err != nil {
		return "", err
	}
	if inner, ok := m["dashboard"].(map[string]any); ok {
		m = inner
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, _ = m["uid"].(string)
	if uid == "" {
		uid = slug(fmt.Sprint(m["title"]))
	}
	version := int64(1)
	if v, ok := m["version"].(float64); ok && v > 0 {
		version = int64(v)
	}
	s.nextID++
	s.store(&dashboard{id: s.nextID, uid: uid, folderUID: folderUID, version: version, model: m})
	return uid, nil
}

// AddDashboardFiles stores the dashboards of JSON files (plain or export wrapper) in a folder.
func (s *Server) AddDashboardFiles(folderUID string, files ...string) error {
	for _, f := range files {
		content, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := s.AddDashboard(folderUID, content); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

func (s *Server) store(d *dashboard) {
	d.model["id"], d.model["uid"], d.model["version"] = d.id, d.uid, d.version
	s.dashboards[d.uid] = d
}

// Dashboard returns the stored model of a dashboard and its folder uid.
func (s *Server) Dashboard(uid string) (model map[string]any, folderUID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dashboards[uid]
	if !ok {
		return nil, "", false
	}
	return d.model, d.folderUID, true
}

// Folders returns the folders.
func (s *Server) Folders() []Folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.folders)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Start serves the fake on a local port until the returned server is closed.
func (s *Server) Start() *httptest.Server { return httptest.NewServer(s) }

var dashboardPath = regexp.MustCompile(`^/api/dashboards/uid/([^/]+)$`)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Authorization: r.Header.Get("Authorization"), Body: body,
	})
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized"})
		return
	}
	switch m := dashboardPath.FindStringSubmatch(r.URL.Path); {
	case r.Method == http.MethodGet && r.URL.Path == "/api/search":
		s.search(w, r.URL.Query())
	case r.Method == http.MethodGet && m != nil:
		s.getDashboard(w, m[1])
	case r.Method == http.MethodGet && r.URL.Path == "/api/folders":
		s.listFolders(w, r.URL.Query())
	case r.Method == http.MethodPost && r.URL.Path == "/api/folders":
		s.createFolder(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db":
		s.postDashboard(w, body)
	default:
		// Grafana answers unknown API paths with this body.
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found"})
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.Token == "" && s.User == "" {
		return true
	}
	if s.Token != "" && r.Header.Get("Authorization") == "Bearer "+s.Token {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return s.User != "" && ok && user == s.User && pass == s.Password
}

// denied writes the answer of Grafana's access control middleware when action is denied.
func (s *Server) denied(w http.ResponseWriter, action string) bool {
	if !slices.Contains(s.Deny, action) {
		return false
	}
	writeJSON(w, http.StatusForbidden, map[string]any{
		"accessErrorId": "ACE0000000001",
		"message":       "You'll need additional permissions to perform this action. Permissions needed: " + action,
		"title":         "Access denied",
	})
	return true
}

// pageParams reads limit and page as Grafana does: defaults 1000 and 1.
func pageParams(q url.Values) (limit, page int) {
	limit, page = 1000, 1
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, 5000)
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 0 {
		page = p
	}
	return limit, page
}

func pageOf[T any](items []T, limit, page int) []T {
	start := (page - 1) * limit
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+limit, len(items))]
}

func (s *Server) folder(uid string) (Folder, bool) {
	i := slices.IndexFunc(s.folders, func(f Folder) bool { return f.UID == uid })
	if i < 0 {
		return Folder{}, false
	}
	return s.folders[i], true
}

func (s *Server) search(w http.ResponseWriter, q url.Values) {
	type hit struct {
		title string
		v     map[string]any
	}
	var hits []hit
	typ := q.Get("type")
	if typ == "" || typ == "dash-folder" {
		for _, f := range s.folders {
			hits = append(hits, hit{f.Title, map[string]any{
				"id": f.ID, "uid": f.UID, "orgId": 1, "title": f.Title, "uri": "db/" + slug(f.Title),
				"url": "/dashboards/f/" + f.UID + "/" + slug(f.Title), "slug": "", "type": "dash-folder",
				"tags": []string{}, "isStarred": false, "sortMeta": 0, "isDeleted": false,
			}})
		}
	}
	if typ == "" || typ == "dash-db" {
		for _, d := range s.dashboards {
			title, _ := d.model["title"].(string)
			h := map[string]any{
				"id": d.id, "uid": d.uid, "orgId": 1, "title": title, "uri": "db/" + slug(title),
				"url": dashboardURL(d.uid, title), "slug": "", "type": "dash-db",
				"tags": tagsOf(d.model), "isStarred": false, "sortMeta": 0, "isDeleted": false,
			}
			if f, ok := s.folder(d.folderUID); ok {
				h["folderId"], h["folderUid"], h["folderTitle"] = f.ID, f.UID, f.Title
				h["folderUrl"] = "/dashboards/f/" + f.UID + "/" + slug(f.Title)
			}
			hits = append(hits, hit{title, h})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return strings.Compare(strings.ToLower(a.title), strings.ToLower(b.title))
	})
	limit, page := pageParams(q)
	out := []map[string]any{}
	for _, h := range pageOf(hits, limit, page) {
		out = append(out, h.v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getDashboard(w http.ResponseWriter, uid string) {
	d, ok := s.dashboards[uid]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Dashboard not found"})
		return
	}
	title, _ := d.model["title"].(string)
	meta := map[string]any{
		"type": "db", "canSave": true, "canEdit": true, "canAdmin": true, "canStar": true,
		"canDelete": true, "slug": slug(title), "url": dashboardURL(d.uid, title),
		"expires": "0001-01-01T00:00:00Z", "created": "2026-11-20T10:00:00Z",
		"updated": "2026-11-25T10:00:00Z", "updatedBy": "admin", "createdBy": "admin",
		"version": d.version, "hasAcl": false, "isFolder": false, "folderId": 0,
		"folderUid": "", "folderTitle": "General", "folderUrl": "", "provisioned": false,
		"provisionedExternalId": "", "annotationsPermissions": map[string]any{
			"dashboard":    map[string]any{"canAdd": true, "canEdit": true, "canDelete": true},
			"organization": map[string]any{"canAdd": true, "canEdit": true, "canDelete": true},
		},
	}
	if f, ok := s.folder(d.folderUID); ok {
		meta["folderId"], meta["folderUid"], meta["folderTitle"] = f.ID, f.UID, f.Title
		meta["folderUrl"] = "/dashboards/f/" + f.UID + "/" + slug(f.Title)
	}
	writeJSON(w, http.StatusOK, map[string]any{"dashboard": d.model, "meta": meta})
}

func (s *Server) listFolders(w http.ResponseWriter, q url.Values) {
	limit, page := pageParams(q)
	out := []map[string]any{}
	for _, f := range pageOf(s.folders, limit, page) {
		out = append(out, map[string]any{"id": f.ID, "uid": f.UID, "title": f.Title})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createFolder(w http.ResponseWriter, body []byte) {
	if s.denied(w, "folders:create") {
		return
	}
	var cmd struct {
		UID   string `json:"uid"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal(body, &cmd); err != nil || strings.TrimSpace(cmd.Title) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "folder title cannot be empty"})
		return
	}
	for _, f := range s.folders {
		if strings.EqualFold(f.Title, cmd.Title) {
			writeJSON(w, http.StatusConflict, map[string]any{"message": "a folder with the same name already exists", "status": "name-exists"})
			return
		}
	}
	if cmd.UID == "" {
		cmd.UID = fmt.Sprintf("f%08d", s.nextID+1)
	}
	s.nextID++
	f := Folder{ID: s.nextID, UID: cmd.UID, Title: cmd.Title}
	s.folders = append(s.folders, f)
	writeJSON(w, http.StatusOK, map[string]any{
		"id": f.ID, "uid": f.UID, "title": f.Title, "url": "/dashboards/f/" + f.UID + "/" + slug(f.Title),
		"hasAcl": false, "canSave": true, "canEdit": true, "canAdmin": true, "canDelete": true,
		"createdBy": "admin", "created": "2026-11-26T06:00:00Z", "updatedBy": "admin",
		"updated": "2026-11-26T06:00:00Z", "version": 1,
	})
}

// postDashboard creates or updates a dashboard as Grafana's SaveDashboard does.
func (s *Server) postDashboard(w http.ResponseWriter, body []byte) {
	var cmd struct {
		Dashboard map[string]any `json:"dashboard"`
		FolderUID string         `json:"folderUid"`
		Overwrite bool           `json:"overwrite"`
		Message   string         `json:"message"`
	}
	if err := json.Unmarshal(body, &cmd); err != nil || cmd.Dashboard == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "bad request data"})
		return
	}
	if cmd.FolderUID != "" {
		if _, ok := s.folder(cmd.FolderUID); !ok {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "folder not found", "status": "not-found"})
			return
		}
	}
	if slices.Contains(s.Deny, "dashboards:write") || slices.Contains(s.Deny, "dashboards:write:"+cmd.FolderUID) {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Access denied to save dashboard", "status": "access-denied"})
		return
	}
	m := cmd.Dashboard
	title, _ := m["title"].(string)
	if strings.TrimSpace(title) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Dashboard title cannot be empty", "status": "empty-name"})
		return
	}
	uid, _ := m["uid"].(string)
	version, _ := m["version"].(float64)
	existing := s.dashboards[uid]
	if existing != nil && int64(version) != existing.version && !cmd.Overwrite {
		writeJSON(w, http.StatusPreconditionFailed, map[string]any{"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
		return
	}
	for _, other := range s.dashboards {
		if other != existing && other.folderUID == cmd.FolderUID && strings.EqualFold(fmt.Sprint(other.model["title"]), title) {
			if !cmd.Overwrite {
				writeJSON(w, http.StatusPreconditionFailed, map[string]any{"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"})
				return
			}
			// With overwrite, Grafana replaces the dashboard that has the title.
			existing = other
			uid = other.uid
		}
	}
	d := &dashboard{uid: uid, folderUID: cmd.FolderUID, version: 1, model: m}
	if existing != nil {
		d.id, d.version = existing.id, existing.version+1
		delete(s.dashboards, existing.uid)
	} else {
		s.nextID++
		d.id = s.nextID
	}
	if d.uid == "" {
		d.uid = fmt.Sprintf("d%08d", d.id)
	}
	s.store(d)
	writeJSON(w, http.StatusOK, map[string]any{
		"id": d.id, "uid": d.uid, "url": dashboardURL(d.uid, title), "status": "success",
		"version": d.version, "slug": slug(title), "folderUid": d.folderUID,
	})
}

func tagsOf(m map[string]any) []string {
	tags := []string{}
	list, _ := m["tags"].([]any)
	for _, t := range list {
		if s, ok := t.(string); ok {
			tags = append(tags, s)
		}
	}
	return tags
}

func dashboardURL(uid, title string) string { return "/d/" + uid + "/" + slug(title) }

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug is Grafana's slugify for ASCII titles.
func slug(title string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(title), "-"), "-")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
