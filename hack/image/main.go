// Command image packs the static ospf-operator binaries into a one-layer
// container image and writes it as a tarball that `docker load` and
// `ctr images import` accept (make image).
//
// The image is what the Dockerfile builds on gcr.io/distroless/static:nonroot,
// minus what the binaries never use: /ospf-operator as the entrypoint,
// /ospf-operator-agent beside it (which `ospf-operator agent` runs), and
// /ospf-stream-client a link to ospf-operator (the Python client's name,
// under which it runs as `ospf-operator stream`), run as
// 65532:65532 (nonroot) from /, with /etc/passwd and /etc/group naming that
// user, its home and /tmp. There is no shell and no package manager. The
// layer and the configuration carry fixed times, so the same binary gives
// the same image digest.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's user, entrypoint and paths. The Dockerfile says the same; the
// test in cmd (image_test.go) checks that they agree.
const (
	User       = "65532:65532"
	Entrypoint = "/ospf-operator"
	// Agent is the agent's binary, which the entrypoint's `agent` command
	// runs from beside itself.
	Agent      = "/ospf-operator-agent"
	WorkingDir = "/"
)

// Links are the image's symbolic links and their targets: the Python
// client's name for the binary, under which it runs `stream`.
var Links = map[string]string{"/ospf-stream-client": "ospf-operator"}

// passwd and group are distroless's entries for root and nonroot.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

func main() {
	binary := flag.String("binary", "bin/ospf-operator", "the static ospf-operator binary to pack")
	agent := flag.String("agent-binary", "", "the static ospf-operator-agent binary to pack (default: the one beside -binary)")
	tag := flag.String("tag", "ospf-operator:latest", "the image's reference (IMG)")
	out := flag.String("out", "bin/ospf-operator-image.tar", "the tarball to write")
	arch := flag.String("arch", "amd64", "the image's architecture")
	flag.Parse()
	if *agent == "" {
		*agent = filepath.Join(filepath.Dir(*binary), path.Base(Agent))
	}
	if err := run(*binary, *agent, *tag, *out, *arch); err != nil {
		log.Fatalf("image: %v", err)
	}
}

func run(binary, agent, tag, out, arch string) error {
	bins := map[string][]byte{}
	for name, file := range map[string]string{Entrypoint: binary, Agent: agent} {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if err := checkStatic(file); err != nil {
			return err
		}
		bins[name] = b
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	layerTar, err := layer(bins)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config = v1.Config{
		Entrypoint: []string{Entrypoint},
		User:       User,
		WorkingDir: WorkingDir,
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels: map[string]string{
			"org.opencontainers.image.source": "https://github.com/ospf-operator/ospf-operator",
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n", out, ref.Name(), digest)
	return nil
}

// checkStatic refuses a dynamically linked binary: in an image without a C
// library it fails with "exec /ospf-operator: no such file or directory".
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New(path + " is dynamically linked (build it with CGO_ENABLED=0)")
		}
	}
	return nil
}

// layer returns the image's only layer, a tar of the binaries (by their
// absolute paths) and the files a non-root user needs, all owned by root
// with a fixed time.
func layer(bins map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	dirs := []struct {
		name     string
		mode     int64
		uid, gid int
	}{
		{"etc/", 0o755, 0, 0},
		{"home/", 0o755, 0, 0},
		{"home/nonroot/", 0o700, 65532, 65532},
		{"tmp/", 0o1777, 0, 0},
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode,
			Uid: d.uid, Gid: d.gid, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	type file struct {
		name string
		mode int64
		data []byte
	}
	files := []file{
		{"etc/group", 0o644, []byte(group)},
		{"etc/passwd", 0o644, []byte(passwd)},
	}
	for _, name := range slices.Sorted(maps.Keys(bins)) {
		files = append(files, file{name[1:], 0o755, bins[name]})
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode,
			Size: int64(len(f.data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(Links)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name[1:], Linkname: Links[name],
			Mode: 0o777, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
