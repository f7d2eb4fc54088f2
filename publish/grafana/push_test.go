package grafana_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
	"github.com/blindspot-dev/blindspot/publish/grafana"
)

const (
	// generated are dashboards written by blindspot generate (the reviewed goldens).
	generated = "../../generate/dashboards/testdata/dashboards"
	ownerTag  = "generated_by:blindspot"
	token     = "glsa_test_token"
)

// generatedUploads reads the generated golden dashboards as push uploads.
func generatedUploads(t *testing.T) []grafana.Upload {
	t.Helper()
	var ups []grafana.Upload
	for _, name := range []string{"api.json", "overview.json"} {
		path := filepath.Join(generated, name)
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(content, &m); err != nil {
			t.Fatal(err)
		}
		ups = append(ups, grafana.Upload{File: path, Model: m})
	}
	return ups
}

func actions(res grafana.PushResult) []string {
	var out []string
	for _, d := range res.Dashboards {
		out = append(out, string(d.Action)+" "+d.UID)
	}
	return out
}

func TestPush(t *testing.T) {
	opts := grafana.PushOptions{Folder: "Generated", OwnerTag: ownerTag, Message: "blindspot push"}
	ctx := context.Background()

	t.Run("A first push creates the folder and the dashboards, a second changes nothing.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		ups := generatedUploads(t)
		res, err := grafana.Push(ctx, c, ups, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.FolderCreated || !slices.Equal(actions(res), []string{"created bs-14c2529eb4498c5d", "created bs-overview"}) {
			t.Fatalf("folder created %v, %v", res.FolderCreated, actions(res))
		}
		folders := fake.Folders()
		folder := folders[len(folders)-1]
		if folder.Title != "Generated" || res.FolderUID != folder.UID {
			t.Errorf("folders %+v, pushed into %q", folders, res.FolderUID)
		}
		creates := fake.RequestsTo(http.MethodPost, "/api/folders")
		if len(creates) != 1 || strings.TrimSpace(string(creates[0].Body)) != `{"title":"Generated"}` {
			t.Errorf("folder creation requests %+v", creates)
		}
		posts := fake.RequestsTo(http.MethodPost, "/api/dashboards/db")
		if len(posts) != 2 {
			t.Fatalf("%d dashboard saves", len(posts))
		}
		var body struct {
			Dashboard map[string]any `json:"dashboard"`
			FolderUID string         `json:"folderUid"`
			Overwrite *bool          `json:"overwrite"`
			Message   string         `json:"message"`
		}
		if err := json.Unmarshal(posts[0].Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.FolderUID != folder.UID || body.Overwrite != nil || body.Message != "blindspot push" ||
			body.Dashboard["uid"] != "bs-14c2529eb4498c5d" || body.Dashboard["version"] != float64(0) {
			t.Errorf("save body: folder %q overwrite %v message %q uid %v version %v", body.FolderUID, body.Overwrite, body.Message, body.Dashboard["uid"], body.Dashboard["version"])
		}
		if posts[0].Authorization != "Bearer "+token {
			t.Errorf("Authorization %q", posts[0].Authorization)
		}
		if res.Dashboards[0].URL != srv.URL+"/d/bs-14c2529eb4498c5d/blindspot-api" {
			t.Errorf("url %q", res.Dashboards[0].URL)
		}

		again, err := grafana.Push(ctx, c, ups, opts)
		if err != nil {
			t.Fatal(err)
		}
		if again.FolderCreated || !slices.Equal(actions(again), []string{"unchanged bs-14c2529eb4498c5d", "unchanged bs-overview"}) {
			t.Errorf("second push: folder created %v, %v", again.FolderCreated, actions(again))
		}
		if n := len(fake.RequestsTo(http.MethodPost, "/api/dashboards/db")); n != 2 {
			t.Errorf("the second push saved: %d saves in all", n)
		}
	})

	t.Run("A changed dashboard is updated with the version Grafana holds, never with overwrite.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		ups := generatedUploads(t)
		if _, err := grafana.Push(ctx, c, ups, opts); err != nil {
			t.Fatal(err)
		}
		ups[0].Model["refresh"] = "5m"
		res, err := grafana.Push(ctx, c, ups, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(actions(res), []string{"updated bs-14c2529eb4498c5d", "unchanged bs-overview"}) {
			t.Fatalf("%v", actions(res))
		}
		posts := fake.RequestsTo(http.MethodPost, "/api/dashboards/db")
		last := posts[len(posts)-1]
		if !strings.Contains(string(last.Body), `"version":1`) || strings.Contains(string(last.Body), "overwrite") {
			t.Errorf("update body %s", last.Body[:min(len(last.Body), 200)])
		}
		model, _, _ := fake.Dashboard("bs-14c2529eb4498c5d")
		if model["refresh"] != "5m" || model["version"] != int64(2) {
			t.Errorf("stored refresh %v version %v", model["refresh"], model["version"])
		}
	})

	t.Run("A dashboard with the same uid that blindspot does not own stops the push before any change.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		ups := generatedUploads(t)
		theirs, _ := json.Marshal(map[string]any{"uid": "bs-overview", "title": "Hand made", "panels": []any{}, "tags": []any{"team"}})
		fake.AddDashboard("", theirs)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		_, err := grafana.Push(ctx, c, ups, opts)
		if err == nil || err.Error() != `dashboard bs-overview ("Hand made") in Grafana is not blindspot's (no tag generated_by:blindspot): not changing it; remove it or give the generated dashboard another uid` {
			t.Fatalf("err %v", err)
		}
		for _, r := range fake.Requests() {
			if r.Method != http.MethodGet {
				t.Errorf("%s %s sent although the push was refused", r.Method, r.Path)
			}
		}
	})

	t.Run("Two files with one uid stop the push before any change.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		ups := generatedUploads(t)
		ups = append(ups, grafana.Upload{File: "copy.json", Model: ups[0].Model})
		_, err := grafana.Push(ctx, c, ups, opts)
		want := filepath.Join(generated, "api.json") + " and copy.json both hold dashboard bs-14c2529eb4498c5d"
		if err == nil || err.Error() != want {
			t.Errorf("err %v", err)
		}
		if n := len(fake.RequestsTo(http.MethodPost, "/api/dashboards/db")); n != 0 {
			t.Errorf("%d saves", n)
		}
	})

	t.Run("A dry run reads and reports but changes nothing.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		dry := opts
		dry.DryRun = true
		res, err := grafana.Push(ctx, c, generatedUploads(t), dry)
		if err != nil {
			t.Fatal(err)
		}
		if !res.FolderCreated || !slices.Equal(actions(res), []string{"created bs-14c2529eb4498c5d", "created bs-overview"}) {
			t.Errorf("folder %v, %v", res.FolderCreated, actions(res))
		}
		for _, r := range fake.Requests() {
			if r.Method != http.MethodGet {
				t.Errorf("dry run sent %s %s", r.Method, r.Path)
			}
		}
	})

	t.Run("Grafana's refusals become one line with what to do.", func(t *testing.T) {
		for name, tc := range map[string]struct {
			setup func(*fakegrafana.Server)
			token string
			want  string
		}{
			"unauthorized": {
				token: "wrong",
				want:  `looking up folder "Generated": Grafana answered HTTP 401: Unauthorized (check grafana.bearer_token_file or grafana.basic_auth)`,
			},
			"no folder permission": {
				setup: func(f *fakegrafana.Server) { f.Deny = []string{"folders:create"} },
				want:  `creating folder "Generated": Grafana answered HTTP 403: You'll need additional permissions to perform this action. Permissions needed: folders:create (the service account or user lacks the permission: it needs folders:read and folders:create, and dashboards:create and dashboards:write on the folder, e.g. the Editor role)`,
			},
			"no dashboard permission in the folder": {
				setup: func(f *fakegrafana.Server) {
					f.AddFolder("gen", "Generated")
					f.Deny = []string{"dashboards:write:gen"}
				},
				want: "saving dashboard bs-14c2529eb4498c5d (" + filepath.Join(generated, "api.json") + `): Grafana answered HTTP 403: Access denied to save dashboard (the service account or user lacks the permission: it needs folders:read and folders:create, and dashboards:create and dashboards:write on the folder, e.g. the Editor role)`,
			},
			"title taken in the folder": {
				setup: func(f *fakegrafana.Server) {
					f.AddFolder("gen", "Generated")
					theirs, _ := json.Marshal(map[string]any{"uid": "theirs", "title": "blindspot / api", "panels": []any{}})
					f.AddDashboard("gen", theirs)
				},
				want: "saving dashboard bs-14c2529eb4498c5d (" + filepath.Join(generated, "api.json") + `): Grafana answered HTTP 412: A dashboard with the same name in the folder already exists (another dashboard in the folder has this title: rename or move it)`,
			},
		} {
			t.Run(name, func(t *testing.T) {
				fake, srv := fakegrafana.ServeCorpus(t, token)
				if tc.setup != nil {
					tc.setup(fake)
				}
				tok := token
				if tc.token != "" {
					tok = tc.token
				}
				c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: tok})
				_, err := grafana.Push(ctx, c, generatedUploads(t), opts)
				var pe *grafana.PushError
				if !errors.As(err, &pe) || err.Error() != tc.want {
					t.Errorf("err %v\nwant %s", err, tc.want)
				}
				if _, _, ok := fake.Dashboard("theirs"); tc.setup != nil && strings.Contains(name, "title") && !ok {
					t.Error("the dashboard holding the title was replaced")
				}
			})
		}
	})

	t.Run("A dashboard saved by someone else between reading and saving is a version conflict.", func(t *testing.T) {
		fake, _ := fakegrafana.ServeCorpus(t, token)
		ups := generatedUploads(t)
		first, _ := json.Marshal(ups[0].Model)
		fake.AddDashboard("", first)
		saved := false
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db" && !saved {
				// Someone saves the dashboard in the UI just before blindspot does.
				saved = true
				m, _, _ := fake.Dashboard("bs-14c2529eb4498c5d")
				m["version"] = float64(7)
				edited, _ := json.Marshal(m)
				fake.AddDashboard("", edited)
			}
			fake.ServeHTTP(w, r)
		})
		srv := httptest.NewServer(h)
		defer srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		ups[0].Model["refresh"] = "5m"
		_, err := grafana.Push(ctx, c, ups[:1], grafana.PushOptions{OwnerTag: ownerTag})
		want := "saving dashboard bs-14c2529eb4498c5d (" + filepath.Join(generated, "api.json") + "): Grafana answered HTTP 412: The dashboard has been changed by someone else (someone saved it while blindspot pushed: run the push again)"
		if err == nil || err.Error() != want {
			t.Errorf("err %v", err)
		}
	})
}
