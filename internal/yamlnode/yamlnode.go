// Package yamlnode holds the yaml.v3 node helpers the file readers share: they read YAML as
// nodes to keep line numbers for their error messages.
package yamlnode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxAliasDepth bounds alias chains, so a hostile file cannot loop.
const maxAliasDepth = 16

// Resolve follows an alias to the node it names; a nil node reads as an empty (absent) one.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	if n == nil {
		return &yaml.Node{}
	}
	return n
}

// IsNull reports whether n is an explicit or implicit null.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// KindName names a node's kind for error messages ("mapping", "list", "scalar", "null").
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "null"
		}
		return "scalar"
	}
	return "node"
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// ErrorLine splits a yaml.v3 error into its line (0 if none) and the rest of the message.
// Type errors may list several problems; the first one is reported.
func ErrorLine(err error) (int, string) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			return line, m[2]
		}
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// SyntaxError is a YAML document that does not decode, at Line (0 when unknown).
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return "invalid YAML: " + e.Msg }

// Documents decodes every document of a multi-document YAML stream and returns the root node
// of each one that is not empty or null. A decoding failure is a *SyntaxError; a panic in the
// decoder (yaml.v3 has panicked on hostile input before) becomes an error as well.
func Documents(content []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, &SyntaxError{Msg: fmt.Sprintf("unexpected YAML decoder failure: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			line, msg := ErrorLine(err)
			return nil, &SyntaxError{Line: line, Msg: msg}
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || IsNull(Resolve(doc.Content[0])) {
			continue
		}
		docs = append(docs, doc.Content[0])
	}
}
