//go:build cluster

// Package cluster runs the operator for real: the image in containerd, the
// DaemonSet on a kubelet, installed with `make deploy` as a user does, beside
// an FRR lab (make test-cluster).
package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
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
	if bin == "" || imageTar == "" || img == "" {
		require(t, fmt.Errorf("CLUSTER_K8S_BIN, CLUSTER_IMAGE_TAR and CLUSTER_IMG are not set: run make test-cluster"))
	}
	require(t, prerequisites(bin))
	require(t, frrlab.Check())
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	// The lab first: the node's address is the host end of its veth to r1.
	lab := frrlab.Start(t, frrlab.Options{Prefix: labPrefix})
	if err := connectLab(ctx, t); err != nil {
		t.Fatal(err)
	}
	t.Logf("lab up in %v", time.Since(start).Round(time.Millisecond))

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
	t.Run("kubectl get ospf equals the lab's LSDB", func(t *testing.T) {
		checkMirror(ctx, t, c, lab)
		out, err := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), "--kubeconfig", n.kubeconfig,
			"--cache-dir", filepath.Join(dir, "kube-cache-get"), "get", "ospf", "-o", "name").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ospfrouter.ospf.ospf-operator.io/") || !strings.Contains(string(out), "ospfnetwork.ospf.ospf-operator.io/") {
			t.Errorf("kubectl get ospf: %v\n%s", err, out)
		}
	})
	t.Run("a change reaches an OSPFRouter, an Event, the ConfigMap and a relay client", func(t *testing.T) {
		checkChange(ctx, t, c, lab)
	})
	t.Run("a new pod takes over without rewriting", func(t *testing.T) { checkTakeover(ctx, t, c, pod) })
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
	t.Run("the Helm chart installs the same and uninstalls cleanly", func(t *testing.T) {
		checkChart(ctx, t, c, n, lab, repo, img, kubectlCmd)
	})
}

// checkChart installs charts/ospf-operator, rendered by Helm's engine
// (test/helm/render), with the values the overlay's changes correspond to,
// and removes it.
func checkChart(ctx context.Context, t *testing.T, c client.Client, n *node, lab *frrlab.Lab, repo, img, kubectlCmd string) {
	repoName, tag, _ := strings.Cut(img, ":")
	render := exec.CommandContext(ctx, "go", "run", "./render",
		"--set", "image.repository="+repoName, "--set", "image.tag="+tag,
		"--set", "ospfd.server="+labIP,
		"--set", "agent.env[0].name=KUBERNETES_SERVICE_HOST", "--set", "agent.env[0].value=127.0.0.1",
		"--set", "agent.env[1].name=KUBERNETES_SERVICE_PORT", "--set-string", "agent.env[1].value="+apiServerPort)
	render.Dir = filepath.Join(repo, "test", "helm")
	manifest, err := render.Output()
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	file := filepath.Join(n.dir, "chart.yaml")
	if err := os.WriteFile(file, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl := func(stdin []byte, args ...string) {
		t.Helper()
		fields := strings.Fields(kubectlCmd)
		cmd := exec.CommandContext(ctx, fields[0], append(append(fields[1:], "--kubeconfig", n.kubeconfig), args...)...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// As helm install --create-namespace, plus the label the README asks for.
	kubectl(nil, "create", "namespace", namespace)
	kubectl(nil, "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=privileged")
	kubectl(nil, "apply", "--server-side", "-f", file)
	waitPodReady(ctx, t, c, "")
	checkMirror(ctx, t, c, lab)
	kubectl(nil, "delete", "-f", file)
	kubectl(nil, "delete", "namespace", namespace)
	checkUndeployed(ctx, t, c, n)
}

// connectLab links the host to the lab's r1 with a veth pair: the node's
// agent reaches r1's ospfd API at labIP, and ospfd connects back to nodeIP.
func connectLab(ctx context.Context, t *testing.T) error {
	ip := func(args ...string) error {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	_ = ip("link", "del", hostVeth)
	if err := ip("link", "add", hostVeth, "type", "veth", "peer", "name", labVeth, "netns", labPrefix+"-r1"); err != nil {
		return err
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostVeth).Run() })
	for _, args := range [][]string{
		{"addr", "add", nodeIP + "/30", "dev", hostVeth},
		{"link", "set", hostVeth, "up"},
		{"-n", labPrefix + "-r1", "addr", "add", labIP + "/30", "dev", labVeth},
		{"-n", labPrefix + "-r1", "link", "set", labVeth, "up"},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
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
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if args[0] != "/ospf-operator" || len(args) < 2 {
			continue
		}
		sub := args[1]
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

// labLSDB returns the routers and the transit networks' LSIDs in r1's LSDB
// as its ospfd shows it.
func labLSDB(t *testing.T, lab *frrlab.Lab) (routers, networks []string) {
	t.Helper()
	db, err := lab.OSPFDatabaseJSON("r1")
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
	// A router outside r1's areas is known by its AS-external LSAs.
	for _, e := range db.External {
		routers = append(routers, e.AdvRouter.String())
	}
	slices.Sort(routers)
	return slices.Compact(routers), networks
}

func checkMirror(ctx context.Context, t *testing.T, c client.Client, lab *frrlab.Lab) {
	wantRouters, wantNetworks := labLSDB(t, lab)
	if len(wantRouters) == 0 || len(wantNetworks) == 0 {
		t.Fatalf("r1's LSDB: routers %v networks %v", wantRouters, wantNetworks)
	}
	err := waitFor(ctx, 60*time.Second, "OSPFRouters and OSPFNetworks equal to r1's LSDB", func() error {
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
// and finds nothing to write.
func checkTakeover(ctx context.Context, t *testing.T, c client.Client, old corev1.Pod) {
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
		if processesOf("/ospf-operator") > 0 {
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

func processesOf(exe string) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.HasPrefix(string(b), exe+"\x00") {
			n++
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
	for _, exe := range []string{"/ospf-operator", "/pause"} {
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
