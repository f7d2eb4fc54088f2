package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes every environment override (EnvName).
const EnvPrefix = "BLINDSPOT"

// Keys lists the leaf keys of the schema ("prometheus.tls.ca_file"), which can also be
// set from the environment, and the keys whose values are maps or lists of sections
// ("prometheus.headers", "ignore"), which come from the file only.
func Keys() (leaves, maps []string) {
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			key := prefix + f.Tag.Get("mapstructure")
			switch {
			case f.Tag.Get("mapstructure") == "-":
				// Read apart (the fleet list), documented in config.example.yaml's comments.
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]():
				walk(key+".", f.Type)
			case f.Type.Kind() == reflect.Map:
				maps = append(maps, key)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				// Lists of sections (ignore:) come from the file only, like maps.
				maps = append(maps, key)
			default:
				leaves = append(leaves, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return leaves, maps
}

// CheckKeys rejects unknown keys, values of the wrong shape and credentials written into the
// file, naming the key and its line. viper itself would ignore a misspelt key silently.
func CheckKeys(path string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %s", path, OneLine(err.Error()))
	}
	if len(root.Content) == 0 {
		return nil // an empty file configures nothing
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("%s:%d: the configuration must be a mapping of sections", path, doc.Line)
	}
	return checkNode(path, "", doc.Line, doc, reflect.TypeFor[Config]())
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// checkNode checks node n, found under key on line, against the Go type t it will be decoded
// into.
func checkNode(path, key string, line int, n *yaml.Node, t reflect.Type) error {
	isNull := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	switch {
	case t.Kind() == reflect.Struct && t != durationType && t != timeType:
		if isNull {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s must be a section (a mapping of keys), not a single value", path, line, key)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			full := k.Value
			if key != "" {
				full = key + "." + k.Value
			}
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				return fmt.Errorf("%s:%d: unknown key %q", path, k.Line, full)
			}
			if section, name, _ := strings.Cut(full, "."); slices.Contains(SecretKeys, name) && slices.Contains(sourceSections, section) {
				return fmt.Errorf("%s:%d: %s: credentials are not read from the config file; use %s_file or the environment variable %s",
					path, k.Line, full, strings.TrimSuffix(name, "_file"), EnvName(full))
			}
			if err := checkNode(path, full, k.Line, val, f.Type); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map:
		if !isNull && n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s must be a mapping", path, line, key)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if isNull {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s:%d: %s must be a list", path, line, key)
		}
		for i, item := range n.Content {
			if err := checkNode(path, fmt.Sprintf("%s[%d]", key, i), item.Line, item, t.Elem()); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice:
		if n.Kind == yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s must be a list of values", path, line, key)
		}
	default:
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			return fmt.Errorf("%s:%d: %s must be a single value", path, line, key)
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("mapstructure") == ",squash" {
			// An embedded section's keys are the embedding section's own (ServerConfig).
			if sf, ok := fieldByTag(f.Type, tag); ok {
				return sf, true
			}
			continue
		}
		if f.Tag.Get("mapstructure") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// EnvName is the environment variable overriding a key: prometheus.url is
// BLINDSPOT_PROMETHEUS_URL.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// TakeFleet removes the list form of `prometheus:` from a configuration file, checks its
// entries key by key and decodes them. It returns the file without the list (for viper, which
// reads `prometheus` as one section) and the entries; a file with a single section is
// returned unchanged with no entries.
func TakeFleet(path string, data []byte) ([]ServerConfig, []byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, data, nil // checkKeys reports what is wrong with such a file
	}
	doc := root.Content[0]
	i := slices.IndexFunc(doc.Content, func(n *yaml.Node) bool { return n.Value == "prometheus" })
	if i < 0 || i%2 != 0 || doc.Content[i+1].Kind != yaml.SequenceNode {
		return nil, data, nil
	}
	list := doc.Content[i+1]
	t := reflect.TypeFor[ServerConfig]()
	for j, item := range list.Content {
		key := fmt.Sprintf("prometheus[%d]", j)
		if err := entryCredentials(path, key, item); err != nil {
			return nil, nil, err
		}
		if err := checkNode(path, key, item.Line, item, t); err != nil {
			return nil, nil, err
		}
	}
	var out []ServerConfig
	for j, item := range list.Content {
		var raw map[string]any
		var f ServerConfig
		err := item.Decode(&raw)
		if err == nil {
			var dec *mapstructure.Decoder
			dec, err = mapstructure.NewDecoder(&mapstructure.DecoderConfig{
				Result: &f,
				DecodeHook: mapstructure.ComposeDecodeHookFunc(
					mapstructure.StringToTimeDurationHookFunc(),
					mapstructure.StringToSliceHookFunc(","),
				),
			})
			if err == nil {
				err = dec.Decode(raw)
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: prometheus[%d]: %s", path, item.Line, j, OneLine(err.Error()))
		}
		out = append(out, f)
	}
	doc.Content = slices.Delete(doc.Content, i, i+2)
	rest, err := yaml.Marshal(&root)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, rest, nil
}

// entryCredentials rejects credentials written into an entry of the list form of
// `prometheus:` or into its alertmanager section: an entry has no environment variable of its
// own, so they come from files only.
func entryCredentials(path, key string, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for k := 0; k+1 < len(n.Content); k += 2 {
		switch name, val := n.Content[k].Value, n.Content[k+1]; {
		case name == "bearer_token":
			return fmt.Errorf("%s:%d: %s.bearer_token: credentials are not read from the config file; use bearer_token_file", path, n.Content[k].Line, key)
		case name == "basic_auth" && val.Kind == yaml.MappingNode:
			for m := 0; m+1 < len(val.Content); m += 2 {
				if val.Content[m].Value == "password" {
					return fmt.Errorf("%s:%d: %s.basic_auth.password: credentials are not read from the config file; use basic_auth.password_file", path, val.Content[m].Line, key)
				}
			}
		case name == "alertmanager" && !strings.Contains(key, "."):
			if err := entryCredentials(path, key+".alertmanager", val); err != nil {
				return err
			}
		}
	}
	return nil
}

// SortedKeys are the keys of m, sorted.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// OneLine joins a multi-line message (a decoder's) into one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
