package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// recordedAlertmanager holds the answers of Debian's Alertmanager 0.25 recorded for the
// collector's tests: a null default receiver, pager and heartbeat webhooks, a Slack chat, and
// a 30-day silence of SilencedDown.
var recordedAlertmanager = filepath.Join("..", "..", "analyze", "collect", "alertmanager", "testdata")

// cmdFakeAlertmanager serves the recorded Alertmanager answers and sets $AM to its URL:
// `fakeam recorded|badconfig`. badconfig replaces the loaded configuration by one
// Alertmanager's loader refuses (a route to an undefined receiver).
func cmdFakeAlertmanager(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "recorded" && args[0] != "badconfig") {
		ts.Fatalf("usage: fakeam recorded|badconfig")
	}
	status, err := os.ReadFile(filepath.Join(recordedAlertmanager, "status.json"))
	ts.Check(err)
	silences, err := os.ReadFile(filepath.Join(recordedAlertmanager, "silences.json"))
	ts.Check(err)
	// The recorded silence ends 30 days after it was recorded; it is moved to 2099 so that
	// the story does not change with the date it runs on.
	var sils []map[string]any
	ts.Check(json.Unmarshal(silences, &sils))
	for _, s := range sils {
		s["endsAt"] = "2099-01-01T00:00:00.000Z"
	}
	silences, err = json.Marshal(sils)
	ts.Check(err)
	if args[0] == "badconfig" {
		var st map[string]any
		ts.Check(json.Unmarshal(status, &st))
		st["config"] = map[string]any{"original": "route:\n  receiver: team-x\nreceivers:\n- name: blackhole\n"}
		status, err = json.Marshal(st)
		ts.Check(err)
	}
	srv := httptest.NewServer(servers.AlertmanagerAPI(status, silences))
	ts.Defer(srv.Close)
	ts.Setenv("AM", srv.URL)
}
