// Package fakeprom answers as Prometheus's HTTP API does from recorded answers, for the tests
// of servers that speak it and cannot run in them (a Thanos Query in front of clusters).
package fakeprom

import (
	"encoding/json"
	"maps"
	"net/http"
)

// Sample is one series of the instant vector answering the query `up`.
type Sample struct {
	// Labels are the series' labels but __name__.
	Labels map[string]string
	// Value is the sample's value as the API prints it ("0", "1").
	Value string
}

// sampleTime is the time of every sample (a time of the recorded answers).
const sampleTime = 1795673162.0

// Recorded answers each path of recorded with its body verbatim, and 404 for any other path.
func Recorded(recorded map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := recorded[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// Handler answers each path of recorded with its body verbatim; the instant query `up` with
// the up samples and any other instant query with an empty vector; the metric names with up
// alone; the metadata with none; and 404 for any other path.
func Handler(recorded map[string][]byte, up []Sample) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if body, ok := recorded[r.URL.Path]; ok {
			w.Write(body)
			return
		}
		var data any
		switch r.URL.Path {
		case "/api/v1/query":
			r.ParseForm()
			result := []any{}
			if r.Form.Get("query") == "up" {
				for _, s := range up {
					metric := map[string]string{"__name__": "up"}
					maps.Copy(metric, s.Labels)
					result = append(result, map[string]any{"metric": metric, "value": []any{sampleTime, s.Value}})
				}
			}
			data = map[string]any{"resultType": "vector", "result": result}
		case "/api/v1/label/__name__/values":
			data = []string{"up"}
		case "/api/v1/metadata":
			data = map[string]any{}
		default:
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
	})
}
