package promconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/relabel"

	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

func loadCorpus(t *testing.T, name string) Config {
	t.Helper()
	cfg, err := LoadFile(testcorpus.File(t, "scrape/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func jobByName(t *testing.T, cfg Config, name string) ScrapeJob {
	t.Helper()
	for _, j := range cfg.Jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no job %q among %v", name, jobNames(cfg))
	return ScrapeJob{}
}

func jobNames(cfg Config) []string {
	var names []string
	for _, j := range cfg.Jobs {
		names = append(names, j.Name)
	}
	return names
}

func TestParse(t *testing.T) {
	t.Run("Every configuration in the corpus parses, with jobs sorted by name and counted relabel rules.", func(t *testing.T) {
		dir := testcorpus.Dir(t, "scrape")
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatalf("no files in %s", dir)
		}
		for _, e := range entries {
			cfg := loadCorpus(t, e.Name())
			if !slices.IsSortedFunc(cfg.Jobs, func(a, b ScrapeJob) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("%s: jobs not sorted: %v", e.Name(), jobNames(cfg))
			}
			for _, j := range cfg.Jobs {
				if j.RelabelRules != len(j.Relabel) || j.Line == 0 {
					t.Errorf("%s: job %q: RelabelRules %d, len(Relabel) %d, Line %d", e.Name(), j.Name, j.RelabelRules, len(j.Relabel), j.Line)
				}
			}
		}
	})

	t.Run("The Kubernetes example has seven kubernetes-discovered jobs, each with relabel rules.", func(t *testing.T) {
		cfg := loadCorpus(t, "prometheus-kubernetes.yml")
		want := map[string]int{
			"kubernetes-apiservers":        1,
			"kubernetes-cadvisor":          1,
			"kubernetes-ingresses":         6,
			"kubernetes-nodes":             1,
			"kubernetes-pods":              3,
			"kubernetes-service-endpoints": 3,
			"kubernetes-services":          6,
		}
		if len(cfg.Jobs) != len(want) {
			t.Fatalf("jobs = %v, want %d", jobNames(cfg), len(want))
		}
		for _, j := range cfg.Jobs {
			if !slices.Equal(j.SDKinds, []string{"kubernetes"}) {
				t.Errorf("job %q: SDKinds = %v, want [kubernetes]", j.Name, j.SDKinds)
			}
			if j.RelabelRules != want[j.Name] {
				t.Errorf("job %q: RelabelRules = %d, want %d", j.Name, j.RelabelRules, want[j.Name])
			}
		}
		apiservers := jobByName(t, cfg, "kubernetes-apiservers")
		if apiservers.Line != 24 {
			t.Errorf("kubernetes-apiservers at line %d, want 24", apiservers.Line)
		}
		if r := apiservers.Relabel[0]; r.Action != relabel.Keep || len(r.SourceLabels) != 3 {
			t.Errorf("kubernetes-apiservers rule 1 = %+v, want a keep on three source labels", r)
		}
	})

	t.Run("The OpenTelemetry demo configuration has no scrape_configs and yields no jobs.", func(t *testing.T) {
		cfg := loadCorpus(t, "opentelemetry-demo_prometheus-config.yaml")
		if len(cfg.Jobs) != 0 || len(cfg.ScrapeConfigFiles) != 0 {
			t.Errorf("got %+v, want nothing", cfg)
		}
	})

	t.Run("Prometheus' kitchen-sink test configuration yields one SD kind per job and decodes every relabel action.", func(t *testing.T) {
		cfg := loadCorpus(t, "conf.good.yml")
		if len(cfg.Jobs) != 34 {
			t.Errorf("%d jobs, want 34: %v", len(cfg.Jobs), jobNames(cfg))
		}
		kinds := map[string]bool{}
		for _, j := range cfg.Jobs {
			for _, k := range j.SDKinds {
				kinds[k] = true
			}
		}
		for _, k := range []string{"azure", "consul", "digitalocean", "dns", "docker", "dockerswarm", "ec2", "eureka",
			"file", "hetzner", "http", "ionos", "kubernetes", "kuma", "lightsail", "linode", "marathon", "nerve",
			"nomad", "oci", "openstack", "outscale", "ovhcloud", "puppetdb", "scaleway", "stackit", "static",
			"triton", "uyuni", "vultr"} {
			if !kinds[k] {
				t.Errorf("SD kind %q not found", k)
			}
		}
		if j := jobByName(t, cfg, "prometheus"); !slices.Equal(j.SDKinds, []string{"file", "static"}) || j.RelabelRules != 6 {
			t.Errorf("prometheus: SDKinds %v, %d relabel rules; want [file static], 6", j.SDKinds, j.RelabelRules)
		} else if got := []relabel.Action{j.Relabel[0].Action, j.Relabel[4].Action, j.Relabel[5].Action}; !slices.Equal(got, []relabel.Action{relabel.Replace, relabel.KeepEqual, relabel.DropEqual}) {
			t.Errorf("prometheus: actions %v", got)
		}
		if j := jobByName(t, cfg, "service-z"); len(j.SDKinds) != 0 {
			t.Errorf("service-z has no targets configured, got SDKinds %v", j.SDKinds)
		}
		if j := jobByName(t, cfg, "hetzner"); !slices.Equal(j.SDKinds, []string{"hetzner"}) || j.Relabel[0].Action != relabel.Uppercase {
			t.Errorf("hetzner: %v %+v", j.SDKinds, j.Relabel)
		}
		jobByName(t, cfg, "測試")
		jobByName(t, cfg, "0123service-xxx")
	})

	t.Run("The Docker example keeps its relabel rules in order.", func(t *testing.T) {
		cfg := loadCorpus(t, "prometheus-docker.yml")
		if got := jobNames(cfg); !slices.Equal(got, []string{"docker", "docker-containers", "prometheus"}) {
			t.Errorf("jobs = %v", got)
		}
		j := jobByName(t, cfg, "docker-containers")
		if !slices.Equal(j.SDKinds, []string{"docker"}) || j.RelabelRules != 2 ||
			j.Relabel[0].Action != relabel.Keep || j.Relabel[1].Action != relabel.LabelMap {
			t.Errorf("docker-containers = %+v", j)
		}
	})

	t.Run("The configuration a Prometheus 2 and a Prometheus 3 server report reads like the file they loaded.", func(t *testing.T) {
		file, err := LoadFile(filepath.Join("testdata", "recorded-prometheus.yml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, recording := range []string{"status-config-prometheus-2.42.0.json", "status-config-prometheus-3-v0.316.0.json"} {
			body, err := os.ReadFile(filepath.Join("testdata", recording))
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				Data struct {
					YAML string `json:"yaml"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatal(err)
			}
			fromText, err := Parse([]byte(resp.Data.YAML))
			if err != nil {
				t.Fatalf("%s: %v", recording, err)
			}
			// A saved response body reads the same as its data.yaml.
			fromBody, err := Parse(body)
			if err != nil {
				t.Fatalf("%s: %v", recording, err)
			}
			for _, got := range []Config{fromText, fromBody} {
				if summary(got) != summary(file) {
					t.Errorf("%s:\n got %s\nwant %s", recording, summary(got), summary(file))
				}
			}
		}
	})

	t.Run("A Prometheus 3 server reports scrape_config_files as written.", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join("testdata", "status-config-prometheus-3-v0.316.0.json"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.ScrapeConfigFiles, []string{"extra/*.yml"}) {
			t.Errorf("ScrapeConfigFiles = %q", cfg.ScrapeConfigFiles)
		}
	})

	t.Run("LoadFile makes relative scrape_config_files globs relative to the configuration's directory.", func(t *testing.T) {
		dir := t.TempDir()
		path := writeFile(t, dir, "prometheus.yml", "scrape_config_files:\n  - jobs/*.yml\n  - /etc/prometheus/more.yml\n")
		cfg, err := LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{filepath.Join(dir, "jobs", "*.yml"), "/etc/prometheus/more.yml"}
		if !slices.Equal(cfg.ScrapeConfigFiles, want) {
			t.Errorf("ScrapeConfigFiles = %q, want %q", cfg.ScrapeConfigFiles, want)
		}
		parsed, err := Parse([]byte("scrape_config_files:\n  - jobs/*.yml\n"))
		if err != nil || !slices.Equal(parsed.ScrapeConfigFiles, []string{"jobs/*.yml"}) {
			t.Errorf("Parse: %q, %v", parsed.ScrapeConfigFiles, err)
		}
	})

	t.Run("Jobs built from YAML anchors and merge keys get the merged SD kinds and relabel rules.", func(t *testing.T) {
		merged := `
scrape_configs:
  - &base
    job_name: base
    file_sd_configs: [{files: [a.json]}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: host
  - <<: *base
    job_name: derived
    static_configs: [{targets: [x:1]}]
`
		cfg, err := Parse([]byte(merged + "  - *base\n"))
		if err == nil {
			t.Fatalf("an alias repeating job %q must be a duplicate, got %v", "base", jobNames(cfg))
		}
		cfg, err = Parse([]byte(merged))
		if err != nil {
			t.Fatal(err)
		}
		derived := jobByName(t, cfg, "derived")
		if !slices.Equal(derived.SDKinds, []string{"file", "static"}) || derived.RelabelRules != 1 {
			t.Errorf("derived = %+v", derived)
		}
	})

	t.Run("Merge keys that name the same mapping many times over are walked once.", func(t *testing.T) {
		// yaml.v3 refuses such text when decoding into structs, but the keys of a scrape config
		// are read from its nodes: 40 merges on each of five levels would be 40⁵ mappings.
		var b strings.Builder
		b.WriteString("- &m0 {dns_sd_configs: [{names: [x]}]}\n")
		for i := 1; i <= 5; i++ {
			refs := strings.TrimSuffix(strings.Repeat("*m"+strconv.Itoa(i-1)+", ", 40), ", ")
			fmt.Fprintf(&b, "- &m%d {k%d: v, <<: [%s]}\n", i, i, refs)
		}
		root, err := decodeDocument([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range mappingPairs(root.Content[5]) {
			keys = append(keys, k)
		}
		if want := []string{"k5", "k4", "k3", "k2", "k1", "dns_sd_configs"}; !slices.Equal(keys, want) {
			t.Errorf("keys = %v, want %v", keys, want)
		}
	})

	t.Run("An SD key with an empty list or null configures nothing.", func(t *testing.T) {
		cfg, err := Parse([]byte("scrape_configs:\n  - job_name: a\n    file_sd_configs: []\n    consul_sd_configs:\n    static_configs: [{targets: [x:1]}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Jobs[0].SDKinds; !slices.Equal(got, []string{"static"}) {
			t.Errorf("SDKinds = %v, want [static]", got)
		}
	})

	t.Run("Empty or comment-only text yields no jobs.", func(t *testing.T) {
		for _, text := range []string{"", "# nothing\n", "---\n", "scrape_configs:\n", "scrape_configs: []\n"} {
			cfg, err := Parse([]byte(text))
			if err != nil || len(cfg.Jobs) != 0 {
				t.Errorf("%q: %+v, %v", text, cfg, err)
			}
		}
	})
}

func TestJobLabel(t *testing.T) {
	t.Run("The job label is the job_name only when neither relabeling nor discovery can set it.", func(t *testing.T) {
		cfg, err := Parse([]byte(`
scrape_configs:
  - job_name: plain
    static_configs: [{targets: ["a:1"], labels: {env: prod}}]
    relabel_configs:
      - {source_labels: [__address__], regex: "a:.*", action: keep}
      - {source_labels: [env], target_label: environment}
      - {action: labeldrop, regex: "tmp_.*"}
  - job_name: serviceMonitor/monitoring/app/0
    kubernetes_sd_configs: [{role: endpoints}]
    relabel_configs:
      - {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: "${1}"}
  - job_name: podMonitor/monitoring/workers/0
    kubernetes_sd_configs: [{role: pod}]
    relabel_configs:
      - {action: labelmap, regex: "__meta_kubernetes_pod_label_(.+)"}
  - job_name: templated
    static_configs: [{targets: ["a:1"]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: "${1}", regex: "(.*):.*"}
  - job_name: dropped-job
    static_configs: [{targets: ["a:1"]}]
    relabel_configs:
      - {action: labelkeep, regex: "__.*|instance"}
  - job_name: file
    file_sd_configs: [{files: [targets.json]}]
  - job_name: static-label
    static_configs: [{targets: ["a:1"], labels: {job: other}}]
  - job_name: dns
    dns_sd_configs: [{names: [x.example.com]}]
`))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"plain":                           "plain",
			"serviceMonitor/monitoring/app/0": "",
			"podMonitor/monitoring/workers/0": "",
			"templated":                       "",
			"dropped-job":                     "",
			"file":                            "",
			"static-label":                    "",
			"dns":                             "dns",
		}
		for _, j := range cfg.Jobs {
			if w, ok := want[j.Name]; !ok || j.JobLabel != w {
				t.Errorf("%s: JobLabel %q, want %q", j.Name, j.JobLabel, w)
			}
		}
	})

	t.Run("In the Kubernetes example, labelmap jobs may get any job label and keep-only jobs keep their name.", func(t *testing.T) {
		cfg := loadCorpus(t, "prometheus-kubernetes.yml")
		if j := jobByName(t, cfg, "kubernetes-apiservers"); j.JobLabel != "kubernetes-apiservers" {
			t.Errorf("kubernetes-apiservers: JobLabel %q", j.JobLabel)
		}
		if j := jobByName(t, cfg, "kubernetes-pods"); j.JobLabel != "" {
			t.Errorf("kubernetes-pods (labelmap of pod labels): JobLabel %q, want none", j.JobLabel)
		}
	})
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{
			name: "A YAML syntax error names its line.",
			text: "scrape_configs:\n  - job_name: a\n    static_configs: [\n",
			want: "line 3: invalid YAML: did not find expected node content",
		},
		{
			name: "A scrape config without job_name is an error at its line.",
			text: "scrape_configs:\n  - job_name: a\n  - static_configs: [{targets: [x:1]}]\n",
			want: "line 3: scrape config 2 has no job_name",
		},
		{
			name: "A job name used twice is an error naming both lines.",
			text: "scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n",
			want: `line 4: job_name "a" is used twice (first at line 2)`,
		},
		{
			name: "scrape_configs that is not a list is an error.",
			text: "scrape_configs:\n  job_name: a\n",
			want: "line 2: scrape_configs must be a list, not a mapping",
		},
		{
			name: "An empty entry in scrape_configs is an error.",
			text: "scrape_configs:\n  -\n  - job_name: a\n",
			want: "line 2: scrape config 1 is empty",
		},
		{
			name: "A configuration that is not a mapping is an error.",
			text: "- job_name: a\n",
			want: "line 1: a Prometheus configuration is a mapping, not a list",
		},
		{
			name: "An unknown relabel action is an error naming the job.",
			text: "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n",
			want: `line 4: scrape config "a": relabel rule 1: unknown relabel action "explode"`,
		},
		{
			name: "A relabel regex that does not compile is an error naming the job.",
			text: "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: '(('\n",
			want: `line 4: scrape config "a": relabel rule 1: error parsing regexp`,
		},
		{
			name: "A null relabel rule is an error at its line.",
			text: "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: keep\n      -\n",
			want: `line 5: scrape config "a": relabel rule 2 is empty`,
		},
		{
			name: "A job_name that is not a string is an error at its line.",
			text: "scrape_configs:\n  - job_name: [a]\n",
			want: "line 2: job_name must be a string, not a list",
		},
		{
			name: "A key given twice in a scrape config is an error at its line.",
			text: "scrape_configs:\n  - job_name: a\n    job_name: b\n",
			want: `line 3: scrape config "a": mapping key "job_name" already defined at line 2`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Run("A file that cannot be read is an error starting with its path.", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.yml")
		_, err := LoadFile(path)
		if err == nil || err.Error() != path+": reading the Prometheus configuration: no such file or directory" {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("A malformed file is an error as path:line.", func(t *testing.T) {
		path := writeFile(t, t.TempDir(), "prometheus.yml", "global: {}\nscrape_configs:\n  - scrape_interval: 5s\n")
		_, err := LoadFile(path)
		if err == nil || err.Error() != path+":3: scrape config 1 has no job_name" {
			t.Errorf("error = %v", err)
		}
	})
}

// summary renders what the inventory keeps of a configuration's jobs.
func summary(cfg Config) string {
	var b strings.Builder
	for _, j := range cfg.Jobs {
		b.WriteString(j.Name + " " + strings.Join(j.SDKinds, ",") + " [")
		for _, r := range j.Relabel {
			b.WriteString(string(r.Action) + ":" + r.Regex.String() + ":" + r.TargetLabel + " ")
		}
		b.WriteString("] ")
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func FuzzParse(f *testing.F) {
	// The corpus's configurations seed the fuzzer when the corpus is there.
	if corpus, err := testcorpus.Available(); err == nil {
		dir := filepath.Join(corpus, "scrape")
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("scrape_configs:\n  - &a {job_name: x, <<: *a}\n"))
	f.Add([]byte(`{"status":"success","data":{"yaml":"scrape_configs: [{job_name: a}]"}}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		cfg, err := Parse(content)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, j := range cfg.Jobs {
			if j.Name == "" || seen[j.Name] || j.RelabelRules != len(j.Relabel) {
				t.Fatalf("bad job %+v", j)
			}
			seen[j.Name] = true
		}
	})
}

func TestStorageFacts(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		remoteRead bool
		window     time.Duration
		valid      bool
	}{
		{"Neither: no remote storage, no out-of-order window.", "global:\n  scrape_interval: 1m\n", false, 0, true},
		{"A remote_read entry: the queries read remote storage too.", "remote_read:\n- url: http://thanos:10902/api/v1/read\n", true, 0, true},
		{"An empty remote_read reads nothing.", "remote_read: []\n", false, 0, true},
		{"The out-of-order window, as /api/v1/status/config writes it.", "storage:\n  tsdb:\n    out_of_order_time_window: 30m\n", false, 30 * time.Minute, true},
		{"Through an alias.", "x: &w 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: *w\n", false, time.Hour, true},
		{"A window that is no duration: not valid.", "storage:\n  tsdb:\n    out_of_order_time_window: soon\n", false, 0, false},
		{"A storage section of another shape is ignored, as other unknown sections are.", "storage: 5\nscrape_configs: []\n", false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.RemoteRead != tc.remoteRead || cfg.OutOfOrderTimeWindow != tc.window || cfg.OutOfOrderTimeWindowValid != tc.valid {
				t.Errorf("remote read %v, window %v (valid %v); want %v, %v (%v)", cfg.RemoteRead, cfg.OutOfOrderTimeWindow, cfg.OutOfOrderTimeWindowValid, tc.remoteRead, tc.window, tc.valid)
			}
		})
	}
}
