// Package blindspot holds data embedded into the blindspot binary.
package blindspot

import (
	"embed"
	"io/fs"
)

//go:embed testdata/demo
var demo embed.FS

// DemoSnapshot is the snapshot `blindspot audit` audits when no source is configured: recorded
// from a real Prometheus, Loki and Alertmanager set up with typical gaps, and a fake Grafana
// serving one real dashboard (see testdata/demo/README.md).
func DemoSnapshot() fs.FS {
	sub, err := fs.Sub(demo, "testdata/demo")
	if err != nil {
		// fs.Sub fails only for an invalid path, which is a constant here.
		panic(err)
	}
	return sub
}
