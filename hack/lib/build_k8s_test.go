// Package lib tests the shell library that hack/build-envtest.sh and
// hack/build-cluster.sh share (build-k8s.sh). The tests run both entry
// points as `make` does, with a fake `go` first on PATH that records every
// call and writes a small executable where `go build -o` points, so they
// take milliseconds and need neither the module proxy nor a build cache.
package lib

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeGo answers `go list -m -f {{.Version}} k8s.io/kubernetes` with
// $FAKE_K8S_VERSION and `go build ... -o OUT PKG` by writing an executable
// OUT, unless PKG is $FAKE_GO_FAIL: then it leaves a partial OUT and fails.
// Each build appends "pkg<TAB>ldflags<TAB>cwd<TAB>CGO_ENABLED<TAB>out<TAB>lock"
// to $FAKE_GO_LOG, lock being "held" when another process holds the lock of
// OUT's directory (flock) while it builds.
const fakeGo = `#!/bin/sh
case "$1" in
list) echo "${FAKE_K8S_VERSION}"; exit 0 ;;
build) shift ;;
*) echo "fake go: unexpected: $*" >&2; exit 2 ;;
esac
out= ldflags= pkg=
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out="$2"; shift 2 ;;
	-ldflags) ldflags="$2"; shift 2 ;;
	-*) shift ;;
	*) pkg="$1"; shift ;;
	esac
done
lock=free
if ! flock -n "$(dirname "$out")/.lock" true; then lock=held; fi
printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$pkg" "$ldflags" "$(pwd)" "${CGO_ENABLED:-}" "$out" "$lock" >>"${FAKE_GO_LOG}"
if [ "$pkg" = "${FAKE_GO_FAIL:-}" ]; then
	printf 'partial' >"$out"
	echo "fake go: build of $pkg failed" >&2
	exit 1
fi
printf '#!/bin/sh\n' >"$out"
chmod +x "$out"
`

// defaultVersion is the scripts' ENVTEST_K8S_VERSION when none is set.
const defaultVersion = "1.37.2"

// build is one `go build` the scripts ran.
type build struct {
	pkg, ldflags, dir, cgo, out, lock string
}

// harness runs the scripts against a fresh LOCALBIN with the fake go.
type harness struct {
	t        *testing.T
	root     string // the repository
	localbin string
	log      string
	env      []string
}

func newHarness(t *testing.T, version string) *harness {
	t.Helper()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("the scripts serialise with flock (util-linux), which is not on PATH")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	fakeBin := filepath.Join(tmp, "fakebin")
	if err := os.Mkdir(fakeBin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fakeBin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, root: root, localbin: filepath.Join(tmp, "bin"), log: filepath.Join(tmp, "go.log")}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "PATH", "LOCALBIN", "ENVTEST_K8S_VERSION", "FAKE_GO_FAIL":
			continue
		}
		h.env = append(h.env, kv)
	}
	h.env = append(h.env,
		"PATH="+fakeBin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LOCALBIN="+h.localbin,
		"FAKE_GO_LOG="+h.log,
		"FAKE_K8S_VERSION=v"+version,
	)
	return h
}

// run runs hack/<script> with extra environment and returns its stdout,
// its stderr and whether it succeeded.
func (h *harness) run(script string, env ...string) (stdout, stderr string, ok bool) {
	h.t.Helper()
	cmd := exec.Command(filepath.Join(h.root, "hack", script))
	cmd.Env = append(slices.Clone(h.env), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		h.t.Fatalf("%s: %v", script, err)
	}
	return out.String(), errb.String(), err == nil
}

// builds returns the builds logged since the last call, and forgets them.
func (h *harness) builds() []build {
	h.t.Helper()
	f, err := os.Open(h.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var bs []build
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 6 {
			h.t.Fatalf("fake go log line %q", sc.Text())
		}
		bs = append(bs, build{pkg: p[0], ldflags: p[1], dir: p[2], cgo: p[3], out: p[4], lock: p[5]})
	}
	f.Close()
	if err := sc.Err(); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Remove(h.log); err != nil {
		h.t.Fatal(err)
	}
	return bs
}

// stamp is the -ldflags the Kubernetes components get for version v.
func stamp(v, major, minor string) string {
	s := "-s -w"
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		s += " -X " + pkg + ".gitVersion=v" + v +
			" -X " + pkg + ".gitMajor=" + major +
			" -X " + pkg + ".gitMinor=" + minor +
			" -X " + pkg + ".gitTreeState=clean"
	}
	return s
}

// checkBuilds checks that got are exactly the builds of want (binary name
// to package), each in hack/envtest with CGO off, into a temporary name in
// out, with the version stamp (plain "-s -w" for etcd), holding the lock of
// out, so that concurrent runs do not build the same binary, and that each
// binary is now in out, executable, with no temporary file left.
func (h *harness) checkBuilds(got []build, out, ldflags string, want [][2]string) {
	h.t.Helper()
	if len(got) != len(want) {
		h.t.Fatalf("%d builds %v, want %d: %v", len(got), got, len(want), want)
	}
	for i, w := range want {
		name, pkg := w[0], w[1]
		b := got[i]
		wantFlags := ldflags
		if name == "etcd" {
			wantFlags = "-s -w"
		}
		if b.pkg != pkg || b.ldflags != wantFlags || b.dir != filepath.Join(h.root, "hack", "envtest") ||
			b.cgo != "0" || b.out != filepath.Join(out, "."+name+".tmp") || b.lock != "held" {
			h.t.Errorf("build %d: %+v, want %s from %s with %q in hack/envtest, CGO_ENABLED=0, lock held, into %s/.%s.tmp",
				i, b, name, pkg, wantFlags, out, name)
		}
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil || fi.Mode()&0o111 == 0 {
			h.t.Errorf("%s not an executable in %s: %v", name, out, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*.tmp"))
	if len(left) > 0 {
		h.t.Errorf("temporary files left: %v", left)
	}
}

var (
	envtestBinaries = [][2]string{
		{"kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"},
		{"etcd", "./etcd"},
	}
	clusterBinaries = [][2]string{
		{"kubelet", "k8s.io/kubernetes/cmd/kubelet"},
		{"kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"},
		{"kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler"},
		{"kubectl", "k8s.io/kubernetes/cmd/kubectl"},
	}
)

// TestBuildsOnce runs each script twice on an empty LOCALBIN: the first
// run builds its binaries, the second finds them and builds nothing; both
// print the directory alone on stdout.
func TestBuildsOnce(t *testing.T) {
	for _, tc := range []struct {
		script  string
		builds  [][2]string
		present []string // lines the second run logs, without " present in DIR"
		absent  []string // binaries it must not build
	}{
		{"build-envtest.sh", envtestBinaries,
			[]string{"build-envtest: kube-apiserver", "build-envtest: etcd"},
			[]string{"kubelet", "kubectl"}},
		{"build-cluster.sh", append(slices.Clone(envtestBinaries), clusterBinaries...),
			[]string{"build-envtest: kube-apiserver", "build-envtest: etcd", "build-cluster: kubelet",
				"build-cluster: kube-controller-manager", "build-cluster: kube-scheduler", "build-cluster: kubectl"},
			nil},
	} {
		t.Run(tc.script, func(t *testing.T) {
			h := newHarness(t, defaultVersion)
			out := filepath.Join(h.localbin, "k8s", defaultVersion)
			for run := range 2 {
				stdout, stderr, ok := h.run(tc.script)
				if !ok {
					t.Fatalf("run %d failed:\n%s", run, stderr)
				}
				if stdout != out+"\n" {
					t.Fatalf("run %d: stdout %q, want the directory %q alone", run, stdout, out)
				}
				if run == 0 {
					h.checkBuilds(h.builds(), out, stamp(defaultVersion, "1", "37"), tc.builds)
					continue
				}
				if bs := h.builds(); len(bs) > 0 {
					t.Errorf("second run rebuilt %v", bs)
				}
				for _, line := range tc.present {
					if !strings.Contains(stderr, line+": present in "+out+"\n") {
						t.Errorf("second run's stderr does not say %q:\n%s", line+": present", stderr)
					}
				}
			}
			for _, name := range tc.absent {
				if _, err := os.Stat(filepath.Join(out, name)); err == nil {
					t.Errorf("%s built %s", tc.script, name)
				}
			}
		})
	}
}

// TestBuildClusterAfterBuildEnvtest is the usual order (make test, then
// make test-cluster): the cluster script builds only what is missing.
func TestBuildClusterAfterBuildEnvtest(t *testing.T) {
	h := newHarness(t, defaultVersion)
	out := filepath.Join(h.localbin, "k8s", defaultVersion)
	if _, stderr, ok := h.run("build-envtest.sh"); !ok {
		t.Fatal(stderr)
	}
	h.builds()
	if _, stderr, ok := h.run("build-cluster.sh"); !ok {
		t.Fatal(stderr)
	}
	h.checkBuilds(h.builds(), out, stamp(defaultVersion, "1", "37"), clusterBinaries)
}

func TestVersionIsStampedAndNamesTheDirectory(t *testing.T) {
	h := newHarness(t, "1.40.11")
	stdout, stderr, ok := h.run("build-cluster.sh", "ENVTEST_K8S_VERSION=1.40.11")
	if !ok {
		t.Fatal(stderr)
	}
	out := filepath.Join(h.localbin, "k8s", "1.40.11")
	if stdout != out+"\n" {
		t.Fatalf("stdout %q, want %q", stdout, out)
	}
	h.checkBuilds(h.builds(), out, stamp("1.40.11", "1", "40"), append(slices.Clone(envtestBinaries), clusterBinaries...))
}

func TestVersionThatGoModDoesNotRequireIsRefused(t *testing.T) {
	for _, script := range []string{"build-envtest.sh", "build-cluster.sh"} {
		t.Run(script, func(t *testing.T) {
			h := newHarness(t, defaultVersion)
			stdout, stderr, ok := h.run(script, "ENVTEST_K8S_VERSION=1.36.0")
			if ok {
				t.Fatalf("succeeded with a version go.mod does not require; stdout %q", stdout)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing (callers take it as the directory)", stdout)
			}
			want := "ENVTEST_K8S_VERSION=1.36.0 but hack/envtest/go.mod requires k8s.io/kubernetes v" + defaultVersion
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q does not say %q", stderr, want)
			}
			if bs := h.builds(); len(bs) > 0 {
				t.Errorf("built %v", bs)
			}
		})
	}
}

// TestFailedBuildLeavesNoBinary: an interrupted or failed build must not
// leave a file that the next run takes for a complete binary.
func TestFailedBuildLeavesNoBinary(t *testing.T) {
	h := newHarness(t, defaultVersion)
	out := filepath.Join(h.localbin, "k8s", defaultVersion)
	stdout, stderr, ok := h.run("build-cluster.sh", "FAKE_GO_FAIL=k8s.io/kubernetes/cmd/kube-controller-manager")
	if ok {
		t.Fatalf("succeeded although a build failed; stdout %q", stdout)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	if !strings.Contains(stderr, "build of k8s.io/kubernetes/cmd/kube-controller-manager failed") {
		t.Errorf("stderr does not pass on go's error:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "kube-controller-manager")); err == nil {
		t.Fatal("a failed build left kube-controller-manager")
	}
	if bs := h.builds(); len(bs) != 4 || bs[3].pkg != "k8s.io/kubernetes/cmd/kube-controller-manager" {
		t.Fatalf("builds %v, want kube-apiserver, etcd, kubelet and the failed kube-controller-manager", bs)
	}
	if _, stderr, ok := h.run("build-cluster.sh"); !ok {
		t.Fatal(stderr)
	}
	h.checkBuilds(h.builds(), out, stamp(defaultVersion, "1", "37"), clusterBinaries[1:])
}
