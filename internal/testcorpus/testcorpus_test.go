package testcorpus

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCopiesAreListedWithTheirLicenses(t *testing.T) {
	dir := filepath.Join(root(), "testdata", "corpus")
	sources, err := os.ReadFile(filepath.Join(dir, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	row := regexp.MustCompile("^\\| `([^`]+)` \\|")
	sc := bufio.NewScanner(bytes.NewReader(sources))
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			listed[m[1]] = true
		}
	}

	t.Run("Every copied file has a row in SOURCES.md, and every row a file.", func(t *testing.T) {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.ToSlash(rel)
			if rel == "SOURCES.md" || strings.HasPrefix(rel, "LICENSES/") {
				return nil
			}
			if !listed[rel] {
				t.Errorf("%s is not listed in SOURCES.md", rel)
			}
			delete(listed, rel)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for rel := range listed {
			t.Errorf("SOURCES.md lists %s, which is not there", rel)
		}
	})

	t.Run("Each copy is byte for byte the corpus file, when the corpus is there.", func(t *testing.T) {
		shared := Dir(t)
		for _, line := range strings.Split(string(sources), "\n") {
			m := row.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			copied, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m[1])))
			if err != nil {
				t.Fatal(err)
			}
			original, err := os.ReadFile(filepath.Join(shared, filepath.FromSlash(m[1])))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(copied, original) {
				t.Errorf("%s differs from %s", m[1], filepath.Join(shared, m[1]))
			}
		}
	})
}

func TestFile(t *testing.T) {
	t.Run("A copied file is found in testdata whether or not the corpus is there.", func(t *testing.T) {
		p := File(t, "dashboards/node-exporter-full.json")
		if !strings.HasPrefix(p, filepath.Join(root(), "testdata", "corpus")) {
			t.Errorf("File gave %s, not the copy", p)
		}
	})
	t.Run("A file that was not copied is read from the corpus.", func(t *testing.T) {
		p := File(t, "rules/gitlab.rules")
		if !strings.HasPrefix(p, Shared()) {
			t.Errorf("File gave %s", p)
		}
	})
}
