package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// root is the repository root, the image's build context.
var root = filepath.Join("..")

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, …
	Args string
	Line int
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	From, Name string
	Body       []instruction
}

// parseDockerfile splits a Dockerfile into stages, dropping comments and joining lines
// continued with a backslash. The global ARGs before the first FROM are returned apart.
func parseDockerfile(t *testing.T, data []byte) (global []instruction, stages []stage) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	var cur strings.Builder
	start, n := 0, 0
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			s := stage{From: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.Name = f[2]
			}
			stages = append(stages, s)
			return
		}
		if len(stages) == 0 {
			global = append(global, in)
			return
		}
		stages[len(stages)-1].Body = append(stages[len(stages)-1].Body, in)
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return global, stages
}

// find returns the instructions of a stage with the command cmd.
func (s stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Body {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	global, stages := parseDockerfile(t, data)
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	t.Run("The build stage compiles a static binary without paths of the build machine.", func(t *testing.T) {
		if build.Name == "" {
			t.Fatalf("the build stage FROM %s has no name for the final stage to copy from", build.From)
		}
		var static bool
		for _, env := range build.find("ENV") {
			static = static || regexp.MustCompile(`(^|\s)CGO_ENABLED=0(\s|$)`).MatchString(env.Args)
		}
		if !static {
			t.Error("the build stage does not set CGO_ENABLED=0")
		}
		var built bool
		for _, run := range build.find("RUN") {
			if strings.Contains(run.Args, "go build") {
				built = true
				for _, want := range []string{"-trimpath", "./cmd/blindspot", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}"} {
					if !strings.Contains(run.Args, want) {
						t.Errorf("go build (line %d) lacks %s: %s", run.Line, want, run.Args)
					}
				}
			}
		}
		if !built {
			t.Error("no RUN go build in the build stage")
		}
	})

	t.Run("The builder's module proxy settings come from build arguments.", func(t *testing.T) {
		args := map[string]bool{}
		for _, a := range build.find("ARG") {
			name, _, _ := strings.Cut(a.Args, "=")
			args[name] = true
		}
		env := strings.Join(func() []string {
			var s []string
			for _, e := range build.find("ENV") {
				s = append(s, e.Args)
			}
			return s
		}(), " ")
		for _, name := range []string{"GOPROXY", "GOFLAGS", "VERSION", "COMMIT"} {
			if !args[name] {
				t.Errorf("the build stage declares no ARG %s", name)
			}
		}
		for _, name := range []string{"GOPROXY", "GOFLAGS"} {
			if !strings.Contains(env, name+`="${`+name+`}"`) {
				t.Errorf("ARG %s does not reach the go commands through ENV", name)
			}
		}
		var goImage bool
		for _, a := range global {
			goImage = goImage || (a.Cmd == "ARG" && strings.HasPrefix(a.Args, "GO_IMAGE="))
		}
		if build.From != "${GO_IMAGE}" || !goImage {
			t.Errorf("the build stage is FROM %s, want FROM ${GO_IMAGE} with a global ARG GO_IMAGE", build.From)
		}
	})

	t.Run("The final stage is an empty base with CA certificates, a numeric non-root user and blindspot as the entrypoint.", func(t *testing.T) {
		if final.From != "scratch" && !strings.HasPrefix(final.From, "gcr.io/distroless/static") {
			t.Errorf("the final stage is FROM %s, want scratch or distroless/static", final.From)
		}
		if final.find("RUN") != nil {
			t.Error("the final stage runs commands: it has no shell")
		}
		var certs, binary bool
		for _, c := range final.find("COPY") {
			certs = certs || (strings.Contains(c.Args, "--from="+build.Name) && strings.Contains(c.Args, "/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/"))
			binary = binary || (strings.Contains(c.Args, "--from="+build.Name) && strings.HasSuffix(c.Args, " /usr/local/bin/blindspot"))
		}
		if !certs || !binary {
			t.Errorf("the final stage copies CA certificates %v, the binary to /usr/local/bin %v", certs, binary)
		}
		users := final.find("USER")
		if len(users) != 1 || !regexp.MustCompile(`^[1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(users[0].Args) || !strings.HasPrefix(users[0].Args, "65532") {
			t.Errorf("USER %v, want the numeric non-root 65532 (Kubernetes' runAsNonRoot checks a numeric user)", users)
		}
		entry := final.find("ENTRYPOINT")
		var argv []string
		if len(entry) != 1 || json.Unmarshal([]byte(entry[0].Args), &argv) != nil || !slices.Equal(argv, []string{"blindspot"}) {
			t.Errorf(`ENTRYPOINT %v, want the exec form ["blindspot"]`, entry)
		}
		var path bool
		for _, e := range final.find("ENV") {
			path = path || strings.Contains(e.Args, "PATH=/usr/local/bin")
		}
		if !path {
			t.Error("the final stage sets no PATH to find blindspot in /usr/local/bin")
		}
	})

	t.Run("The build context holds every file the binary is built from, and neither .git nor tests.", func(t *testing.T) {
		ignore := dockerignore(t)
		files := buildFiles(t)
		for _, f := range append(files, "go.mod", "go.sum", "LICENSE", "NOTICE") {
			if excluded, err := ignore.MatchesOrParentMatches(f); err != nil || excluded {
				t.Errorf(".dockerignore leaves out %s, which the build needs (err %v)", f, err)
			}
		}
		for _, f := range []string{".git/HEAD", "cmd/blindspot/main_test.go", "cmd/blindspot/testdata/script/help.txtar", "analyze/checks/testdata"} {
			if excluded, _ := ignore.MatchesOrParentMatches(f); !excluded {
				t.Errorf(".dockerignore sends %s to the builder", f)
			}
		}
	})
}

func dockerignore(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// buildFiles lists, relative to the repository root, the Go and embedded files of the
// blindspot packages cmd/blindspot is built from.
func buildFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}`, "./cmd/blindspot")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		rel, err := filepath.Rel(abs, f[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range f[1:] {
			files = append(files, filepath.ToSlash(filepath.Join(rel, name)))
		}
	}
	if !slices.Contains(files, "cmd/blindspot/main.go") || !slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, "testdata/demo/") }) {
		t.Fatalf("go list found %d files, without cmd/blindspot/main.go or the embedded demo", len(files))
	}
	return files
}

// buildah finds Debian's buildah (scripts/test-deps.sh installs it): missing, the image test
// fails in CI and is skipped elsewhere.
func buildah(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the image: slow")
	}
	bin := os.Getenv("BLINDSPOT_TEST_BUILDAH")
	if bin == "" {
		bin = "/usr/bin/buildah"
	}
	if _, err := exec.LookPath(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("buildah: %v (run scripts/test-deps.sh)", err)
		}
		t.Skipf("buildah: %v (run scripts/test-deps.sh)", err)
	}
	return bin
}

// run runs buildah and returns its stdout, failing the test with its stderr.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := runErr(bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runErr(bin string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestImage builds the image from the Dockerfile with buildah and runs `blindspot version`
// in it. No image is pulled: the Go toolchain image the build stage starts from is made here,
// FROM scratch, of this machine's Go toolchain (mounted), its /bin/sh with the libraries it
// needs and its CA certificates; the module cache and build cache are mounted, and the
// build stage reaches the module proxy of `go env GOPROXY` only for a module the cache lacks.
// RUN steps use chroot isolation, which needs no user namespace or cgroup controller.
func TestImage(t *testing.T) {
	bin := buildah(t)
	if runtime.GOOS != "linux" {
		t.Skip("buildah builds linux images on linux")
	}
	probe, err := runErr(bin, "from", "scratch")
	if err != nil {
		t.Skipf("this sandbox does not let buildah make a container: %v", err)
	}
	run(t, bin, "rm", probe)
	id := fmt.Sprintf("%d", os.Getpid())
	goImage, image := "localhost/blindspot-test-go:"+id, "localhost/blindspot-test:"+id
	// Both images go when the whole test ends: the second subtest runs the first one's image.
	t.Cleanup(func() {
		runErr(bin, "rmi", "--force", image)
		runErr(bin, "rmi", "--force", goImage)
	})

	t.Run("The image builds from the Dockerfile with the module proxy settings passed as build arguments.", func(t *testing.T) {
		ctr := run(t, bin, "from", "scratch")
		defer runErr(bin, "rm", ctr)
		sh, err := filepath.EvalSymlinks("/bin/sh")
		if err != nil {
			t.Fatal(err)
		}
		run(t, bin, "copy", ctr, sh, "/bin/sh")
		libs, err := exec.Command("ldd", sh).Output()
		if err != nil {
			t.Fatalf("ldd %s: %v", sh, err)
		}
		for _, lib := range regexp.MustCompile(`(?m)(/\S+)\s+\(0x`).FindAllStringSubmatch(string(libs), -1) {
			real, err := filepath.EvalSymlinks(lib[1])
			if err != nil {
				t.Fatal(err)
			}
			run(t, bin, "copy", ctr, real, lib[1])
		}
		run(t, bin, "copy", ctr, "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt")
		empty := t.TempDir()
		run(t, bin, "copy", ctr, empty, "/tmp")
		run(t, bin, "config", "--env", "PATH=/usr/local/go/bin:/bin", "--env", "HOME=/root", "--env", "GOPATH=/go", ctr)
		run(t, bin, "commit", "--quiet", ctr, goImage)

		goroot := goEnv(t, "GOROOT")
		if _, err := os.Stat(filepath.Join(goroot, "bin", "go")); err != nil {
			t.Fatal(err)
		}
		out, err := runErr(bin, "build", "--isolation", "chroot", "--quiet",
			"--file", filepath.Join(root, "Dockerfile"), "--tag", image,
			"--build-arg", "GO_IMAGE="+goImage,
			"--build-arg", "GOPROXY="+goEnv(t, "GOPROXY"),
			"--build-arg", "GOFLAGS=-mod=readonly",
			"--build-arg", "VERSION=v0.0.0-imagetest",
			"--build-arg", "COMMIT=0123456789abcdef",
			"--volume", goroot+":/usr/local/go:ro",
			"--volume", goEnv(t, "GOMODCACHE")+":/go/pkg/mod",
			"--volume", goEnv(t, "GOCACHE")+":/root/.cache/go-build",
			root)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("built %s: %s", image, out)
	})

	t.Run("The image runs as user 65532, holds only blindspot, the CA certificates and the license files, and its entrypoint runs blindspot version.", func(t *testing.T) {
		var cfg struct {
			OCIv1 struct {
				Config struct {
					User       string
					Entrypoint []string
					Env        []string
				}
			}
		}
		if err := json.Unmarshal([]byte(run(t, bin, "inspect", "--type", "image", image)), &cfg); err != nil {
			t.Fatal(err)
		}
		c := cfg.OCIv1.Config
		if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"blindspot"}) {
			t.Errorf("image config: user %q entrypoint %q", c.User, c.Entrypoint)
		}
		ctr := run(t, bin, "from", image)
		defer runErr(bin, "rm", ctr)
		// What the image holds, before buildah run adds /etc/hosts and the like.
		mnt := run(t, bin, "mount", ctr)
		var files []string
		err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(mnt, p)
				files = append(files, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		run(t, bin, "umount", ctr)
		slices.Sort(files)
		wantFiles := []string{"etc/ssl/certs/ca-certificates.crt", "usr/local/bin/blindspot", "usr/share/doc/blindspot/LICENSE", "usr/share/doc/blindspot/NOTICE"}
		if !slices.Equal(files, wantFiles) {
			t.Errorf("the image holds %v, want only %v", files, wantFiles)
		}
		out := run(t, bin, append(append([]string{"run", "--isolation", "chroot", ctr, "--"}, c.Entrypoint...), "version")...)
		want := fmt.Sprintf("blindspot v0.0.0-imagetest (%s, linux/%s)\ncommit: 0123456789abcdef", runtime.Version(), runtime.GOARCH)
		if out != want {
			t.Errorf("blindspot version in the image printed\n%s\nwant\n%s", out, want)
		}
	})
}
