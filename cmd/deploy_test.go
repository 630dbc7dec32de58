package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ospf-operator/ospf-operator/internal/agentcmd"
	"github.com/ospf-operator/ospf-operator/internal/cli"
)

// The installation as config/default renders it (make deploy).
const (
	deployNamespace      = "ospf-operator-system"
	deployServiceAccount = "ospf-operator-controller-manager"
	deployDaemonSet      = "ospf-operator-agent"
)

// renderKustomization builds a kustomization directory the way `make
// deploy`'s pinned kustomize does (same sigs.k8s.io/kustomize/api version)
// and returns its objects in order.
func renderKustomization(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []*unstructured.Unstructured
	for i, doc := range bytes.Split(out, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("kustomize build %s: document %d: %v", dir, i, err)
		}
		objs = append(objs, u)
	}
	return objs
}

// startDeployEnv starts a bare API server and etcd from the envtest
// binaries (hack/build-envtest.sh), without CRDs: the test installs
// everything from the rendered manifests. It fails under CI=true when the
// binaries are missing and skips elsewhere.
func startDeployEnv(t *testing.T) client.Client {
	t.Helper()
	return startEnvtest(t, &envtest.Environment{}, clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme)
}

// startEnvtest starts env with the envtest binaries (envtestAssets) and a
// scheme of addToScheme, stops it when the test ends, and returns a client.
func startEnvtest(t *testing.T, env *envtest.Environment, addToScheme ...func(*runtime.Scheme) error) client.Client {
	t.Helper()
	env.BinaryAssetsDirectory = envtestAssets(t)
	scheme := runtime.NewScheme()
	for _, add := range addToScheme {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	env.Scheme = scheme
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// envtestAssets returns the directory of the envtest binaries
// (hack/build-envtest.sh, or $KUBEBUILDER_ASSETS). It fails under CI=true
// when they are missing and skips elsewhere.
func envtestAssets(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join("..", "bin", "k8s", "1.37.2")
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			msg := fmt.Sprintf("envtest binary %s missing in %s: run hack/build-envtest.sh or set KUBEBUILDER_ASSETS", name, dir)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return dir
}

// applyAll server-side applies the objects for real: the Namespace first,
// then the CRDs (waiting until they are established), then the rest.
func applyAll(ctx context.Context, t *testing.T, c client.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	rank := func(u *unstructured.Unstructured) int {
		switch u.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	sorted := slices.Clone(objs)
	slices.SortStableFunc(sorted, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	for _, u := range sorted {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("deploy-test"), client.ForceOwnership); err != nil {
			t.Fatalf("apply %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if u.GetKind() != "CustomResourceDefinition" {
			continue
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, &crd); err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
				return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
			}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CRD %s not established after 30s", u.GetName())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestDeployManifests renders config/default, applies it to a real API
// server, and checks what the README promises about the DaemonSet: the
// agent and relay run with flags the binary accepts and the README
// documents, on the host network, locked down, with least-privilege RBAC.
func TestDeployManifests(t *testing.T) {
	objs := renderKustomization(t, filepath.Join("..", "config", "default"))
	c := startDeployEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	applyAll(ctx, t, c, objs)

	var ds appsv1.DaemonSet
	if err := c.Get(ctx, client.ObjectKey{Namespace: deployNamespace, Name: deployDaemonSet}, &ds); err != nil {
		t.Fatalf("the rendered manifests hold no DaemonSet %s/%s: %v", deployNamespace, deployDaemonSet, err)
	}
	pod := ds.Spec.Template.Spec
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("pod: hostNetwork %v, dnsPolicy %q; want true, ClusterFirstWithHostNet", pod.HostNetwork, pod.DNSPolicy)
	}
	if pod.ServiceAccountName != deployServiceAccount {
		t.Errorf("pod service account %q, want %q", pod.ServiceAccountName, deployServiceAccount)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", psc)
	}

	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	containers := map[string]corev1.Container{}
	for _, ctr := range pod.Containers {
		containers[ctr.Name] = ctr
		checkLockedDown(t, ctr)
		checkFlags(t, ctr, string(readme))
	}
	agent, relay := containers["agent"], containers["relay"]
	if agent.Name == "" || relay.Name == "" {
		t.Fatalf("containers %v: want agent and relay", slices.Sorted(maps.Keys(containers)))
	}
	if agent.Args[0] != "agent" || relay.Args[0] != "relay" {
		t.Errorf("agent runs %q, relay runs %q", agent.Args[0], relay.Args[0])
	}
	// The relay follows the agent's loopback stream.
	agentWS := flagValue(agent.Args, "--ws-listen")
	upstream := flagValue(relay.Args, "--upstream")
	if agentWS == "" || !strings.HasPrefix(agentWS, "127.0.0.1:") || upstream != "ws://"+agentWS {
		t.Errorf("agent --ws-listen %q, relay --upstream %q: want the relay to follow the agent's loopback endpoint", agentWS, upstream)
	}
	if got := flagValue(agent.Args, "--server"); got != "127.0.0.1" {
		t.Errorf("agent --server %q, want the node's ospfd on 127.0.0.1", got)
	}
	// The probes reach the ports the flags bind.
	health := flagValue(agent.Args, "--health-probe-bind-address")
	if agent.ReadinessProbe == nil || agent.ReadinessProbe.HTTPGet == nil || agent.ReadinessProbe.HTTPGet.Path != "/readyz" ||
		!strings.HasSuffix(health, ":"+portOf(agent, agent.ReadinessProbe.HTTPGet.Port.String())) {
		t.Errorf("agent readiness probe %+v does not reach /readyz on --health-probe-bind-address %q", agent.ReadinessProbe, health)
	}

	checkDataDir(t, pod, relay, string(readme))
	checkRBAC(ctx, t, c)
	checkSamples(ctx, t, c)
}

// checkDataDir: the relay's archive is a directory on the node, which the
// data-dir init container, root with CAP_CHOWN alone, gives to the relay's
// user before the relay starts.
func checkDataDir(t *testing.T, pod corev1.PodSpec, relay corev1.Container, readme string) {
	t.Helper()
	var data *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == "data" {
			data = &pod.Volumes[i]
		}
	}
	if data == nil || data.HostPath == nil || data.HostPath.Type == nil || *data.HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Fatalf("data volume %+v: want a hostPath, DirectoryOrCreate", data)
	}
	mountOf := func(c corev1.Container) string {
		for _, m := range c.VolumeMounts {
			if m.Name == "data" {
				return m.MountPath
			}
		}
		return ""
	}
	at := mountOf(relay)
	for _, f := range []string{"--events-path-prefix", "--snapshots-path-prefix"} {
		if v := flagValue(relay.Args, f); at == "" || !strings.HasPrefix(v, at+"/") {
			t.Errorf("relay %s=%s is not on the data volume (mounted at %q)", f, v, at)
		}
	}
	if len(pod.InitContainers) != 1 {
		t.Fatalf("init containers %d, want data-dir alone", len(pod.InitContainers))
	}
	init := pod.InitContainers[0]
	checkFlags(t, init, readme)
	if init.Image != relay.Image || !slices.Equal(init.Args, []string{"data-dir", "--owner=" + fmt.Sprintf("%d:%d",
		*pod.SecurityContext.RunAsUser, *pod.SecurityContext.RunAsGroup), at}) {
		t.Errorf("data-dir: image %s args %q; want the relay's image giving %s to the pod's user", init.Image, init.Args, at)
	}
	if mountOf(init) != at {
		t.Errorf("data-dir mounts the data at %q, the relay at %q", mountOf(init), at)
	}
	sc := init.SecurityContext
	switch {
	case sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 0:
		t.Errorf("data-dir securityContext %+v: want root", sc)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("data-dir: want a read-only root and no privilege escalation")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"CHOWN"}):
		t.Errorf("data-dir capabilities %+v: want all dropped but CHOWN", sc.Capabilities)
	}
}

// checkSamples applies config/samples, status included, and reads them back:
// a field the CRD schema does not know would be pruned, a wrong type or an
// invalid value refused, so the examples stay true to the API.
func checkSamples(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	for _, u := range renderKustomization(t, filepath.Join("..", "config", "samples")) {
		status := u.Object["status"]
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("deploy-test")); err != nil {
			t.Fatalf("apply sample %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(u.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, got); err != nil {
			t.Fatal(err)
		}
		want, _ := yaml.Marshal(status)
		have, _ := yaml.Marshal(got.Object["status"])
		if !bytes.Equal(want, have) {
			t.Errorf("sample %s %s: the API server kept a different status:\n%s\nwant:\n%s", u.GetKind(), u.GetName(), have, want)
		}
	}
}

// checkLockedDown asserts a container's security context and resources.
func checkLockedDown(t *testing.T, ctr corev1.Container) {
	t.Helper()
	sc := ctr.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("container %s: no securityContext", ctr.Name)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("container %s: root file system not read-only", ctr.Name)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("container %s: privilege escalation allowed", ctr.Name)
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("container %s: capabilities %+v, want all dropped", ctr.Name, sc.Capabilities)
	}
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
		t.Errorf("container %s: resources %+v: want CPU and memory requests and a memory limit", ctr.Name, ctr.Resources)
	}
	if ctr.LivenessProbe == nil || ctr.ReadinessProbe == nil {
		t.Errorf("container %s: want liveness and readiness probes", ctr.Name)
	}
}

// checkFlags parses a container's arguments with the binary's own command
// tree, so a renamed or mistyped flag fails here rather than in a crash
// loop, and checks that the README documents each flag.
func checkFlags(t *testing.T, ctr corev1.Container, readme string) {
	t.Helper()
	if len(ctr.Command) > 0 || len(ctr.Args) == 0 {
		t.Errorf("container %s: command %q args %q: want the image's entrypoint with a subcommand", ctr.Name, ctr.Command, ctr.Args)
		return
	}
	root := newRootCommand(&bytes.Buffer{}, &bytes.Buffer{})
	cmd, rest, err := root.Find(ctr.Args)
	if err != nil || cmd == root {
		t.Errorf("container %s: args %q: no such subcommand (%v)", ctr.Name, ctr.Args, err)
		return
	}
	if cmd.Name() == "agent" {
		// `agent` hands its flags to ospf-operator-agent unparsed.
		cmd = agentcmd.NewCommand("dev")
		cli.Setup(cmd, &bytes.Buffer{}, &bytes.Buffer{})
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("container %s: %s rejects its flags %q: %v", ctr.Name, cmd.Name(), rest, err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("container %s: arguments %q: %v", ctr.Name, cmd.Flags().Args(), err)
	}
	for _, arg := range rest {
		name, _, _ := strings.Cut(arg, "=")
		if strings.HasPrefix(name, "--") && !strings.Contains(readme, name) {
			t.Errorf("container %s: flag %s is not documented in README.md", ctr.Name, name)
		}
	}
}

// checkRBAC asks the API server what the agent's service account may do:
// everything the agent needs, and nothing cluster-wide it does not use.
func checkRBAC(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	user := "system:serviceaccount:" + deployNamespace + ":" + deployServiceAccount
	cases := []struct {
		attrs authzv1.ResourceAttributes
		want  bool
	}{
		{authzv1.ResourceAttributes{Group: "ospf.ospf-operator.io", Resource: "ospfrouters", Verb: "list"}, true},
		{authzv1.ResourceAttributes{Group: "ospf.ospf-operator.io", Resource: "ospfrouters", Verb: "delete"}, true},
		{authzv1.ResourceAttributes{Group: "ospf.ospf-operator.io", Resource: "ospfnetworks", Verb: "patch"}, true},
		{authzv1.ResourceAttributes{Group: "ospf.ospf-operator.io", Resource: "ospfrouters", Verb: "patch"}, true},
		// No status subresource: status is applied with the object.
		{authzv1.ResourceAttributes{Group: "ospf.ospf-operator.io", Resource: "ospfrouters", Subresource: "status", Verb: "patch"}, false},
		{authzv1.ResourceAttributes{Namespace: deployNamespace, Resource: "configmaps", Name: "ospf-lsdb", Verb: "patch"}, true},
		{authzv1.ResourceAttributes{Namespace: deployNamespace, Group: "events.k8s.io", Resource: "events", Verb: "create"}, true},
		{authzv1.ResourceAttributes{Namespace: deployNamespace, Group: "coordination.k8s.io", Resource: "leases", Verb: "update"}, true},
		// Nothing beyond its namespace and its own kinds.
		{authzv1.ResourceAttributes{Namespace: "default", Resource: "configmaps", Name: "ospf-lsdb", Verb: "patch"}, false},
		{authzv1.ResourceAttributes{Namespace: deployNamespace, Resource: "configmaps", Name: "other", Verb: "patch"}, false},
		{authzv1.ResourceAttributes{Namespace: "kube-system", Group: "coordination.k8s.io", Resource: "leases", Verb: "update"}, false},
		{authzv1.ResourceAttributes{Namespace: deployNamespace, Resource: "secrets", Verb: "get"}, false},
		{authzv1.ResourceAttributes{Resource: "nodes", Verb: "list"}, false},
		{authzv1.ResourceAttributes{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Verb: "create"}, false},
	}
	for _, tc := range cases {
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User:               user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + deployNamespace, "system:authenticated"},
			ResourceAttributes: &tc.attrs,
		}}
		if err := c.Create(ctx, sar); err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		if sar.Status.Allowed != tc.want {
			t.Errorf("%s may %s %+v: %v, want %v (%s)", deployServiceAccount, tc.attrs.Verb, tc.attrs, sar.Status.Allowed, tc.want, sar.Status.Reason)
		}
	}
}

// flagValue returns the value of --name=value in args ("" when absent).
func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// portOf resolves a probe's named port to the container port number.
func portOf(ctr corev1.Container, port string) string {
	for _, p := range ctr.Ports {
		if p.Name == port {
			return fmt.Sprint(p.ContainerPort)
		}
	}
	return port
}

// TestStreamSecurityComponents: the relay that config/default with the
// stream-tls and stream-token components runs (test/helm checks that it
// is the chart's with the same Secrets) takes its flags, which the README
// documents, and reads them from the Secrets' mounts.
func TestStreamSecurityComponents(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range renderKustomization(t, filepath.Join("..", "test", "helm", "testdata", "secure-stream")) {
		if u.GetKind() != "DaemonSet" {
			continue
		}
		var ds appsv1.DaemonSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ds); err != nil {
			t.Fatal(err)
		}
		pod := ds.Spec.Template.Spec
		for _, ctr := range pod.Containers {
			checkFlags(t, ctr, string(readme))
			if ctr.Name != "relay" {
				continue
			}
			mounts := map[string]string{}
			for _, m := range ctr.VolumeMounts {
				mounts[m.Name] = m.MountPath
			}
			secrets := map[string]string{}
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					secrets[v.Name] = v.Secret.SecretName
				}
			}
			for flag, vol := range map[string]string{"--tls-cert-file": "tls", "--tls-key-file": "tls", "--bearer-token-file": "token"} {
				if got := flagValue(ctr.Args, flag); mounts[vol] == "" || !strings.HasPrefix(got, mounts[vol]+"/") || secrets[vol] == "" {
					t.Errorf("relay %s=%q: want a file of the %s volume (mounted at %q, Secret %q)", flag, got, vol, mounts[vol], secrets[vol])
				}
			}
			if ctr.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS || ctr.LivenessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("relay probes %s, %s: want HTTPS", ctr.ReadinessProbe.HTTPGet.Scheme, ctr.LivenessProbe.HTTPGet.Scheme)
			}
			return
		}
	}
	t.Fatal("no relay in the rendered DaemonSet")
}
