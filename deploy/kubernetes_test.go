package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/internal/config"
)

// manifest is one object of deploy/kubernetes, decoded into its real API type.
type manifest struct {
	file string
	obj  any
}

// decodeStrict converts one YAML document to JSON (as kubectl does) and decodes it into the
// type of its apiVersion and kind, refusing fields the type does not have.
func decodeStrict(file string, doc []byte) (any, error) {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	var tm struct{ APIVersion, Kind string }
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "batch/v1 CronJob":
		obj = &batchv1.CronJob{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		obj = &monitoringv1.ServiceMonitor{}
	default:
		return nil, errors.New("unexpected " + tm.APIVersion + " " + tm.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func readManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes (%v)", err)
	}
	var out []manifest
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, err := decodeStrict(f, doc)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			out = append(out, manifest{file: filepath.Base(f), obj: obj})
		}
	}
	return out
}

func only[T any](t *testing.T, ms []manifest) *T {
	t.Helper()
	var found []*T
	for _, m := range ms {
		if o, ok := m.obj.(*T); ok {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d manifests of type %T, want 1", len(found), *new(T))
	}
	return found[0]
}

func TestStrictDecodingRefusesAnUnknownField(t *testing.T) {
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      automountServiceAccountTokens: false\n")
	if _, err := decodeStrict("x.yaml", doc); err == nil || !strings.Contains(err.Error(), "automountServiceAccountTokens") {
		t.Errorf("a misspelt field decoded: %v", err)
	}
	doc = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n")
	if _, err := decodeStrict("x.yaml", doc); err == nil {
		t.Error("a duplicate key decoded")
	}
}

func TestKubernetesManifests(t *testing.T) {
	ms := readManifests(t)
	cm := only[corev1.ConfigMap](t, ms)
	dep := only[appsv1.Deployment](t, ms)
	svc := only[corev1.Service](t, ms)
	sm := only[monitoringv1.ServiceMonitor](t, ms)
	cron := only[batchv1.CronJob](t, ms)
	sa := only[corev1.ServiceAccount](t, ms)

	pods := map[string]corev1.PodSpec{"Deployment": dep.Spec.Template.Spec, "CronJob": cron.Spec.JobTemplate.Spec.Template.Spec}

	t.Run("Every pod runs without a service account token, as a non-root user, with a read-only root and no capabilities.", func(t *testing.T) {
		if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Error("the service account mounts its token")
		}
		for kind, pod := range pods {
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("%s: automountServiceAccountToken is not false", kind)
			}
			if pod.ServiceAccountName != sa.Name {
				t.Errorf("%s: service account %q, want %q", kind, pod.ServiceAccountName, sa.Name)
			}
			psc := pod.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
				psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s: pod security context %+v", kind, psc)
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Fatalf("%s: %d containers", kind, len(pod.Containers))
			}
			for _, c := range pod.Containers {
				sc := c.SecurityContext
				if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
					sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
					sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
					(sc.Privileged != nil && *sc.Privileged) ||
					sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
					sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("%s/%s: container security context %+v", kind, c.Name, sc)
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
						t.Errorf("%s/%s: no %s request", kind, c.Name, r)
					}
				}
				if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.Cmp(c.Resources.Requests[corev1.ResourceMemory]) < 0 {
					t.Errorf("%s/%s: memory limit %v below the request or missing", kind, c.Name, q)
				}
				if !strings.HasPrefix(c.Image, "ghcr.io/blindspot-dev/blindspot") || len(c.Command) != 0 {
					t.Errorf("%s/%s: image %q command %q: want the blindspot image's entrypoint", kind, c.Name, c.Image, c.Command)
				}
				for _, e := range c.Env {
					if secret := strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "PASSWORD"); secret && e.Value != "" {
						t.Errorf("%s/%s: credential %s written into the manifest", kind, c.Name, e.Name)
					}
				}
			}
		}
	})

	t.Run("The configuration file each command reads is the ConfigMap's blindspot.yaml, which blindspot's strict check accepts.", func(t *testing.T) {
		cfg, ok := cm.Data["blindspot.yaml"]
		if !ok {
			t.Fatalf("ConfigMap %s has no blindspot.yaml", cm.Name)
		}
		if err := config.CheckKeys("configmap.yaml:blindspot.yaml", []byte(cfg)); err != nil {
			t.Error(err)
		}
		if _, err := baseline.Parse("configmap.yaml:blindspot-baseline.json", []byte(cm.Data["blindspot-baseline.json"])); err != nil {
			t.Error(err)
		}
		for kind, pod := range pods {
			c := pod.Containers[0]
			files := map[string]string{} // path in the container -> ConfigMap key
			for _, m := range c.VolumeMounts {
				for _, v := range pod.Volumes {
					if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
						if !m.ReadOnly {
							t.Errorf("%s: the configuration is mounted writable", kind)
						}
						for key := range cm.Data {
							files[path.Join(m.MountPath, key)] = key
						}
					}
				}
			}
			for _, a := range c.Args {
				name, value, ok := strings.Cut(a, "=")
				if ok && (name == "--config" || name == "--baseline") {
					if _, ok := files[value]; !ok {
						t.Errorf("%s: %s names %s, which no ConfigMap mount provides (%v)", kind, name, value, files)
					}
				}
			}
			if !slices.Contains(c.Args, "--config=/config/blindspot.yaml") {
				t.Errorf("%s: args %q do not name the configuration", kind, c.Args)
			}
		}
	})

	t.Run("serve is reachable: the Service selects the Deployment's pods on the port the probes and the ServiceMonitor use.", func(t *testing.T) {
		pod := dep.Spec.Template
		c := pod.Spec.Containers[0]
		if len(c.Args) == 0 || c.Args[0] != "serve" {
			t.Errorf("the Deployment runs %q, want serve", c.Args)
		}
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
			t.Error("the Deployment does not run exactly one replica")
		}
		sel, err := labels.ValidatedSelectorFromSet(dep.Spec.Selector.MatchLabels)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			t.Errorf("the Deployment's selector does not match its pods: %v", err)
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) || len(svc.Spec.Selector) == 0 {
			t.Errorf("the Service selects %v, the pods are %v", svc.Spec.Selector, pod.Labels)
		}
		if len(svc.Spec.Ports) != 1 || len(c.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != c.Ports[0].Name {
			t.Fatalf("Service ports %+v, container ports %+v", svc.Spec.Ports, c.Ports)
		}
		if port := c.Ports[0].ContainerPort; !slices.Contains(c.Args, "--listen=:"+strconv.Itoa(int(port))) {
			t.Errorf("serve's args %q do not listen on the container port %d", c.Args, port)
		}
		for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			want := map[string]string{"liveness": "/-/healthy", "readiness": "/-/ready"}[name]
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != c.Ports[0].Name {
				t.Errorf("%s probe %+v, want GET %s on port %s", name, p, want, c.Ports[0].Name)
			}
		}
		if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) || len(sm.Spec.Selector.MatchLabels) == 0 {
			t.Errorf("the ServiceMonitor selects %v, the Service is labelled %v", sm.Spec.Selector.MatchLabels, svc.Labels)
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints %+v, want /metrics on port %s", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
		}
	})

	t.Run("The nightly check runs once at a time, is not retried and pushes its gap metrics to the configured Pushgateway.", func(t *testing.T) {
		if cron.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("concurrencyPolicy %q", cron.Spec.ConcurrencyPolicy)
		}
		job := cron.Spec.JobTemplate.Spec
		if job.BackoffLimit == nil || *job.BackoffLimit != 0 || job.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("backoffLimit %v restartPolicy %q: a failed check would run again at once", job.BackoffLimit, job.Template.Spec.RestartPolicy)
		}
		if f := strings.Fields(cron.Spec.Schedule); len(f) != 5 {
			t.Errorf("schedule %q is not a five-field cron expression", cron.Spec.Schedule)
		}
		args := job.Template.Spec.Containers[0].Args
		if len(args) == 0 || args[0] != "check" {
			t.Errorf("the CronJob runs %q, want check", args)
		}
		var cfg struct {
			Pushgateway struct{ URL string } `json:"pushgateway"`
		}
		if err := yaml.Unmarshal([]byte(cm.Data["blindspot.yaml"]), &cfg); err != nil {
			t.Fatal(err)
		}
		var flag bool
		for _, a := range args {
			flag = flag || strings.HasPrefix(a, "--pushgateway=")
		}
		if cfg.Pushgateway.URL == "" && !flag {
			t.Error("neither pushgateway.url nor --pushgateway: the gap metrics go nowhere")
		}
	})
}
