//go:build cluster

package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Fixed by the components themselves: one such cluster per machine.
const (
	containerdState  = "/run/containerd"
	containerdSocket = "/run/containerd/containerd.sock"
	kubeletRoot      = "/var/lib/kubelet"
	podLogDir        = "/var/log/pods"
	containerLogDir  = "/var/log/containers"
	apiServerPort    = "16443" // test/cluster/overlay points the pods at it
	nodeName         = "ospf-cluster-test"
	nodeIP           = "10.254.0.1" // the host end of the veth to the lab's r1, where the node's ospfd peers
	pauseImage       = "ospf-operator.test/pause:1"
	cniConf          = `{"cniVersion": "1.0.0", "name": "ospf-cluster-test", "plugins": [
  {"type": "bridge", "bridge": "oocl-cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.255.0.0/24"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}`
)

// node is the single-node cluster: an envtest control plane (kube-apiserver,
// etcd) plus kube-controller-manager, kube-scheduler, containerd and the
// kubelet, all started by the test and stopped by stop.
type node struct {
	t          *testing.T
	bin        string // the Kubernetes binaries (hack/build-cluster.sh)
	dir        string
	env        *envtest.Environment
	kubeconfig string
	procs      []*exec.Cmd
	created    []string // fixed host paths that did not exist before
}

// prerequisites says what the machine lacks to run the cluster, if anything.
func prerequisites(bin string) error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip", "vtysh"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		missing = append(missing, "/usr/lib/cni (containernetworking-plugins)")
	}
	for _, b := range []string{"kube-apiserver", "etcd", "kubelet", "kube-controller-manager", "kube-scheduler", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			missing = append(missing, filepath.Join(bin, b)+" (hack/build-cluster.sh)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the cluster test needs %s (apt-get install containerd runc containernetworking-plugins frr iproute2)", strings.Join(missing, ", "))
	}
	if _, err := os.Stat(containerdSocket); err == nil {
		return errors.New(containerdSocket + " exists: another containerd (another cluster test?) runs on this machine")
	}
	if _, err := os.Stat(kubeletRoot); err == nil {
		return errors.New(kubeletRoot + " exists: another kubelet runs or ran on this machine")
	}
	return nil
}

func (n *node) logf(format string, args ...any) { n.t.Logf(format, args...) }

// start brings the node up and returns once it is Ready.
func (n *node) start(ctx context.Context) error {
	for _, p := range []string{containerdState, kubeletRoot, podLogDir, containerLogDir} {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			n.created = append(n.created, p)
		}
	}
	n.env = &envtest.Environment{BinaryAssetsDirectory: n.bin}
	api := n.env.ControlPlane.GetAPIServer()
	api.Address, api.Port = "127.0.0.1", apiServerPort
	api.Configure().
		// envtest turns it off; pods need their service-account token.
		Set("disable-admission-plugins", "").
		Set("kubelet-preferred-address-types", "InternalIP").
		Set("service-cluster-ip-range", "10.96.0.0/24")
	cfg, err := n.env.Start()
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	admin, err := n.env.AddUser(envtest.User{Name: "cluster-admin", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		return err
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	n.kubeconfig = filepath.Join(n.dir, "admin.kubeconfig")
	if err := os.WriteFile(n.kubeconfig, kc, 0o600); err != nil {
		return err
	}
	caFile := filepath.Join(n.dir, "ca.crt")
	if err := os.WriteFile(caFile, api.CA, 0o644); err != nil {
		return err
	}

	if err := n.startContainerd(ctx); err != nil {
		return err
	}
	if err := n.importPause(ctx); err != nil {
		return err
	}
	saKey := filepath.Join(api.CertDir, "sa-signer.key")
	if err := n.run("kube-controller-manager", filepath.Join(n.bin, "kube-controller-manager"),
		"--kubeconfig="+n.kubeconfig, "--leader-elect=false", "--root-ca-file="+caFile,
		"--service-account-private-key-file="+saKey, "--use-service-account-credentials=false",
		"--controllers=*", "--secure-port=0", "--bind-address=127.0.0.1",
		"--node-monitor-grace-period=20s", "--concurrent-gc-syncs=5"); err != nil {
		return err
	}
	if err := n.run("kube-scheduler", filepath.Join(n.bin, "kube-scheduler"),
		"--kubeconfig="+n.kubeconfig, "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1"); err != nil {
		return err
	}
	return n.startKubelet()
}

// run starts a component with its output in DIR/NAME.log.
func (n *node) run(name, path string, args ...string) error {
	log, err := os.Create(filepath.Join(n.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n.procs = append(n.procs, cmd)
	n.logf("started %s (pid %d), log %s", name, cmd.Process.Pid, log.Name())
	return nil
}

func (n *node) startContainerd(ctx context.Context) error {
	root := filepath.Join(n.dir, "containerd")
	cniDir := filepath.Join(n.dir, "cni")
	if err := os.MkdirAll(cniDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cniDir, "10-ospf-cluster-test.conflist"), []byte(cniConf), 0o644); err != nil {
		return err
	}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # Root here lacks CAP_SYS_RESOURCE: without it every sandbox fails with
  # "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, root, containerdState, containerdSocket, pauseImage, cniDir)
	cfgFile := filepath.Join(n.dir, "containerd.toml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		return err
	}
	if err := n.run("containerd", "containerd", "--config", cfgFile); err != nil {
		return err
	}
	return waitFor(ctx, 30*time.Second, "containerd's socket", func() error {
		return exec.CommandContext(ctx, "ctr", "--address", containerdSocket, "version").Run()
	})
}

// ctr runs ctr in containerd's k8s.io namespace, the CRI's.
func (n *node) ctr(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", containerdSocket, "-n", "k8s.io"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// importPause builds the sandbox image (test/cluster/pause) and imports it.
func (n *node) importPause(ctx context.Context) error {
	bin := filepath.Join(n.dir, "pause")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./pause")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building pause: %w: %s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	archive := filepath.Join(n.dir, "pause.tar")
	if err := os.WriteFile(archive, dockerArchive(pauseImage, "/pause", data), 0o644); err != nil {
		return err
	}
	_, err = n.ctr(ctx, "images", "import", archive)
	return err
}

// dockerArchive returns a `docker save` archive of a one-file image.
func dockerArchive(ref, entrypoint string, file []byte) []byte {
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	_ = lw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(entrypoint, "/"), Mode: 0o755, Size: int64(len(file)), Typeflag: tar.TypeReg})
	_, _ = lw.Write(file)
	_ = lw.Close()
	sum := sha256.Sum256(layer.Bytes())
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Entrypoint": []string{entrypoint}, "User": "65535:65535"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	csum := sha256.Sum256(config)
	configName := hex.EncodeToString(csum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{ref}, "Layers": []string{"layer.tar"}}})
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, f := range []struct {
		name string
		data []byte
	}{{"layer.tar", layer.Bytes()}, {configName, config}, {"manifest.json", manifest}} {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(f.data)
	}
	_ = tw.Close()
	return out.Bytes()
}

func (n *node) startKubelet() error {
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1.
failCgroupV1: false
cgroupDriver: cgroupfs
# Leave the host's iptables alone.
makeIPTablesUtilChains: false
containerRuntimeEndpoint: unix://%s
failSwapOn: false
address: %s
healthzPort: 0
readOnlyPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
# A shared test machine: no evictions, no image garbage collection.
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "0%%"
  imagefs.available: "0%%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: /etc/resolv.conf
syncFrequency: 5s
fileCheckFrequency: 5s
nodeStatusUpdateFrequency: 2s
`, containerdSocket, nodeIP)
	cfgFile := filepath.Join(n.dir, "kubelet.yaml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		return err
	}
	return n.run("kubelet", filepath.Join(n.bin, "kubelet"),
		"--config="+cfgFile, "--kubeconfig="+n.kubeconfig, "--root-dir="+kubeletRoot,
		"--hostname-override="+nodeName, "--node-ip="+nodeIP, "--v=2")
}

// stop stops everything start started, in reverse order, whatever state it
// is in: the kubelet, the pods' containers, the control plane, containerd
// and its shims, and removes their files and mounts.
func (n *node) stop() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stopProc := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	var containerd *exec.Cmd
	for i := len(n.procs) - 1; i >= 0; i-- {
		cmd := n.procs[i]
		if filepath.Base(cmd.Path) == "containerd" {
			containerd = cmd
			continue
		}
		stopProc(cmd)
	}
	if containerd != nil {
		// The pods' containers outlive the kubelet: kill and remove them,
		// then the shims go with their tasks.
		if out, err := n.ctr(ctx, "tasks", "ls", "-q"); err == nil {
			for _, id := range strings.Fields(out) {
				_, _ = n.ctr(ctx, "tasks", "kill", "-s", "SIGKILL", id)
			}
			for _, id := range strings.Fields(out) {
				_ = waitFor(ctx, 10*time.Second, "task "+id, func() error {
					_, err := n.ctr(ctx, "tasks", "delete", id)
					return err
				})
			}
		}
		if out, err := n.ctr(ctx, "containers", "ls", "-q"); err == nil {
			for _, id := range strings.Fields(out) {
				if _, err := n.ctr(ctx, "containers", "delete", id); err != nil {
					errs = append(errs, err)
				}
			}
		}
		stopProc(containerd)
	}
	if n.env != nil {
		if err := n.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("control plane: %w", err))
		}
	}
	// Mounts left under the kubelet's and containerd's directories (the
	// pods' volumes, the sandboxes' shm, the snapshots).
	for _, root := range []string{kubeletRoot, containerdState, n.dir} {
		for _, m := range mountsUnder(root) {
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
			}
		}
	}
	for _, p := range n.created {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	removeCgroups()
	return errors.Join(errs...)
}

// mountsUnder lists the mount points under root, deepest first.
func mountsUnder(root string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == root || strings.HasPrefix(f[4], root+"/")) {
			out = append(out, f[4])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// removeCgroups removes the kubelet's kubepods cgroups (empty once the
// containers are gone), deepest first.
func removeCgroups() {
	ctrls, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods")
	for _, c := range ctrls {
		var dirs []string
		_ = filepath.WalkDir(c, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = syscall.Rmdir(dirs[i])
		}
	}
}

// waitFor polls check until it succeeds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for {
		if err = check(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not after %v: %w", what, timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
