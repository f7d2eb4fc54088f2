package servers

// The few Prometheus configuration and rule file fields the scenario uses, marshalled with
// yaml. Prometheus itself validates the result when it starts, which checks more than
// marshalling its own config types would, and keeps this package free of the server module.

type promConfig struct {
	Global        globalConfig    `yaml:"global"`
	Alerting      *alertingConfig `yaml:"alerting,omitempty"`
	RuleFiles     []string        `yaml:"rule_files"`
	ScrapeConfigs []scrapeConfig  `yaml:"scrape_configs"`
}

type alertingConfig struct {
	Alertmanagers []alertmanagerConfig `yaml:"alertmanagers"`
}

type alertmanagerConfig struct {
	StaticConfigs []staticConfig `yaml:"static_configs"`
}

type globalConfig struct {
	ScrapeInterval     string `yaml:"scrape_interval"`
	ScrapeTimeout      string `yaml:"scrape_timeout"`
	EvaluationInterval string `yaml:"evaluation_interval"`
	// ExternalLabels identify the server in a fleet (Thanos adds them to what it serves).
	ExternalLabels map[string]string `yaml:"external_labels,omitempty"`
}

type scrapeConfig struct {
	JobName        string              `yaml:"job_name"`
	HonorLabels    bool                `yaml:"honor_labels,omitempty"`
	MetricsPath    string              `yaml:"metrics_path,omitempty"`
	Params         map[string][]string `yaml:"params,omitempty"`
	StaticConfigs  []staticConfig      `yaml:"static_configs,omitempty"`
	FileSDConfigs  []fileSDConfig      `yaml:"file_sd_configs,omitempty"`
	RelabelConfigs []relabelConfig     `yaml:"relabel_configs,omitempty"`
}

// staticConfig is also the element of a file_sd targets file.
type staticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels,omitempty"`
}

type fileSDConfig struct {
	Files []string `yaml:"files"`
}

type relabelConfig struct {
	SourceLabels []string `yaml:"source_labels,omitempty"`
	Regex        string   `yaml:"regex,omitempty"`
	TargetLabel  string   `yaml:"target_label,omitempty"`
	Replacement  string   `yaml:"replacement,omitempty"`
	Action       string   `yaml:"action"`
}

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}
