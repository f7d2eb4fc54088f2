package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// TestGoldensAreSDKDashboards reads the reviewed golden files back with the foundation SDK,
// as Grafana's own tooling would: a golden that drifted from the SDK's schema fails here.
func TestGoldensAreSDKDashboards(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	goldens, err := filepath.Glob(filepath.Join("testdata", "dashboards", "*.json"))
	if err != nil || len(goldens) < 3 {
		t.Fatalf("goldens: %v (%d files)", err, len(goldens))
	}
	for _, path := range goldens {
		t.Run(filepath.Base(path)+" decodes strictly into the SDK's Dashboard with its schema version and nothing lost.", func(t *testing.T) {
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(content, &doc); err != nil {
				t.Fatal(err)
			}
			// generated_by is blindspot's header, not part of Grafana's schema.
			delete(doc, "generated_by")
			plain, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard.Dashboard
			if err := sdkError(d.UnmarshalJSONStrict(plain)); err != nil {
				t.Fatalf("strict decoding: %v", err)
			}
			if err := sdkError(d.Validate()); err != nil {
				t.Errorf("validation: %v", err)
			}
			if want := dashboard.NewDashboard().SchemaVersion; d.SchemaVersion != want {
				t.Errorf("schemaVersion %d, the SDK writes %d", d.SchemaVersion, want)
			}
			// The round trip goes through the SDK's ordinary decoder: in v0.0.22 the strict one
			// checks panels but leaves them out of the value it fills.
			var loose dashboard.Dashboard
			if err := json.Unmarshal(plain, &loose); err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(loose)
			if err != nil {
				t.Fatal(err)
			}
			var roundTrip map[string]any
			if err := json.NewDecoder(bytes.NewReader(again)).Decode(&roundTrip); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc, roundTrip) {
				t.Errorf("re-encoding the SDK's dashboard does not give the golden back")
			}
		})
	}
}

// sdkError is err, or nil for the empty list of errors the SDK returns when there are none
// (a nil cog.BuildErrors in a non-nil error).
func sdkError(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}
