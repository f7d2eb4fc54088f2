// Package promconfig reads the scrape_configs of a Prometheus configuration: a prometheus.yml,
// or the YAML text that /api/v1/status/config returns (Prometheus 2.x and 3.x).
//
// It deliberately does not use github.com/prometheus/prometheus/config: that package needs
// every service discovery implementation registered and would reject a configuration for an
// SD mechanism this build does not know. An audit only needs the job names, which SD kinds a
// job uses and its relabel rules, so the configuration is decoded leniently: unknown keys
// and sections are ignored.
package promconfig

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/internal/fsutil"
	"github.com/blindspot-dev/blindspot/internal/yamlnode"
)

// Config is the part of a Prometheus configuration blindspot uses.
type Config struct {
	// Jobs are the scrape configs written inline under scrape_configs, sorted by Name.
	Jobs []ScrapeJob
	// ScrapeConfigFiles are the scrape_config_files globs in file order. Their jobs are not
	// read: the files live wherever the server runs. LoadFile makes relative globs relative
	// to the configuration file's directory, as Prometheus does; Parse keeps them as written.
	ScrapeConfigFiles []string
	// RemoteRead says that the server's queries read remote storage too (a non-empty
	// remote_read), so that its own TSDB does not bound what they may find.
	RemoteRead bool
	// OutOfOrderTimeWindow is storage.tsdb.out_of_order_time_window: how much older than its
	// newest samples a sample may still be appended. OutOfOrderTimeWindowValid is false when
	// the value does not parse (nothing can then be said of how old its samples may be).
	OutOfOrderTimeWindow      time.Duration
	OutOfOrderTimeWindowValid bool
}

// ScrapeJob is one scrape config.
type ScrapeJob struct {
	Name string
	// SDKinds are the target sources the job uses, sorted and without duplicates: the key
	// prefix of every non-empty <kind>_sd_configs ("kubernetes", "file", "dns", …) and
	// "static" for static_configs.
	SDKinds []string
	// RelabelRules is len(Relabel), the number of relabel_configs.
	RelabelRules int
	// Relabel are the job's relabel_configs as Prometheus decodes them (defaults filled in,
	// not validated against a name validation scheme).
	Relabel []*relabel.Config
	// Line is the line of the scrape config in the parsed text.
	Line int
	// JobLabel is the job label every target of the scrape config gets, Name, when the
	// configuration decides it: no relabel rule may write or remove job, and no service
	// discovery may attach a job label of its own (file and HTTP discovery may, as may a
	// static_configs labels block that sets job). "" when discovery or relabeling decides
	// it, as in Prometheus Operator's serviceMonitor/…, podMonitor/… and probe/… pools.
	JobLabel string
}

// Parse reads the scrape configs of a configuration. A configuration without scrape_configs
// yields no jobs and no error. Errors name the line ("line 12: …") where it is known.
//
// A saved /api/v1/status/config response ({"status":"success","data":{"yaml":"…"}}) is
// accepted too and read from its data.yaml; lines then refer to that embedded text.
func Parse(content []byte) (Config, error) {
	return parse(content, "")
}

// LoadFile reads and parses the configuration file at path. Its errors start with the path
// ("prometheus.yml:12: …").
func LoadFile(path string) (Config, error) {
	content, err := fsutil.ReadFile(path, fsutil.MaxInputFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Config{}, fmt.Errorf("%s: reading the Prometheus configuration: %w", path, err)
	}
	cfg, err := parse(content, path)
	if err != nil {
		return Config{}, err
	}
	dir := filepath.Dir(path)
	for i, glob := range cfg.ScrapeConfigFiles {
		if glob != "" && !filepath.IsAbs(glob) {
			cfg.ScrapeConfigFiles[i] = filepath.Join(dir, glob)
		}
	}
	return cfg, nil
}

// parseError is an error at a known place; file may be empty (Parse) and line 0 (unknown).
type parseError struct {
	file string
	line int
	msg  string
}

func (e *parseError) Error() string {
	switch {
	case e.file != "" && e.line > 0:
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	case e.file != "":
		return fmt.Sprintf("%s: %s", e.file, e.msg)
	case e.line > 0:
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return e.msg
}

// rawConfig is the lenient shape of a configuration: only the keys blindspot reads.
type rawConfig struct {
	ScrapeConfigs     yaml.Node `yaml:"scrape_configs"`
	ScrapeConfigFiles []string  `yaml:"scrape_config_files"`
	RemoteRead        yaml.Node `yaml:"remote_read"`
	Storage           yaml.Node `yaml:"storage"`
}

// rawJob holds the fields of a scrape config that are decoded into Go values; the SD keys are
// read from the mapping itself.
type rawJob struct {
	JobName        yaml.Node `yaml:"job_name"`
	RelabelConfigs yaml.Node `yaml:"relabel_configs"`
	StaticConfigs  []struct {
		Labels map[string]yaml.Node `yaml:"labels"`
	} `yaml:"static_configs"`
}

// apiResponse is the envelope of /api/v1/status/config.
type apiResponse struct {
	Status string `yaml:"status"`
	Data   struct {
		YAML *string `yaml:"yaml"`
	} `yaml:"data"`
}

func parse(content []byte, file string) (cfg Config, err error) {
	fail := func(line int, format string, args ...any) error {
		return &parseError{file: file, line: line, msg: fmt.Sprintf(format, args...)}
	}
	// yaml.v3 has panicked on hostile input before; a configuration must never crash the audit.
	defer func() {
		if r := recover(); r != nil {
			cfg, err = Config{}, fail(0, "reading the configuration: unexpected YAML decoder failure: %v", r)
		}
	}()

	root, err := decodeDocument(content)
	if err != nil {
		line, msg := yamlnode.ErrorLine(err)
		return Config{}, fail(line, "invalid YAML: %s", msg)
	}
	if root == nil {
		return Config{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return Config{}, fail(root.Line, "a Prometheus configuration is a mapping, not a %s", yamlnode.KindName(root))
	}

	var envelope apiResponse
	if err := root.Decode(&envelope); err == nil && envelope.Status != "" && envelope.Data.YAML != nil {
		if lookup(root, "scrape_configs") == nil {
			return parse([]byte(*envelope.Data.YAML), file)
		}
	}

	var raw rawConfig
	if err := root.Decode(&raw); err != nil {
		line, msg := yamlnode.ErrorLine(err)
		return Config{}, fail(line, "reading the configuration: %s", msg)
	}
	cfg.ScrapeConfigFiles = raw.ScrapeConfigFiles
	if rr := yamlnode.Resolve(&raw.RemoteRead); rr.Kind != 0 && !yamlnode.IsNull(rr) && !emptyList(rr) {
		cfg.RemoteRead = true
	}
	cfg.OutOfOrderTimeWindowValid = true
	tsdb := yamlnode.Resolve(lookup(yamlnode.Resolve(&raw.Storage), "tsdb"))
	if w := yamlnode.Resolve(lookup(tsdb, "out_of_order_time_window")); w.Kind != 0 && !yamlnode.IsNull(w) {
		d, err := model.ParseDuration(w.Value)
		cfg.OutOfOrderTimeWindow, cfg.OutOfOrderTimeWindowValid = time.Duration(d), w.Kind == yaml.ScalarNode && err == nil
	}

	list := yamlnode.Resolve(&raw.ScrapeConfigs)
	switch {
	case list.Kind == 0 || yamlnode.IsNull(list):
		return cfg, nil
	case list.Kind != yaml.SequenceNode:
		return Config{}, fail(list.Line, "scrape_configs must be a list, not a %s", yamlnode.KindName(list))
	}

	firstLine := map[string]int{}
	for i, item := range list.Content {
		n := yamlnode.Resolve(item)
		if yamlnode.IsNull(n) {
			return Config{}, fail(n.Line, "scrape config %d is empty", i+1)
		}
		if n.Kind != yaml.MappingNode {
			return Config{}, fail(n.Line, "scrape config %d must be a mapping, not a %s", i+1, yamlnode.KindName(n))
		}
		job, err := parseJob(n)
		if err != nil {
			var pe *parseError
			if errors.As(err, &pe) {
				pe.file = file
				return Config{}, pe
			}
			return Config{}, fail(n.Line, "scrape config %d: %v", i+1, err)
		}
		if job.Name == "" {
			return Config{}, fail(n.Line, "scrape config %d has no job_name", i+1)
		}
		if first, ok := firstLine[job.Name]; ok {
			return Config{}, fail(n.Line, "job_name %q is used twice (first at line %d)", job.Name, first)
		}
		firstLine[job.Name] = n.Line
		cfg.Jobs = append(cfg.Jobs, job)
	}
	slices.SortFunc(cfg.Jobs, func(a, b ScrapeJob) int { return cmp.Compare(a.Name, b.Name) })
	return cfg, nil
}

// parseJob reads one scrape config mapping.
func parseJob(n *yaml.Node) (ScrapeJob, error) {
	job := ScrapeJob{Line: n.Line}
	var raw rawJob
	if err := n.Decode(&raw); err != nil {
		line, msg := yamlnode.ErrorLine(err)
		if line == 0 {
			line = n.Line
		}
		return ScrapeJob{}, &parseError{line: line, msg: fmt.Sprintf("scrape config %s: %s", describeJob(n), msg)}
	}
	name := yamlnode.Resolve(&raw.JobName)
	if name.Kind != 0 && !yamlnode.IsNull(name) {
		if name.Kind != yaml.ScalarNode {
			return ScrapeJob{}, &parseError{line: name.Line, msg: fmt.Sprintf("job_name must be a string, not a %s", yamlnode.KindName(name))}
		}
		job.Name = name.Value
	}
	relabels, err := parseRelabel(yamlnode.Resolve(&raw.RelabelConfigs), describeJob(n))
	if err != nil {
		return ScrapeJob{}, err
	}
	job.Relabel = relabels
	job.RelabelRules = len(relabels)

	for key, value := range mappingPairs(n) {
		kind, ok := sdKind(key)
		if !ok || emptyList(value) {
			continue
		}
		job.SDKinds = append(job.SDKinds, kind)
	}
	slices.Sort(job.SDKinds)
	job.SDKinds = slices.Compact(job.SDKinds)
	staticJob := false
	for _, sc := range raw.StaticConfigs {
		if _, ok := sc.Labels["job"]; ok {
			staticJob = true
		}
	}
	if !staticJob && !slices.ContainsFunc(job.SDKinds, carriesLabels) && !slices.ContainsFunc(relabels, mayChangeJob) {
		job.JobLabel = job.Name
	}
	return job, nil
}

// carriesLabels tells the discovery mechanisms whose targets may carry any label, job
// included; the others produce __address__ and __meta_* labels only.
func carriesLabels(sdKind string) bool { return sdKind == "file" || sdKind == "http" }

// mayChangeJob says whether a relabel rule may write or remove the job label. A target label
// with a $ reference, a labelmap and a labelkeep or labeldrop whose regex may remove job are
// counted as writing it: what they do depends on the discovered labels.
func mayChangeJob(r *relabel.Config) bool {
	switch r.Action {
	case relabel.Keep, relabel.Drop, relabel.KeepEqual, relabel.DropEqual:
		return false
	case relabel.LabelDrop:
		return r.Regex.Regexp == nil || r.Regex.MatchString("job")
	case relabel.LabelKeep:
		return r.Regex.Regexp == nil || !r.Regex.MatchString("job")
	case relabel.LabelMap:
		return true
	}
	return r.TargetLabel == "job" || strings.Contains(r.TargetLabel, "$")
}

// parseRelabel decodes relabel_configs one rule at a time, so that an error names the rule's line.
func parseRelabel(list *yaml.Node, job string) ([]*relabel.Config, error) {
	if list.Kind == 0 || yamlnode.IsNull(list) {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &parseError{line: list.Line, msg: fmt.Sprintf("scrape config %s: relabel_configs must be a list, not a %s", job, yamlnode.KindName(list))}
	}
	rules := make([]*relabel.Config, 0, len(list.Content))
	for i, item := range list.Content {
		n := yamlnode.Resolve(item)
		if yamlnode.IsNull(n) {
			return nil, &parseError{line: n.Line, msg: fmt.Sprintf("scrape config %s: relabel rule %d is empty", job, i+1)}
		}
		var rule relabel.Config
		if err := n.Decode(&rule); err != nil {
			line, msg := yamlnode.ErrorLine(err)
			if line == 0 {
				line = n.Line
			}
			return nil, &parseError{line: line, msg: fmt.Sprintf("scrape config %s: relabel rule %d: %s", job, i+1, msg)}
		}
		rules = append(rules, &rule)
	}
	return rules, nil
}

// sdKind maps a scrape config key to the target source it configures.
func sdKind(key string) (string, bool) {
	if key == "static_configs" {
		return "static", true
	}
	kind, ok := strings.CutSuffix(key, "_sd_configs")
	return kind, ok && kind != ""
}

// describeJob names a scrape config in an error: by job_name when it has one.
func describeJob(n *yaml.Node) string {
	if v := lookup(n, "job_name"); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
		return strconv.Quote(v.Value)
	}
	return "at line " + strconv.Itoa(n.Line)
}

// decodeDocument returns the root node of the first YAML document, or nil when there is none
// or it is empty.
func decodeDocument(content []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(content)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := yamlnode.Resolve(doc.Content[0])
	if yamlnode.IsNull(root) {
		return nil, nil
	}
	return root, nil
}

// mappingPairs yields the keys and values of a mapping, following aliases and merge keys
// ("<<: *defaults") the way a decoder would; a key set directly wins over a merged one.
func mappingPairs(n *yaml.Node) func(yield func(string, *yaml.Node) bool) {
	return func(yield func(string, *yaml.Node) bool) {
		seen := map[string]bool{}
		// Each mapping is walked once: aliases may merge the same mapping many times over,
		// and walking it again could only repeat keys already seen.
		walked := map[*yaml.Node]bool{}
		var walk func(m *yaml.Node, depth int) bool
		walk = func(m *yaml.Node, depth int) bool {
			if m == nil || m.Kind != yaml.MappingNode || depth > 16 || walked[m] {
				return true
			}
			walked[m] = true
			var merges []*yaml.Node
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := yamlnode.Resolve(m.Content[i]), m.Content[i+1]
				if k.Kind != yaml.ScalarNode {
					continue
				}
				if k.ShortTag() == "!!merge" {
					merges = append(merges, yamlnode.Resolve(v))
					continue
				}
				if seen[k.Value] {
					continue
				}
				seen[k.Value] = true
				if !yield(k.Value, yamlnode.Resolve(v)) {
					return false
				}
			}
			for _, src := range merges {
				targets := []*yaml.Node{src}
				if src.Kind == yaml.SequenceNode {
					targets = src.Content
				}
				for _, t := range targets {
					if !walk(yamlnode.Resolve(t), depth+1) {
						return false
					}
				}
			}
			return true
		}
		walk(n, 0)
	}
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for k, v := range mappingPairs(n) {
		if k == key {
			return v
		}
	}
	return nil
}

// emptyList reports whether an SD key configures nothing: null or [].
func emptyList(n *yaml.Node) bool {
	return yamlnode.IsNull(n) || (n.Kind == yaml.SequenceNode && len(n.Content) == 0)
}
