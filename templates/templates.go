// Package templates embeds the text templates blindspot renders (see README.md), so that the
// binary is self-contained and a reviewer reads the layout without reading Go.
package templates

import "embed"

// FS holds the templates, by file name.
//
//go:embed *.tmpl
var FS embed.FS

// Runbook is the file name of the runbook template (generate/runbooks).
const Runbook = "runbook.md.tmpl"
