package blindspot

import (
	"embed"
	"strings"
)

//go:embed docs/checks/*.md
var checkDocs embed.FS

// CheckDoc returns the documentation page of a check (docs/checks/<check>.md), or "" when the
// check has none.
func CheckDoc(check string) string {
	data, err := checkDocs.ReadFile("docs/checks/" + strings.ReplaceAll(check, "/", "-") + ".md")
	if err != nil {
		return ""
	}
	return string(data)
}
