package servers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The parts of the Prometheus HTTP API answers that readiness polling and this package's
// tests read. Field names are the same in 2.42 and 3.x.

type targetsData struct {
	ActiveTargets       []activeTarget  `json:"activeTargets"`
	DroppedTargets      []droppedTarget `json:"droppedTargets"`
	DroppedTargetCounts map[string]int  `json:"droppedTargetCounts"`
}

type activeTarget struct {
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
}

type droppedTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
}

type rulesData struct {
	Groups []struct {
		Name  string `json:"name"`
		File  string `json:"file"`
		Rules []struct {
			Name           string            `json:"name"`
			Type           string            `json:"type"`
			Health         string            `json:"health"`
			Annotations    map[string]string `json:"annotations"`
			LastEvaluation time.Time         `json:"lastEvaluation"`
		} `json:"rules"`
	} `json:"groups"`
}

// getAPI GETs base+path and decodes the data field of a successful API answer into data.
func getAPI(client *http.Client, base, path string, data any) error {
	resp, err := client.Get(base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %.300s", path, resp.StatusCode, body)
	}
	envelope := struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}{}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	if envelope.Status != "success" {
		return fmt.Errorf("GET %s: status %q: %.300s", path, envelope.Status, body)
	}
	if err := json.Unmarshal(envelope.Data, data); err != nil {
		return fmt.Errorf("decoding data of %s: %w", path, err)
	}
	return nil
}

// getJSON GETs url and decodes a 200 answer's body (Alertmanager's API has no envelope).
func getJSON(client *http.Client, url string, v any) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %.300s", url, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}
