package promconfig

import (
	"bytes"
	"encoding/json"
	"slices"

	"go.yaml.in/yaml/v3"
)

// SecretPlaceholder is what Prometheus itself shows for a secret in /api/v1/status/config.
const SecretPlaceholder = "<secret>"

// secretKeys are the keys of Prometheus's configuration whose values are of the type
// config.Secret (prometheus/common), which Prometheus shows as <secret>: HTTP client
// credentials (basic_auth.password, authorization.credentials, bearer_token,
// oauth2.client_secret, tls_config.key, http_headers.*.secrets, proxy_connect_header), and the
// credentials of service discoveries and remote storage (EC2 and SigV4 secret_key, Azure
// client_secret, OpenStack, OVHcloud, Consul, Marathon…). TestSecretKeysCoverPrometheusConfig
// checks the list against Prometheus's own types.
var secretKeys = []string{
	"application_credential_secret", "application_secret", "auth_token", "bearer_token",
	"certificate_password", "client_certificate_key", "client_secret", "consumer_key",
	"credentials", "key", "key_passphrase", "password", "private_key", "proxy_connect_header",
	"secret_key", "secrets", "service_account_key", "token",
}

// RedactYAML replaces the value of every secret field of a Prometheus configuration by
// <secret>, as Prometheus does when it serves its configuration; a server that does not (a
// proxy, an old or patched version) must not put clear credentials into a snapshot. It
// returns the text unchanged, and false, when there was nothing to redact, and an error when
// the text is not YAML.
func RedactYAML(text []byte) ([]byte, bool, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return text, false, err
	}
	if !redactNode(&doc, false) {
		return text, false, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return text, false, err
	}
	return b.Bytes(), true, nil
}

// redactNode redacts n's secret values; under a secret key (secret) every scalar is one.
func redactNode(n *yaml.Node, secret bool) bool {
	changed := false
	switch n.Kind {
	case yaml.ScalarNode:
		if secret && n.Value != "" && n.Value != SecretPlaceholder && n.Tag != "!!null" {
			n.Value, n.Tag, n.Style = SecretPlaceholder, "!!str", 0
			changed = true
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			under := secret || slices.Contains(secretKeys, n.Content[i].Value)
			if redactNode(n.Content[i+1], under) {
				changed = true
			}
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if redactNode(c, secret) {
				changed = true
			}
		}
	}
	return changed
}

// RedactAnswer redacts the configuration in an /api/v1/status/config answer
// ({"status":"success","data":{"yaml":"…"}}) with RedactYAML. An answer that is not of
// that shape, or whose YAML cannot be parsed, is returned as it is: it holds no
// configuration a snapshot could be audited from.
func RedactAnswer(body []byte) []byte {
	var env map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&env) != nil {
		return body
	}
	data, ok := env["data"].(map[string]any)
	if !ok {
		return body
	}
	text, ok := data["yaml"].(string)
	if !ok {
		return body
	}
	redacted, changed, err := RedactYAML([]byte(text))
	if err != nil || !changed {
		return body
	}
	data["yaml"] = string(redacted)
	out, err := json.Marshal(env)
	if err != nil {
		return body
	}
	return out
}
