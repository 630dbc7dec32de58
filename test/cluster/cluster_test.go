//go:build cluster

// Package cluster runs the operator for real: the image in containerd, the
// DaemonSet on a kubelet, installed with `make deploy` as a user does, beside
// an FRR lab (make test-cluster).
package cluster

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

const (
	namespace  = "ospf-operator-system"
	daemonSet  = "ospf-operator-agent"
	labPrefix  = "oocluster"
	hostVeth   = "oocl-node"
	labVeth    = "eth-node"
	streamPort = "9623"
	// dataDir is the relay's archive on the node, as test/cluster/overlay
	// (and the chart's relay.data.hostPath.path) set it.
	dataDir = "/var/lib/ospf-operator-cluster-test"
)

// require skips the test, or fails it under CI=true, when err is not nil.
func require(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v (CI=true: the cluster test must run)", err)
	}
	t.Skip(err)
}

func TestCluster(t *testing.T) {
	start := time.Now()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("CLUSTER_K8S_BIN")
	imageTar, img := os.Getenv("CLUSTER_IMAGE_TAR"), os.Getenv("CLUSTER_IMG")
	helm := os.Getenv("CLUSTER_HELM")
	if bin == "" || imageTar == "" || img == "" || helm == "" {
		require(t, fmt.Errorf("CLUSTER_K8S_BIN, CLUSTER_IMAGE_TAR, CLUSTER_IMG and CLUSTER_HELM are not set: run make test-cluster"))
	}
	require(t, prerequisites(bin))
	require(t, frrlab.Check())
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	// The lab first, then the node's own FRR: zebra and ospfd in the
	// host's network namespace, peered with r1 over a veth pair whose host
	// end is the node's address. The agent finds ospfd on 127.0.0.1, as on
	// a real node.
	lab := frrlab.Start(t, frrlab.Options{Prefix: labPrefix})
	frr, err := lab.StartNode(ctx, frrlab.NodeOptions{Peer: "r1", Interface: hostVeth, PeerInterface: labVeth,
		Link: netip.PrefixFrom(netip.MustParseAddr(nodeIP), 30).Masked()})
	if err != nil {
		t.Fatal(err)
	}
	if frr.Addr().String() != nodeIP {
		t.Fatalf("the node's FRR is at %s, the kubelet's address %s", frr.Addr(), nodeIP)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the node's FRR:\n%s", frr.LogTails())
		}
		if err := frr.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("lab and the node's FRR up in %v", time.Since(start).Round(time.Millisecond))
	// The archive's directory is the test's own: what an earlier run left
	// goes, and so does this run's.
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "ospf-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, bin: bin, dir: dir}
	// Restore the file `make deploy` edits (kustomize edit set image).
	kustomization := filepath.Join(repo, "config/manager/kustomization.yaml")
	saved, err := os.ReadFile(kustomization)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(kustomization, saved, 0o644); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(podLogDir, namespace+"_*", "*", "*.log"))
			for _, f := range logs {
				if b, err := exec.Command("tail", "-n", "20", f).Output(); err == nil {
					t.Logf("%s:\n%s", f, b)
				}
			}
			for _, name := range []string{"kubelet", "containerd"} {
				if b, err := exec.Command("tail", "-n", "30", filepath.Join(dir, name+".log")).Output(); err == nil {
					t.Logf("%s log:\n%s", name, b)
				}
			}
		}
		stopStart := time.Now()
		if err := n.stop(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
		if err := os.RemoveAll(dataDir); err != nil {
			t.Error(err)
		}
		checkNothingLeft(t, n)
		_ = os.RemoveAll(dir)
		t.Logf("cluster stopped in %v; whole test %v", time.Since(stopStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
	clusterStart := time.Now()
	if err := n.start(ctx); err != nil {
		t.Fatal(err)
	}
	c, cs := clients(t, n.kubeconfig)
	if err := waitFor(ctx, 90*time.Second, "node Ready", func() error {
		var node corev1.Node
		if err := c.Get(ctx, client.ObjectKey{Name: nodeName}, &node); err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("conditions %v", node.Status.Conditions)
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("node Ready %v after starting the control plane", time.Since(clusterStart).Round(time.Millisecond))

	// The image as a user imports it into the node's runtime.
	if _, err := n.ctr(ctx, "images", "import", imageTar); err != nil {
		t.Fatalf("ctr images import %s: %v", imageTar, err)
	}
	if out, err := n.ctr(ctx, "images", "ls", "-q"); err != nil || !strings.Contains(out, "docker.io/library/"+img) && !strings.Contains(out, img) {
		t.Fatalf("image %s not in containerd after import: %v\n%s", img, err, out)
	}

	// Installed as a user does, with the test overlay for the lab.
	deployStart := time.Now()
	makeEnv := append(os.Environ(), "KUBECONFIG="+n.kubeconfig)
	// kubectl's discovery cache in the test's directory: a fresh one sees
	// the CRDs make deploy installs, and ~/.kube stays as it was.
	kubectlCmd := filepath.Join(bin, "kubectl") + " --cache-dir=" + filepath.Join(dir, "kube-cache")
	mk := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, "make", append([]string{"-C", repo, "KUSTOMIZE_DIR=test/cluster/overlay",
			"KUBECTL=" + kubectlCmd}, args...)...)
		cmd.Env = makeEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	mk("deploy", "IMG="+img)
	pod := waitPodReady(ctx, t, c, "")
	t.Logf("deployed, pod %s Ready in %v", pod.Name, time.Since(deployStart).Round(time.Millisecond))

	t.Run("locked down as the runtime applied it", func(t *testing.T) { checkProcesses(t) })
	t.Run("kubectl get ospf equals the node's LSDB", func(t *testing.T) {
		checkMirror(ctx, t, c, frr)
		out, err := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), "--kubeconfig", n.kubeconfig,
			"--cache-dir", filepath.Join(dir, "kube-cache-get"), "get", "ospf", "-o", "name").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ospfrouter.ospf.ospf-operator.io/") || !strings.Contains(string(out), "ospfnetwork.ospf.ospf-operator.io/") {
			t.Errorf("kubectl get ospf: %v\n%s", err, out)
		}
	})
	t.Run("a change reaches an OSPFRouter, an Event, the ConfigMap and a relay client", func(t *testing.T) {
		checkChange(ctx, t, c, lab)
	})
	t.Run("a new pod takes over without rewriting", func(t *testing.T) { pod = checkTakeover(ctx, t, c, pod) })
	t.Run("the archive continues across kubectl delete pod", func(t *testing.T) {
		checkArchiveContinues(ctx, t, c, lab, pod)
	})
	t.Run("the archive continues across a SIGKILL of the pod's processes", func(t *testing.T) {
		checkArchiveAfterKill(ctx, t, lab)
	})
	t.Run("metrics: 401 without a token, 403 without RBAC, 200 with it", func(t *testing.T) {
		checkMetrics(ctx, t, c, cs)
	})
	t.Run("cordon, drain and make undeploy leave nothing", func(t *testing.T) {
		kubectl := func(args ...string) {
			t.Helper()
			out, err := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", n.kubeconfig,
				"--cache-dir", filepath.Join(dir, "kube-cache")}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		kubectl("cordon", nodeName)
		kubectl("drain", nodeName, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
		kubectl("uncordon", nodeName)
		undeployStart := time.Now()
		mk("undeploy", "ignore-not-found=true")
		checkUndeployed(ctx, t, c, n)
		t.Logf("undeployed in %v", time.Since(undeployStart).Round(time.Millisecond))
	})
	t.Run("helm install with TLS and a token, helm uninstall", func(t *testing.T) {
		checkChart(ctx, t, c, n, frr, repo, img, helm, kubectlCmd)
	})
}

// checkChart installs charts/ospf-operator with the helm CLI, as the README
// says, with the values the overlay's changes correspond to and the stream
// behind TLS and a bearer token from Secrets; checks the mirror and the
// stream's guard; and removes it with helm uninstall.
func checkChart(ctx context.Context, t *testing.T, c client.Client, n *node, frr *frrlab.Node, repo, img, helm, kubectlCmd string) {
	const release = "ospf-operator"
	repoName, tag, _ := strings.Cut(img, ":")
	kubectl := func(args ...string) {
		t.Helper()
		fields := strings.Fields(kubectlCmd)
		cmd := exec.CommandContext(ctx, fields[0], append(append(fields[1:], "--kubeconfig", n.kubeconfig), args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	helmRun := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, helm, append(args, "--kubeconfig", n.kubeconfig, "--namespace", namespace)...)
		cmd.Dir = repo
		home := filepath.Join(n.dir, "helm")
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("helm %s:\n%s", args[0], out)
	}
	// The namespace first, with the label the README asks for where Pod
	// Security admission enforces a stricter level than privileged.
	kubectl("create", "namespace", namespace)
	kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=privileged")
	caPEM, certPEM, keyPEM := selfSignedCert(t, nodeIP)
	const token = "cluster-test-token"
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "relay-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "relay-token"}, StringData: map[string]string{"token": token}},
	} {
		if err := c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	installStart := time.Now()
	helmRun("install", release, "charts/ospf-operator",
		"--set", "image.repository="+repoName, "--set", "image.tag="+tag,
		"--set", "agent.env[0].name=KUBERNETES_SERVICE_HOST", "--set", "agent.env[0].value=127.0.0.1",
		"--set", "agent.env[1].name=KUBERNETES_SERVICE_PORT", "--set-string", "agent.env[1].value="+apiServerPort,
		"--set", "relay.data.hostPath.path="+dataDir,
		"--set", "stream.tls.secretName=relay-tls", "--set", "stream.bearerToken.secretName=relay-token",
		"--wait", "--timeout", "2m")
	waitPodReady(ctx, t, c, "")
	t.Logf("helm install: pod Ready in %v", time.Since(installStart).Round(time.Millisecond))
	checkMirror(ctx, t, c, frr)
	checkGuardedStream(ctx, t, caPEM, token)

	helmRun("uninstall", release, "--wait", "--timeout", "2m")
	// Helm installs CRDs but never deletes them (their objects would go
	// with them); the README says to delete them by hand.
	kubectl("delete", "crd", "ospfrouters.ospf.ospf-operator.io", "ospfnetworks.ospf.ospf-operator.io")
	kubectl("delete", "namespace", namespace)
	checkUndeployed(ctx, t, c, n)
}

// checkGuardedStream: the chart's relay serves HTTPS and WSS only, with the
// certificate of the Secret, and answers only the token but for probes.
func checkGuardedStream(ctx context.Context, t *testing.T, caPEM []byte, token string) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
	get := func(path, bearer string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+nodeIP+":"+streamPort+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz", ""); code != http.StatusOK {
		t.Errorf("/readyz over HTTPS without a token (the probes'): %d", code)
	}
	for _, bearer := range []string{"", "wrong"} {
		if code := get("/v1/snapshot", bearer); code != http.StatusUnauthorized {
			t.Errorf("/v1/snapshot with token %q: %d, want 401", bearer, code)
		}
	}
	if code := get("/v1/snapshot", token); code != http.StatusOK {
		t.Errorf("/v1/snapshot with the token: %d", code)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + nodeIP + ":" + streamPort + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP answered %d on the TLS stream port", resp.StatusCode)
		}
	}
	wsCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(wsCtx, "wss://"+nodeIP+":"+streamPort+"/v1/stream", &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Errorf("WSS /v1/stream with the token: %v", err)
		return
	}
	_ = ws.Close(websocket.StatusNormalClosure, "")
}

// selfSignedCert returns a CA and a server certificate it signed for ip,
// with the server's key, all PEM.
func selfSignedCert(t *testing.T, ip string) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cluster-test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "relay"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func clients(t *testing.T, kubeconfig string) (client.Client, *kubernetes.Clientset) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, ospfv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, kubernetes.NewForConfigOrDie(cfg)
}

// waitPodReady waits for the DaemonSet's pod other than old, with both
// containers Ready through their probes.
func waitPodReady(ctx context.Context, t *testing.T, c client.Client, old string) corev1.Pod {
	t.Helper()
	var ready corev1.Pod
	err := waitFor(ctx, 2*time.Minute, "the agent pod Ready", func() error {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/component": "agent"}); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Name == old || p.DeletionTimestamp != nil {
				continue
			}
			var notReady []string
			for _, cs := range p.Status.ContainerStatuses {
				if !cs.Ready || cs.State.Running == nil {
					notReady = append(notReady, fmt.Sprintf("%s %+v", cs.Name, cs.State))
				}
			}
			if len(p.Status.ContainerStatuses) == 2 && len(notReady) == 0 {
				ready = p
				return nil
			}
			return fmt.Errorf("pod %s %s: %v", p.Name, p.Status.Phase, notReady)
		}
		return fmt.Errorf("no pod (%d)", len(pods.Items))
	})
	if err != nil {
		t.Fatal(err)
	}
	return ready
}

// checkProcesses reads the agent's and the relay's processes as the kernel
// sees them: user 65532, no capabilities, no new privileges, seccomp, a
// read-only root file system.
func checkProcesses(t *testing.T) {
	found := map[string]bool{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p + "/cmdline")
		if err != nil {
			continue
		}
		sub, ok := ownCommand(cmdline)
		if !ok {
			continue
		}
		found[sub] = true
		status, _ := os.ReadFile(p + "/status")
		fields := map[string]string{}
		for _, line := range strings.Split(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			fields[k] = strings.Join(strings.Fields(v), " ")
		}
		for k, want := range map[string]string{
			"Uid": "65532 65532 65532 65532", "Gid": "65532 65532 65532 65532",
			"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapBnd": "0000000000000000",
			"NoNewPrivs": "1", "Seccomp": "2",
		} {
			if fields[k] != want {
				t.Errorf("%s (pid %s): %s %q, want %q", sub, filepath.Base(p), k, fields[k], want)
			}
		}
		mountinfo, _ := os.ReadFile(p + "/mountinfo")
		rootRO := false
		for _, line := range strings.Split(string(mountinfo), "\n") {
			f := strings.Fields(line)
			if len(f) > 5 && f[4] == "/" {
				rootRO = slices.Contains(strings.Split(f[5], ","), "ro")
			}
		}
		if !rootRO {
			t.Errorf("%s (pid %s): root file system not mounted read-only", sub, filepath.Base(p))
		}
	}
	if !found["agent"] || !found["relay"] {
		t.Errorf("processes found: %v, want agent and relay", slices.Sorted(maps.Keys(found)))
	}
}

// nodeLSDB returns the routers and the transit networks' LSIDs in the
// node's LSDB as its ospfd shows it.
func nodeLSDB(t *testing.T, frr *frrlab.Node) (routers, networks []string) {
	t.Helper()
	db, err := frr.OSPFDatabaseJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range db.Areas {
		for _, r := range a.Router {
			routers = append(routers, r.AdvRouter.String())
		}
		for _, n := range a.Network {
			networks = append(networks, n.LSID.String())
		}
	}
	// A router outside the node's areas is known by its AS-external LSAs.
	for _, e := range db.External {
		routers = append(routers, e.AdvRouter.String())
	}
	slices.Sort(routers)
	return slices.Compact(routers), networks
}

func checkMirror(ctx context.Context, t *testing.T, c client.Client, frr *frrlab.Node) {
	wantRouters, wantNetworks := nodeLSDB(t, frr)
	if len(wantRouters) == 0 || len(wantNetworks) == 0 || !slices.Contains(wantRouters, frr.Router().ID.String()) {
		t.Fatalf("the node's LSDB: routers %v networks %v, want the node's among them", wantRouters, wantNetworks)
	}
	err := waitFor(ctx, 60*time.Second, "OSPFRouters and OSPFNetworks equal to the node's LSDB", func() error {
		var routers ospfv1alpha1.OSPFRouterList
		var networks ospfv1alpha1.OSPFNetworkList
		if err := c.List(ctx, &routers); err != nil {
			return err
		}
		if err := c.List(ctx, &networks); err != nil {
			return err
		}
		var gotR []string
		for _, r := range routers.Items {
			gotR = append(gotR, r.Name)
		}
		slices.Sort(gotR)
		if !slices.Equal(gotR, wantRouters) {
			return fmt.Errorf("OSPFRouters %v, want %v", gotR, wantRouters)
		}
		if len(networks.Items) != len(wantNetworks) {
			return fmt.Errorf("%d OSPFNetworks, want %d (%v)", len(networks.Items), len(wantNetworks), wantNetworks)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkChange adds a static route on r4, which r4 redistributes, and
// waits for it everywhere the operator publishes.
func checkChange(ctx context.Context, t *testing.T, c client.Client, lab *frrlab.Lab) {
	const prefix = "100.127.1.0/24"
	r4, err := lab.Router("r4")
	if err != nil {
		t.Fatal(err)
	}
	wsCtx, wsCancel := context.WithCancel(ctx)
	defer wsCancel()
	ws, resp, err := websocket.Dial(wsCtx, "ws://"+nodeIP+":"+streamPort+"/", nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("relay WebSocket on the node's port %s: %v", streamPort, err)
	}
	defer func() { _ = ws.CloseNow() }()
	ws.SetReadLimit(1 << 24)
	got := make(chan string, 1)
	go func() {
		for {
			_, msg, err := ws.Read(wsCtx)
			if err != nil {
				return
			}
			if strings.Contains(string(msg), prefix) {
				got <- string(msg)
				return
			}
		}
	}()
	if err := lab.Configure("r4", "ip route "+prefix+" Null0"); err != nil {
		t.Fatal(err)
	}

	select {
	case msg := <-got:
		t.Logf("relay client: %s", msg)
	case <-time.After(60 * time.Second):
		t.Error("no relay WebSocket message about " + prefix)
	}
	name := r4.ID.String()
	if err := waitFor(ctx, 60*time.Second, "OSPFRouter "+name+" lists "+prefix, func() error {
		var r ospfv1alpha1.OSPFRouter
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &r); err != nil {
			return err
		}
		b, _ := json.Marshal(r.Status)
		if !strings.Contains(string(b), prefix) {
			return fmt.Errorf("status lacks it")
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if err := waitFor(ctx, 60*time.Second, "an Event about "+prefix, func() error {
		var events eventsv1.EventList
		if err := c.List(ctx, &events); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Regarding.Name == name && strings.Contains(e.Note, prefix) {
				return nil
			}
		}
		return fmt.Errorf("%d events, none about it", len(events.Items))
	}); err != nil {
		t.Error(err)
	}
	if err := waitFor(ctx, 60*time.Second, "the ospf-lsdb ConfigMap holds "+prefix, func() error {
		var cm corev1.ConfigMap
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "ospf-lsdb"}, &cm); err != nil {
			return err
		}
		if strings.Contains(cm.Data["lsdb.json"], strings.TrimSuffix(prefix, "/24")) {
			return nil
		}
		if len(cm.BinaryData) > 0 {
			return nil // gzipped: present is all this checks
		}
		return fmt.Errorf("lsdb.json lacks it")
	}); err != nil {
		t.Error(err)
	}
}

// versions returns the resourceVersion of every object the leader writes.
func versions(ctx context.Context, t *testing.T, c client.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	var routers ospfv1alpha1.OSPFRouterList
	var networks ospfv1alpha1.OSPFNetworkList
	var cm corev1.ConfigMap
	if err := c.List(ctx, &routers); err != nil {
		t.Fatal(err)
	}
	if err := c.List(ctx, &networks); err != nil {
		t.Fatal(err)
	}
	for _, r := range routers.Items {
		out["router "+r.Name] = string(r.UID) + "@" + r.ResourceVersion
	}
	for _, n := range networks.Items {
		out["network "+n.Name] = string(n.UID) + "@" + n.ResourceVersion
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "ospf-lsdb"}, &cm); err != nil {
		t.Fatal(err)
	}
	out["configmap ospf-lsdb"] = string(cm.UID) + "@" + cm.ResourceVersion
	return out
}

func countEvents(ctx context.Context, t *testing.T, c client.Client) int {
	t.Helper()
	var events eventsv1.EventList
	if err := c.List(ctx, &events); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events.Items {
		if e.Regarding.APIVersion == ospfv1alpha1.GroupVersion.String() {
			n++
		}
	}
	return n
}

// checkTakeover deletes the agent's pod: the DaemonSet's new pod leads
// and finds nothing to write, and its relay nothing to archive. It returns
// the new pod.
func checkTakeover(ctx context.Context, t *testing.T, c client.Client, old corev1.Pod) corev1.Pod {
	// Wait until nothing moves for longer than the snapshot interval (10 s),
	// so that what moves after the deletion is the takeover's doing.
	before := versions(ctx, t, c)
	for settle := time.Now(); ; {
		time.Sleep(12 * time.Second)
		now := versions(ctx, t, c)
		if maps.Equal(before, now) {
			break
		}
		if time.Since(settle) > time.Minute {
			t.Fatalf("the objects keep changing without a topology change")
		}
		before = now
	}
	eventsBefore := countEvents(ctx, t, c)
	archiveBefore := readArchive(t)
	if len(archiveBefore) == 0 {
		t.Errorf("no archive under %s before the takeover", dataDir)
	}
	if err := c.Delete(ctx, &old); err != nil {
		t.Fatal(err)
	}
	takeoverStart := time.Now()
	pod := waitPodReady(ctx, t, c, old.Name)
	if err := waitFor(ctx, 60*time.Second, "the new pod leads", func() error {
		var leases []string
		var l coordinationv1.LeaseList
		if err := c.List(ctx, &l, client.InNamespace(namespace)); err != nil {
			return err
		}
		for _, lease := range l.Items {
			if lease.Spec.HolderIdentity != nil && strings.Contains(*lease.Spec.HolderIdentity, pod.Name) {
				return nil
			}
			leases = append(leases, lease.Name)
		}
		return fmt.Errorf("no Lease held by %s among %v", pod.Name, leases)
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("new pod %s Ready and leading %v after the deletion", pod.Name, time.Since(takeoverStart).Round(time.Millisecond))
	// Give the new leader time to write whatever it would (its first
	// reconcile, a snapshot interval).
	time.Sleep(15 * time.Second)
	after := versions(ctx, t, c)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %s before the takeover, %q after", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s created by the takeover", k)
		}
	}
	if n := countEvents(ctx, t, c) - eventsBefore; n > 0 {
		t.Errorf("%d OSPF Events during the takeover, want none", n)
	}
	// The new relay compared the old one's view with the new agent's:
	// nothing changed, so nothing is archived.
	if err := waitFor(ctx, 30*time.Second, "the new relay to follow the new agent", func() error {
		return relayReady(ctx)
	}); err != nil {
		t.Error(err)
	}
	if after := readArchive(t); !maps.Equal(archiveBefore, after) {
		t.Errorf("the takeover changed the archive:\nbefore %q\nafter  %q", archiveBefore, after)
	}
	return pod
}

func checkMetrics(ctx context.Context, t *testing.T, c client.Client, cs *kubernetes.Clientset) {
	for _, name := range []string{"scraper", "stranger"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
		if err := c.Create(ctx, sa); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ospf-cluster-test-scraper"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ospf-operator-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: namespace, Name: "scraper"}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Delete(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ospf-cluster-test-scraper"}})
	})
	token := func(sa string) string {
		tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the agent's self-signed certificate
	}}
	get := func(bearer string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+nodeIP+":9620/metrics", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET /metrics: %v", err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := get(token("stranger")); code != http.StatusForbidden {
		t.Errorf("a token without metrics-reader: %d, want 403", code)
	}
	// RBAC bindings reach the authorizer's cache within a moment.
	if err := waitFor(ctx, 20*time.Second, "200 with metrics-reader", func() error {
		code, body := get(token("scraper"))
		if code != http.StatusOK || !strings.Contains(body, "ospf_operator_") {
			return fmt.Errorf("%d", code)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// checkUndeployed: after make undeploy nothing of the operator is left in
// the API server or on the node.
func checkUndeployed(ctx context.Context, t *testing.T, c client.Client, n *node) {
	err := waitFor(ctx, 90*time.Second, "everything removed", func() error {
		var left []string
		var ns corev1.Namespace
		if err := c.Get(ctx, client.ObjectKey{Name: namespace}, &ns); err == nil {
			left = append(left, "namespace "+namespace+" ("+string(ns.Status.Phase)+")")
		}
		var crds apiextensionsv1.CustomResourceDefinitionList
		if err := c.List(ctx, &crds); err != nil {
			return err
		}
		for _, crd := range crds.Items {
			if strings.HasSuffix(crd.Name, ".ospf-operator.io") {
				left = append(left, "CRD "+crd.Name)
			}
		}
		var roles rbacv1.ClusterRoleList
		if err := c.List(ctx, &roles); err != nil {
			return err
		}
		for _, r := range roles.Items {
			if strings.HasPrefix(r.Name, "ospf-operator-") {
				left = append(left, "ClusterRole "+r.Name)
			}
		}
		var bindings rbacv1.ClusterRoleBindingList
		if err := c.List(ctx, &bindings); err != nil {
			return err
		}
		for _, b := range bindings.Items {
			if strings.HasPrefix(b.Name, "ospf-operator-") {
				left = append(left, "ClusterRoleBinding "+b.Name)
			}
		}
		var ds appsv1.DaemonSetList
		if err := c.List(ctx, &ds, client.InNamespace(namespace)); err == nil && len(ds.Items) > 0 {
			left = append(left, "DaemonSet")
		}
		if out, err := n.ctr(ctx, "containers", "ls"); err == nil && strings.Contains(out, "ospf-operator:") {
			left = append(left, "containers of the image")
		}
		if processesOf(imageBinaries...) > 0 {
			left = append(left, "ospf-operator processes")
		}
		if len(left) > 0 {
			return fmt.Errorf("left: %v", left)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// imageBinaries are the image's programs: ospf-operator, and the agent's,
// which `/ospf-operator agent` replaces itself with.
var imageBinaries = []string{"/ospf-operator", "/ospf-operator-agent"}

// ownCommand is the command a process of the image runs, from its
// /proc/PID/cmdline: "agent" for the agent's binary, else ospf-operator's
// first argument.
func ownCommand(cmdline []byte) (string, bool) {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	switch {
	case args[0] == "/ospf-operator-agent":
		return "agent", true
	case args[0] == "/ospf-operator" && len(args) > 1:
		return args[1], true
	}
	return "", false
}

// processesOf counts the processes running one of exes.
func processesOf(exes ...string) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, exe := range exes {
			if strings.HasPrefix(string(b), exe+"\x00") {
				n++
			}
		}
	}
	return n
}

// checkNothingLeft runs after the cluster stopped: no process, mount or
// fixed host path of it remains.
func checkNothingLeft(t *testing.T, n *node) {
	for _, cmd := range n.procs {
		if cmd.ProcessState == nil {
			t.Errorf("%s (pid %d) still running", cmd.Path, cmd.Process.Pid)
		}
	}
	for _, exe := range append(slices.Clone(imageBinaries), "/pause") {
		if k := processesOf(exe); k > 0 {
			t.Errorf("%d %s processes left", k, exe)
		}
	}
	for _, p := range n.created {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left", p)
		}
	}
	for _, root := range []string{kubeletRoot, containerdState, n.dir} {
		if m := mountsUnder(root); len(m) > 0 {
			t.Errorf("mounts left: %v", m)
		}
	}
}
