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

// The HTML audit report (analyze/report): the page, and its inlined style sheet and script,
// kept in files of their own so that they read as CSS and JavaScript.
const (
	ReportHTML = "report.html.tmpl"
	ReportCSS  = "report.css.tmpl"
	ReportJS   = "report.js.tmpl"
)
