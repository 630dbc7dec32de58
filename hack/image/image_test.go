package main

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dockerfileStage is what the Dockerfile's final stage says about the image
// and how its builder stage builds the binary.
type dockerfileStage struct {
	entrypoint []string
	user       string
	workdir    string
	// files are the absolute paths the final stage copies in from the
	// builder: "" for a regular file, else a symbolic link's target.
	files      map[string]string
	buildLines []string // the builder's `go build` commands
}

// parseDockerfile reads the instructions the image tool must agree with:
// the final stage's ENTRYPOINT, USER, WORKDIR and COPY instructions, and
// the builder's RUN lines, whose `go build -o` and `ln -s` say what the
// files copied from it are.
func parseDockerfile(t *testing.T, file string) dockerfileStage {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	st := dockerfileStage{files: map[string]string{}}
	builder := map[string]string{} // the builder's files, as files
	final := false
	workdir := "/"
	abs := func(p string) string {
		if path.IsAbs(p) {
			return path.Clean(p)
		}
		return path.Join(workdir, p)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			final = !strings.Contains(strings.ToLower(rest), " as ")
			workdir = "/"
		case "RUN":
			if final {
				continue
			}
			for _, c := range strings.Split(rest, "&&") {
				f := strings.Fields(c)
				switch {
				case strings.Contains(c, "go build"):
					st.buildLines = append(st.buildLines, strings.TrimSpace(c))
					if i := slices.Index(f, "-o"); i >= 0 && i+1 < len(f) {
						builder[abs(f[i+1])] = ""
					}
				case len(f) == 4 && f[0] == "ln" && f[1] == "-s":
					builder[abs(f[3])] = f[2]
				}
			}
		case "WORKDIR":
			workdir = path.Join(workdir, rest)
			if final {
				st.workdir = workdir
			}
		case "USER":
			if final {
				st.user = rest
			}
		case "ENTRYPOINT":
			if final {
				if err := json.Unmarshal([]byte(rest), &st.entrypoint); err != nil {
					t.Fatalf("ENTRYPOINT %s: not exec form: %v", rest, err)
				}
			}
		case "COPY":
			if !final {
				continue
			}
			var args []string
			fromBuilder := false
			for _, f := range strings.Fields(rest) {
				if strings.HasPrefix(f, "--") {
					fromBuilder = fromBuilder || f == "--from=builder"
					continue
				}
				args = append(args, f)
			}
			if !fromBuilder || len(args) != 2 {
				t.Fatalf("COPY %s: the final stage copies one path from the builder", rest)
			}
			src, dst := args[0], abs(args[1])
			if strings.HasSuffix(src, "/") {
				// A directory: its files as they are, links as links.
				n := 0
				for p, link := range builder {
					if rel, ok := strings.CutPrefix(p, path.Clean(src)+"/"); ok {
						st.files[path.Join(dst, rel)] = link
						n++
					}
				}
				if n == 0 {
					t.Fatalf("COPY %s: the builder makes nothing under %s", rest, src)
				}
				continue
			}
			// A file: copied as a file, even through a link.
			if _, ok := builder[path.Clean(src)]; !ok {
				t.Fatalf("COPY %s: the builder makes no %s", rest, src)
			}
			if strings.HasSuffix(args[1], "/") || args[1] == "." {
				dst = path.Join(dst, path.Base(src))
			}
			st.files[dst] = ""
		}
	}
	return st
}

// eachEntry calls f with each entry of the layers' tar streams, in order,
// and a reader of its content; an error, f's too, fails the test.
func eachEntry(t *testing.T, layers []v1.Layer, f func(h *tar.Header, r io.Reader) error) {
	t.Helper()
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := f(h, tr); err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
	}
}

// buildImage builds the binaries the way `make image` does and packs
// them; binaries are the files packed, by their paths in the image.
func buildImage(t *testing.T) (binaries map[string]string, out string) {
	t.Helper()
	dir := t.TempDir()
	binaries = map[string]string{Entrypoint: filepath.Join(dir, "ospf-operator"), Agent: filepath.Join(dir, "ospf-operator-agent")}
	for name, pkg := range map[string]string{Entrypoint: "./cmd", Agent: "./cmd/ospf-operator-agent"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", binaries[name], pkg)
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	out = filepath.Join(dir, "image.tar")
	if err := run(binaries[Entrypoint], binaries[Agent], "example.com/ospf-operator:v0.0.0-test", out, "amd64"); err != nil {
		t.Fatal(err)
	}
	return binaries, out
}

// TestImageMatchesDockerfile checks that make image and make docker-build
// give the same image where it matters: entrypoint, user, working
// directory, the files the Dockerfile adds to its base, and a static binary
// built with the same flags.
func TestImageMatchesDockerfile(t *testing.T) {
	df := parseDockerfile(t, "../../Dockerfile")
	if !slices.Equal(df.entrypoint, []string{Entrypoint}) {
		t.Errorf("Dockerfile ENTRYPOINT %q, image %q", df.entrypoint, Entrypoint)
	}
	if df.user != User {
		t.Errorf("Dockerfile USER %q, image %q", df.user, User)
	}
	if df.workdir != WorkingDir {
		t.Errorf("Dockerfile WORKDIR %q, image %q", df.workdir, WorkingDir)
	}
	if len(df.buildLines) != 2 {
		t.Errorf("the Dockerfile builds %d binaries (%q), want ospf-operator and its agent", len(df.buildLines), df.buildLines)
	}
	for _, line := range df.buildLines {
		for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version="} {
			if !strings.Contains(line, flag) {
				t.Errorf("the Dockerfile's go build lacks %s: %s", flag, line)
			}
		}
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", "$(LDFLAGS)"} {
		if !strings.Contains(grepLine(string(mk), "GO_BUILD_STATIC ="), flag) {
			t.Errorf("the Makefile's GO_BUILD_STATIC lacks %s", flag)
		}
	}
	if !strings.Contains(grepLine(string(mk), "LDFLAGS ?="), "-X main.version=") {
		t.Error("the Makefile's LDFLAGS lacks -X main.version=")
	}

	binaries, out := buildImage(t)
	tag, err := name.NewTag("example.com/ospf-operator:v0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("the tarball is not an image tagged %s: %v", tag, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cf.Config.Entrypoint, df.entrypoint) || cf.Config.User != df.user ||
		cf.Config.WorkingDir != df.workdir || len(cf.Config.Cmd) != 0 {
		t.Errorf("image config entrypoint %q cmd %q user %q workdir %q; Dockerfile %q %q %q",
			cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.User, cf.Config.WorkingDir,
			df.entrypoint, df.user, df.workdir)
	}
	if cf.OS != "linux" {
		t.Errorf("image OS %q", cf.OS)
	}

	// The files: what the Dockerfile copies, plus the parts of distroless's
	// base that the user needs; nothing else (no shell).
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Errorf("%d layers, want 1", len(layers))
	}
	eachEntry(t, layers, func(h *tar.Header, r io.Reader) error {
		p := "/" + strings.TrimSuffix(h.Name, "/")
		files[p] = h
		if h.Typeflag == tar.TypeReg {
			contents[p], _ = io.ReadAll(r)
		}
		return nil
	})
	want := []string{"/etc", "/etc/group", "/etc/passwd", "/home", "/home/nonroot", "/tmp"}
	want = slices.Sorted(slices.Values(append(want, slices.Collect(maps.Keys(df.files))...)))
	got := make([]string, 0, len(files))
	for p := range files {
		got = append(got, p)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("image files %q, want %q", got, want)
	}
	for p, link := range df.files {
		h := files[p]
		switch {
		case h == nil:
		case link == "" && (h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0):
			t.Errorf("%s is not an executable file in the image", p)
		case link != "" && (h.Typeflag != tar.TypeSymlink || h.Linkname != link):
			t.Errorf("%s in the image: type %c link %q, the Dockerfile's a link to %q", p, h.Typeflag, h.Linkname, link)
		}
	}
	for p, link := range Links {
		if df.files[p] != link {
			t.Errorf("the image links %s to %s, the Dockerfile's %s is %q", p, link, p, df.files[p])
		}
	}
	for name, file := range binaries {
		bin, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(contents[name]) != string(bin) {
			t.Errorf("%s in the image is not the binary packed", name)
		}
	}
	if !strings.Contains(string(contents["/etc/passwd"]), ":65532:65532:") {
		t.Errorf("/etc/passwd does not name user 65532: %q", contents["/etc/passwd"])
	}
}

// TestRefusesDynamicBinary checks that a dynamically linked binary, which
// cannot run in an image without a C library, is not packed.
func TestRefusesDynamicBinary(t *testing.T) {
	dynamic, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls to use as a dynamically linked binary")
	}
	if err := checkStatic(dynamic); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Fatalf("checkStatic(%s) = %v, want a dynamically linked error", dynamic, err)
	}
	out := filepath.Join(t.TempDir(), "image.tar")
	if err := run(dynamic, dynamic, "ospf-operator:test", out, "amd64"); err == nil {
		t.Fatal("run packed a dynamically linked binary")
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("run wrote an image of a dynamically linked binary")
	}
}

func grepLine(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestImageCommands unpacks the image and runs its ospf-stream-client
// link, which is `ospf-operator stream` as the Python client's command
// was, and the entrypoint's agent command, which runs the agent binary
// beside it.
func TestImageCommands(t *testing.T) {
	_, out := buildImage(t)
	img, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	eachEntry(t, layers, func(h *tar.Header, r io.Reader) error {
		p := filepath.Join(root, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			return os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			return os.WriteFile(p, b, os.FileMode(h.Mode)&0o755)
		case tar.TypeSymlink:
			return os.Symlink(h.Linkname, p)
		}
		return nil
	})
	help := func(name string, args ...string) string {
		t.Helper()
		b, err := exec.Command(filepath.Join(root, name), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	for link := range Links {
		got, want := help(link[1:], "--help"), help(Entrypoint[1:], "stream", "--help")
		if got != want || !strings.Contains(got, "--ws-listen") {
			t.Errorf("%s --help:\n%s\nwant ospf-operator stream --help:\n%s", link, got, want)
		}
	}
	if got := help(Entrypoint[1:], "agent", "--version"); !strings.HasPrefix(got, "ospf-operator-agent ") {
		t.Errorf("ospf-operator agent --version in the image: %q, want the agent binary's version", got)
	}
}
