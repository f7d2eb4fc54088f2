package snapshot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Series is a series of the history (analyze.JobHistory.Series, CounterHistory.Series), stored
// compactly as one string of its values separated by spaces ("0 12 12.5 0"), each written
// exactly, so that a snapshot's history file stays a few lines per job and counter.
type Series []float64

// MarshalJSON writes the values as one string.
func (s Series) MarshalJSON() ([]byte, error) {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return json.Marshal(strings.Join(parts, " "))
}

// UnmarshalJSON reads the values from one string; an empty string is no series.
func (s *Series) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	fields := strings.Fields(text)
	if len(fields) == 0 {
		*s = nil
		return nil
	}
	out := make(Series, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("series: value %d: %w", i+1, err)
		}
		out[i] = v
	}
	*s = out
	return nil
}
