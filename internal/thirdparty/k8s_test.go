package thirdparty

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// kubernetesRelease matches the k8s.io modules released together with Kubernetes (v0.MINOR.PATCH
// for Kubernetes 1.MINOR.PATCH); klog, kube-openapi and utils have releases of their own, and
// kube-state-metrics is versioned as v2.
var kubernetesRelease = regexp.MustCompile(`^\s*(k8s\.io/[a-z-]+) (v0\.\d+\.\d+)\b`)

func TestKubernetesModulesAreAtOneRelease(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	versions := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := kubernetesRelease.FindStringSubmatch(sc.Text()); m != nil {
			switch m[1] {
			case "k8s.io/klog", "k8s.io/kube-openapi", "k8s.io/utils":
				continue
			}
			versions[m[2]] = append(versions[m[2]], m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(versions) == 0 {
		t.Fatal("go.mod requires no k8s.io module released with Kubernetes: the pattern is stale")
	}
	if len(versions) > 1 {
		var b strings.Builder
		for v, mods := range versions {
			b.WriteString("\n  " + v + ": " + strings.Join(mods, ", "))
		}
		t.Errorf("the k8s.io modules are at more than one release (keep them at one):%s", b.String())
	}
}
