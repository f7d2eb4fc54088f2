package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
)

// fakeGrafanas are the fakes the scripts started, for grafanarequests.
var fakeGrafanas sync.Map // *testscript.TestScript → *fakegrafana.Server

// cmdFakeGrafana starts a fake Grafana (answering like Grafana's HTTP API) and sets $GRAFANA
// to its URL: `fakegrafana [-token T] [-deny ACTION] [-folder UID=TITLE] [FOLDER_UID:]FILE…`
// preloads the dashboard files, each in the General folder or the one named before a colon.
func cmdFakeGrafana(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: fakegrafana [-token T] [-deny ACTION] [-folder UID=TITLE] [FOLDER_UID:]FILE...")
	}
	fs := flag.NewFlagSet("fakegrafana", flag.ContinueOnError)
	token := fs.String("token", "", "service account token to require")
	var deny, folders multiFlag
	fs.Var(&deny, "deny", "RBAC action to refuse")
	fs.Var(&folders, "folder", "folder UID=TITLE to create")
	ts.Check(fs.Parse(args))
	fake := fakegrafana.New()
	fake.Token, fake.Deny = *token, deny
	for _, f := range folders {
		uid, title, _ := strings.Cut(f, "=")
		fake.AddFolder(uid, title)
	}
	for _, arg := range fs.Args() {
		folder, file := "", arg
		if before, after, ok := strings.Cut(arg, ":"); ok && !strings.Contains(before, "/") {
			folder, file = before, after
		}
		ts.Check(fake.AddDashboardFiles(folder, ts.MkAbs(file)))
	}
	srv := fake.Start()
	ts.Defer(srv.Close)
	fakeGrafanas.Store(ts, fake)
	ts.Setenv("GRAFANA", srv.URL)
}

// cmdGrafanaRequests prints the requests the script's fake Grafana received, one a line:
// method, path, sorted query, and the Authorization scheme (never the credential).
func cmdGrafanaRequests(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := fakeGrafanas.Load(ts)
	if neg || len(args) != 0 || !ok {
		ts.Fatalf("usage: grafanarequests (after fakegrafana)")
	}
	for _, r := range v.(*fakegrafana.Server).Requests() {
		scheme, _, _ := strings.Cut(r.Authorization, " ")
		line := r.Method + " " + r.Path
		if q := r.Query.Encode(); q != "" {
			line += "?" + q
		}
		fmt.Fprintf(ts.Stdout(), "%s auth=%s\n", line, scheme)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// demoHandler answers as the Prometheus and the Alertmanager the demo snapshot was recorded
// from (their API paths do not overlap): every endpoint with its recorded status and body, the
// query endpoint by expression. The recorded Prometheus names its Alertmanager on a port that
// is closed now: a script passes --alertmanager-url $PROM to read the recorded one.
func demoHandler(repo string) (http.Handler, error) {
	snap, err := snapshot.Read(os.DirFS(filepath.Join(repo, "testdata", "demo")), "demo")
	if err != nil {
		return nil, err
	}
	var recorded []prometheus.Response
	for _, src := range snap.Manifest.Sources {
		recorded = append(recorded, snapshot.Responses(src)...)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		for _, rec := range recorded {
			if rec.Path != r.URL.Path || rec.Query != r.Form.Get("query") || rec.Error != "" {
				continue
			}
			w.Header().Set("Content-Type", rec.ContentType)
			w.WriteHeader(rec.Status)
			w.Write(rec.Body)
			return
		}
		if !emptyHistory(w, r) {
			http.NotFound(w, r)
		}
	}), nil
}
