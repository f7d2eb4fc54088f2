package analyze

import (
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
)

// Parts read from Prometheus's /api/v1/alertmanagers and from an Alertmanager.
const (
	// PartAlertmanagers is the list of Alertmanagers a Prometheus sends to (and the dropped ones).
	PartAlertmanagers Part = "alertmanagers"
	// PartAlertmanagerConfig is the configuration an Alertmanager has loaded, parsed.
	PartAlertmanagerConfig Part = "alertmanager_config"
	// PartSilences is the set of silences an Alertmanager holds.
	PartSilences Part = "silences"
)

// AllAlertmanagerParts lists the parts a fully readable Alertmanager provides.
var AllAlertmanagerParts = []Part{PartAlertmanagerConfig, PartSilences}

// Alerting is what is known about where the alerts of the audited Prometheus go.
type Alerting struct {
	// Alertmanagers are the Alertmanagers Prometheus reports (PartAlertmanagers), sorted by URL.
	Alertmanagers []AlertmanagerTarget
	// Config is the configuration the Alertmanager has loaded (PartAlertmanagerConfig), parsed
	// by Alertmanager's own loader; ConfigURL is where it was read.
	Config    *amconfig.Config
	ConfigURL string
	// Version and Cluster are the Alertmanager's self-description ("" when unknown).
	Version string
	Cluster string
	// Silences are the Alertmanager's silences (PartSilences), sorted by ID; expired ones are
	// kept, State says which.
	Silences []Silence
}

// AlertmanagerTarget is one Alertmanager a Prometheus discovered.
type AlertmanagerTarget struct {
	URL string
	// Active is false for an Alertmanager relabeling dropped.
	Active bool
}

// Silence is one Alertmanager silence.
type Silence struct {
	ID        string
	Matchers  []SilenceMatcher
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
	// State is "active", "pending" or "expired".
	State string
}

// SilenceMatcher is one matcher of a silence.
type SilenceMatcher struct {
	Name    string
	Value   string
	IsRegex bool
	IsEqual bool
}
