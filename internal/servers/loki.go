package servers

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Loki is a running single-process Loki (v1.6.1: boltdb index and filesystem chunks in
// temporary directories, in-memory ring, no authentication).
type Loki struct {
	URL        string // http://127.0.0.1:PORT, no trailing slash
	ConfigFile string
	Process    *Process
}

// The few Loki 1.6 configuration fields the test server sets, marshalled with yaml. Loki
// validates the result when it starts.
type lokiConfig struct {
	AuthEnabled   bool              `yaml:"auth_enabled"`
	Server        lokiServer        `yaml:"server"`
	Ingester      lokiIngester      `yaml:"ingester"`
	SchemaConfig  lokiSchemaConfig  `yaml:"schema_config"`
	StorageConfig lokiStorageConfig `yaml:"storage_config"`
	LimitsConfig  lokiLimits        `yaml:"limits_config"`
}

type lokiServer struct {
	HTTPListenAddress string `yaml:"http_listen_address"`
	HTTPListenPort    int    `yaml:"http_listen_port"`
	GRPCListenAddress string `yaml:"grpc_listen_address"`
	GRPCListenPort    int    `yaml:"grpc_listen_port"`
	LogLevel          string `yaml:"log_level"`
}

type lokiIngester struct {
	Lifecycler        lokiLifecycler `yaml:"lifecycler"`
	ChunkIdlePeriod   string         `yaml:"chunk_idle_period"`
	MaxTransferRetry  int            `yaml:"max_transfer_retries"`
	ChunkRetainPeriod string         `yaml:"chunk_retain_period"`
}

type lokiLifecycler struct {
	Address string   `yaml:"address"`
	Ring    lokiRing `yaml:"ring"`
	// MinReadyDuration defaults to a minute during which /ready answers 503.
	MinReadyDuration string `yaml:"min_ready_duration"`
	FinalSleep       string `yaml:"final_sleep"`
}

type lokiRing struct {
	KVStore           lokiKVStore `yaml:"kvstore"`
	ReplicationFactor int         `yaml:"replication_factor"`
}

type lokiKVStore struct {
	Store string `yaml:"store"`
}

type lokiSchemaConfig struct {
	Configs []lokiPeriod `yaml:"configs"`
}

type lokiPeriod struct {
	From        string    `yaml:"from"`
	Store       string    `yaml:"store"`
	ObjectStore string    `yaml:"object_store"`
	Schema      string    `yaml:"schema"`
	Index       lokiIndex `yaml:"index"`
}

type lokiIndex struct {
	Prefix string `yaml:"prefix"`
	Period string `yaml:"period"`
}

type lokiStorageConfig struct {
	BoltDB     lokiDirectory `yaml:"boltdb"`
	Filesystem lokiDirectory `yaml:"filesystem"`
}

type lokiDirectory struct {
	Directory string `yaml:"directory"`
}

type lokiLimits struct {
	EnforceMetricName bool `yaml:"enforce_metric_name"`
}

// StartLoki starts binary on free ports of 127.0.0.1 and waits until /ready answers 200.
func StartLoki(t testing.TB, binary string) *Loki {
	t.Helper()
	dir := t.TempDir()
	httpPort, grpcPort := FreePort(t), FreePort(t)
	cfg := lokiConfig{
		AuthEnabled: false,
		Server: lokiServer{
			HTTPListenAddress: "127.0.0.1", HTTPListenPort: httpPort,
			GRPCListenAddress: "127.0.0.1", GRPCListenPort: grpcPort,
			LogLevel: "warn",
		},
		Ingester: lokiIngester{
			Lifecycler: lokiLifecycler{
				Address:          "127.0.0.1",
				Ring:             lokiRing{KVStore: lokiKVStore{Store: "inmemory"}, ReplicationFactor: 1},
				MinReadyDuration: "0s",
				FinalSleep:       "0s",
			},
			ChunkIdlePeriod:   "5m",
			ChunkRetainPeriod: "30s",
		},
		SchemaConfig: lokiSchemaConfig{Configs: []lokiPeriod{{
			From: "2020-01-01", Store: "boltdb", ObjectStore: "filesystem", Schema: "v11",
			Index: lokiIndex{Prefix: "index_", Period: "168h"},
		}}},
		StorageConfig: lokiStorageConfig{
			BoltDB:     lokiDirectory{Directory: filepath.Join(dir, "index")},
			Filesystem: lokiDirectory{Directory: filepath.Join(dir, "chunks")},
		},
		LimitsConfig: lokiLimits{EnforceMetricName: false},
	}
	l := &Loki{
		URL:        "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		ConfigFile: filepath.Join(dir, "loki.yaml"),
	}
	writeYAML(t, l.ConfigFile, cfg)
	l.Process = StartProcess(t, "loki", binary, "-config.file="+l.ConfigFile)
	l.Process.WaitReady(t, l.URL+"/ready")
	return l
}

// FakeDBPassword is a throw-away password from gitleaks' test data (testdata/repos/nogit/.env.prod,
// MIT): a secret for log lines that must be found, and never stored or reported in clear.
const FakeDBPassword = "8ae31cacf141669ddfb5da"

// LogStream is a stream to push: its labels and its lines.
type LogStream struct {
	Labels  map[string]string
	Entries []LogEntry
}

// LogEntry is one line of a stream.
type LogEntry struct {
	Time time.Time
	Line string
}

// Push sends streams to Loki's JSON push endpoint. Each stream's entries are sent oldest
// first, since Loki 1.x rejects out-of-order entries.
func (l *Loki) Push(t testing.TB, streams ...LogStream) {
	t.Helper()
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	}
	var body struct {
		Streams []stream `json:"streams"`
	}
	for _, s := range streams {
		entries := slices.Clone(s.Entries)
		slices.SortStableFunc(entries, func(a, b LogEntry) int { return cmp.Compare(a.Time.UnixNano(), b.Time.UnixNano()) })
		out := stream{Stream: s.Labels}
		for _, e := range entries {
			out.Values = append(out.Values, [2]string{strconv.FormatInt(e.Time.UnixNano(), 10), e.Line})
		}
		body.Streams = append(body.Streams, out)
	}
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encoding the push: %v", err)
	}
	// Loki 1.6 accepts JSON only with exactly this content type (a charset parameter → 400).
	resp, err := http.Post(l.URL+"/loki/api/v1/push", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pushing to Loki: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		t.Fatalf("pushing to Loki: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg.Bytes()))
	}
}
