package main

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dockerfileStage is what the Dockerfile's final stage says about the image
// and how its builder stage builds the binary.
type dockerfileStage struct {
	entrypoint []string
	user       string
	workdir    string
	copies     []string // absolute paths the final stage copies in
	buildLine  string   // the builder's `go build` command
}

// parseDockerfile reads the instructions the image tool must agree with:
// the final stage's ENTRYPOINT, USER, WORKDIR and COPY destinations, and the
// builder's go build line.
func parseDockerfile(t *testing.T, file string) dockerfileStage {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var st dockerfileStage
	final := false
	workdir := "/"
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
			if !final && strings.Contains(rest, "go build") {
				st.buildLine = rest
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
			if final {
				var args []string
				for _, f := range strings.Fields(rest) {
					if !strings.HasPrefix(f, "--") {
						args = append(args, f)
					}
				}
				src, dst := args[len(args)-2], args[len(args)-1]
				if !path.IsAbs(dst) {
					dst = path.Join(workdir, dst)
				}
				if strings.HasSuffix(args[len(args)-1], "/") || args[len(args)-1] == "." {
					dst = path.Join(dst, path.Base(src))
				}
				st.copies = append(st.copies, dst)
			}
		}
	}
	return st
}

// buildImage builds the binary the way `make image` does and packs it.
func buildImage(t *testing.T) (binary, out string) {
	t.Helper()
	dir := t.TempDir()
	binary = filepath.Join(dir, "ospf-operator")
	cmd := exec.Command("go", "build", "-trimpath", "-o", binary, "./cmd")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out = filepath.Join(dir, "image.tar")
	if err := run(binary, "example.com/ospf-operator:v0.0.0-test", out, "amd64"); err != nil {
		t.Fatal(err)
	}
	return binary, out
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
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version="} {
		if !strings.Contains(df.buildLine, flag) {
			t.Errorf("the Dockerfile's go build lacks %s: %s", flag, df.buildLine)
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

	binary, out := buildImage(t)
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
			p := "/" + strings.TrimSuffix(h.Name, "/")
			files[p] = h
			if h.Typeflag == tar.TypeReg {
				contents[p], _ = io.ReadAll(tr)
			}
		}
		rc.Close()
	}
	want := []string{"/etc", "/etc/group", "/etc/passwd", "/home", "/home/nonroot", "/tmp"}
	want = append(want, df.copies...)
	slices.Sort(want)
	got := make([]string, 0, len(files))
	for p := range files {
		got = append(got, p)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("image files %q, want %q", got, want)
	}
	for _, p := range df.copies {
		h := files[p]
		if h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
			t.Errorf("%s is not an executable file in the image", p)
		}
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if string(contents[Entrypoint]) != string(bin) {
		t.Errorf("%s in the image is not the binary packed", Entrypoint)
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
	if err := run(dynamic, "ospf-operator:test", out, "amd64"); err == nil {
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
