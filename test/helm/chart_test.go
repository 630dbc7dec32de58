package helm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the chart's crds/ from config/crd")

const (
	chartDir    = "../../charts/ospf-operator"
	defaultDir  = "../../config/default"
	releaseName = "ospf-operator"
	namespace   = "ospf-operator-system"
)

// helmLabels are the labels the chart adds to every object's metadata, as
// Helm charts do, and config/default does not.
var helmLabels = []string{"app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"}

// renderChart renders the chart as `helm template ospf-operator
// charts/ospf-operator -n ospf-operator-system --include-crds` does, with
// values over the chart's own, and returns the objects and the chart's
// NOTES.
func renderChart(t *testing.T, values map[string]any) (objs []*unstructured.Unstructured, crds []*unstructured.Unstructured) {
	t.Helper()
	charter, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	ch, ok := charter.(*chart.Chart)
	if !ok {
		t.Fatalf("chart is a %T, want a v2 chart", charter)
	}
	if err := ch.Validate(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	vals, err := chartutil.ToRenderValues(ch, values,
		common.ReleaseOptions{Name: releaseName, Namespace: namespace, IsInstall: true, Revision: 1},
		common.DefaultCapabilities)
	if err != nil {
		t.Fatalf("chart values: %v", err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		objs = append(objs, parseDocs(t, name, []byte(out[name]))...)
	}
	for _, f := range ch.CRDObjects() {
		crds = append(crds, parseDocs(t, f.Filename, f.File.Data)...)
	}
	return objs, crds
}

// renderKustomize builds a kustomization as `make render` does.
func renderKustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return parseDocs(t, dir, out)
}

func parseDocs(t *testing.T, source string, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for i, doc := range bytes.Split(data, []byte("\n---")) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("%s: document %d: %v", source, i, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		objs = append(objs, u)
	}
	return objs
}

func key(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
}

func byKey(objs []*unstructured.Unstructured) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, u := range objs {
		m[key(u)] = u.Object
	}
	return m
}

// TestChartRendersConfigDefault: the chart with its default values renders
// the objects config/default renders (make deploy, make build-installer),
// field for field, but for Helm's own labels and the Namespace, which Helm
// creates (helm install --create-namespace) rather than a template.
func TestChartRendersConfigDefault(t *testing.T) {
	kust := renderKustomize(t, defaultDir)
	objs, crds := renderChart(t, nil)
	want, wantCRDs := splitKustomize(t, kust)
	if diff := cmp.Diff(byKey(want), byKey(withoutHelmLabels(t, objs))); diff != "" {
		t.Errorf("the chart's default render differs from config/default's (-kustomize +chart):\n%s", diff)
	}

	if *update {
		writeCRDs(t, wantCRDs)
		return
	}
	if diff := cmp.Diff(byKey(wantCRDs), byKey(crds)); diff != "" {
		t.Errorf("charts/ospf-operator/crds differs from config/crd (-kustomize +chart); run `make chart-crds`:\n%s", diff)
	}
}

// writeCRDs writes config/default's CRDs into the chart's crds/, one file
// each, as make chart-crds does.
func writeCRDs(t *testing.T, crds []*unstructured.Unstructured) {
	t.Helper()
	dir := filepath.Join(chartDir, "crds")
	old, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range crds {
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		header := "# Generated from config/crd by `make chart-crds`; do not edit.\n"
		if err := os.WriteFile(filepath.Join(dir, u.GetName()+".yaml"), append([]byte(header), data...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChartValues: the values users set reach the objects.
// splitKustomize separates a kustomize render's CRDs from the rest, which
// the chart renders as templates, and checks its namespace.
func splitKustomize(t *testing.T, kust []*unstructured.Unstructured) (objs, crds []*unstructured.Unstructured) {
	t.Helper()
	for _, u := range kust {
		switch u.GetKind() {
		case "Namespace":
			if u.GetName() != namespace {
				t.Errorf("the kustomization renders namespace %s, the test expects %s", u.GetName(), namespace)
			}
		case "CustomResourceDefinition":
			crds = append(crds, u)
		default:
			objs = append(objs, u)
		}
	}
	return objs, crds
}

// withoutHelmLabels checks that each object has Helm's labels and removes
// them, for a comparison with kustomize's objects.
func withoutHelmLabels(t *testing.T, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	for _, u := range objs {
		labels := u.GetLabels()
		for _, l := range helmLabels {
			if _, ok := labels[l]; !ok {
				t.Errorf("%s lacks the label %s", key(u), l)
			}
			delete(labels, l)
		}
		u.SetLabels(labels)
	}
	return objs
}

// TestKustomizeComponentsMatchTheChart: config/components/stream-tls and
// stream-token make of config/default what the chart makes with the
// stream's TLS and token values, object for object.
func TestKustomizeComponentsMatchTheChart(t *testing.T) {
	want, _ := splitKustomize(t, renderKustomize(t, "testdata/secure-stream"))
	objs, _ := renderChart(t, map[string]any{"stream": map[string]any{
		"tls":         map[string]any{"secretName": "ospf-operator-stream-tls"},
		"bearerToken": map[string]any{"secretName": "ospf-operator-stream-token"},
	}})
	if diff := cmp.Diff(byKey(want), byKey(withoutHelmLabels(t, objs))); diff != "" {
		t.Errorf("config/default with the stream-tls and stream-token components differs from the chart with the stream's TLS and token (-kustomize +chart):\n%s", diff)
	}
	// And the components do change something.
	if diff := cmp.Diff(byKey(want), byKey(mustSplit(t, renderKustomize(t, defaultDir)))); diff == "" {
		t.Error("the components change nothing")
	}
}

func mustSplit(t *testing.T, kust []*unstructured.Unstructured) []*unstructured.Unstructured {
	objs, _ := splitKustomize(t, kust)
	return objs
}

func TestChartValues(t *testing.T) {
	objs, _ := renderChart(t, map[string]any{
		"image":        map[string]any{"repository": "registry.example.com/ospf-operator", "tag": "v1.2.3", "pullPolicy": "Always"},
		"ospfd":        map[string]any{"server": "10.0.0.1"},
		"ports":        map[string]any{"metrics": 19620, "stream": 19623},
		"metrics":      map[string]any{"secure": false, "service": map[string]any{"enabled": false}},
		"stream":       map[string]any{"bindAddress": "127.0.0.1", "service": map[string]any{"type": "NodePort"}},
		"nodeSelector": map[string]any{"ospf-operator.io/frr": "true"},
		"tolerations":  []any{},
		"agent":        map[string]any{"extraArgs": []any{"--holddown=5s"}, "resources": map[string]any{"limits": map[string]any{"memory": "1Gi"}}},
	})
	m := byKey(objs)
	ds, ok := m["DaemonSet "+namespace+"/ospf-operator-agent"]
	if !ok {
		t.Fatalf("no DaemonSet in %v", keys(m))
	}
	get := func(obj map[string]any, path ...string) any {
		v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
		return v
	}
	containers := get(ds, "spec", "template", "spec", "containers").([]any)
	agent, relay := containers[0].(map[string]any), containers[1].(map[string]any)
	wantAgentArgs := []any{"agent", "--server=10.0.0.1", "--leader-elect", "--ws-listen=127.0.0.1:9622",
		"--metrics-bind-address=:19620", "--metrics-secure=false", "--health-probe-bind-address=:9621", "--holddown=5s"}
	if diff := cmp.Diff(wantAgentArgs, agent["args"]); diff != "" {
		t.Errorf("agent args (-want +got):\n%s", diff)
	}
	if got := slices.Index(relay["args"].([]any), any("--ws-listen=127.0.0.1:19623")); got < 0 {
		t.Errorf("relay args %v: want --ws-listen=127.0.0.1:19623", relay["args"])
	}
	for _, c := range containers {
		c := c.(map[string]any)
		if c["image"] != "registry.example.com/ospf-operator:v1.2.3" || c["imagePullPolicy"] != "Always" {
			t.Errorf("container %s: image %v pull policy %v", c["name"], c["image"], c["imagePullPolicy"])
		}
	}
	if got := get(agent, "resources", "limits", "memory"); got != "1Gi" {
		t.Errorf("agent memory limit %v, want 1Gi", got)
	}
	// Helm merges maps of values: the default kubernetes.io/os stays unless
	// set to null.
	if diff := cmp.Diff(map[string]any{"kubernetes.io/os": "linux", "ospf-operator.io/frr": "true"}, get(ds, "spec", "template", "spec", "nodeSelector")); diff != "" {
		t.Errorf("nodeSelector (-want +got):\n%s", diff)
	}
	if got := get(ds, "spec", "template", "spec", "tolerations"); got != nil {
		t.Errorf("tolerations %v, want none", got)
	}
	if got := get(ds, "spec", "template", "metadata", "annotations", "prometheus.io/scheme"); got != nil {
		t.Errorf("prometheus.io/scheme %v with plain HTTP metrics", got)
	}
	for _, k := range []string{"Service " + namespace + "/ospf-operator-metrics", "ClusterRole /ospf-operator-metrics-reader", "ClusterRole /ospf-operator-metrics-auth-role"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s rendered with metrics.secure=false and no metrics Service", k)
		}
	}
	svc := m["Service "+namespace+"/ospf-operator-stream"]
	if get(svc, "spec", "type") != "NodePort" || fmt.Sprint(get(svc, "spec", "ports").([]any)[0].(map[string]any)["port"]) != "19623" {
		t.Errorf("stream Service spec %v", svc["spec"])
	}
}

func keys(m map[string]map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestChartStreamSecurityAndData: the stream's TLS Secret and bearer token
// reach the relay's flags, volumes and probes; the default archive is a
// hostPath with the data-dir init container, and another volume source
// replaces both.
func TestChartStreamSecurityAndData(t *testing.T) {
	get := func(obj map[string]any, path ...string) any {
		v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
		return v
	}
	podOf := func(values map[string]any) map[string]any {
		t.Helper()
		objs, _ := renderChart(t, values)
		ds, ok := byKey(objs)["DaemonSet "+namespace+"/ospf-operator-agent"]
		if !ok {
			t.Fatal("no DaemonSet")
		}
		return get(ds, "spec", "template", "spec").(map[string]any)
	}
	container := func(pod map[string]any, name string) map[string]any {
		for _, c := range pod["containers"].([]any) {
			if c := c.(map[string]any); c["name"] == name {
				return c
			}
		}
		t.Fatalf("no container %s", name)
		return nil
	}
	volume := func(pod map[string]any, name string) map[string]any {
		for _, v := range pod["volumes"].([]any) {
			if v := v.(map[string]any); v["name"] == name {
				return v
			}
		}
		return nil
	}
	mounts := func(c map[string]any) map[string]string {
		m := map[string]string{}
		vm, _ := c["volumeMounts"].([]any)
		for _, v := range vm {
			v := v.(map[string]any)
			m[v["name"].(string)] = v["mountPath"].(string)
		}
		return m
	}

	// Defaults: open, plain, a hostPath given to the relay's user.
	pod := podOf(nil)
	relay := container(pod, "relay")
	for _, a := range relay["args"].([]any) {
		if s := a.(string); strings.HasPrefix(s, "--tls-") || strings.HasPrefix(s, "--bearer-token-file") {
			t.Errorf("default relay arg %s", s)
		}
	}
	if got := get(relay, "readinessProbe", "httpGet", "scheme"); got != nil {
		t.Errorf("default readiness probe scheme %v", got)
	}
	if diff := cmp.Diff(map[string]any{"name": "data", "hostPath": map[string]any{"path": "/var/lib/ospf-operator", "type": "DirectoryOrCreate"}}, volume(pod, "data")); diff != "" {
		t.Errorf("default data volume (-want +got):\n%s", diff)
	}
	inits, _ := pod["initContainers"].([]any)
	if len(inits) != 1 {
		t.Fatalf("init containers %v, want data-dir", inits)
	}
	init := inits[0].(map[string]any)
	if diff := cmp.Diff([]any{"data-dir", "--owner=65532:65532", "/data"}, init["args"]); diff != "" {
		t.Errorf("data-dir args (-want +got):\n%s", diff)
	}
	if mounts(init)["data"] != mounts(relay)["data"] {
		t.Errorf("data-dir mounts the data at %q, the relay at %q", mounts(init)["data"], mounts(relay)["data"])
	}
	if diff := cmp.Diff(map[string]any{"drop": []any{"ALL"}, "add": []any{"CHOWN"}}, get(init, "securityContext", "capabilities")); diff != "" {
		t.Errorf("data-dir capabilities (-want +got):\n%s", diff)
	}

	// TLS, a token, and an emptyDir.
	pod = podOf(map[string]any{
		"stream": map[string]any{
			"tls":         map[string]any{"secretName": "relay-tls"},
			"bearerToken": map[string]any{"secretName": "relay-token", "key": "tok"},
		},
		"relay": map[string]any{"data": map[string]any{"hostPath": nil, "emptyDir": map[string]any{"sizeLimit": "1Gi"}}},
	})
	relay = container(pod, "relay")
	args := relay["args"].([]any)
	for _, want := range []string{"--tls-cert-file=/etc/ospf-operator/tls/tls.crt", "--tls-key-file=/etc/ospf-operator/tls/tls.key",
		"--bearer-token-file=/etc/ospf-operator/token/tok"} {
		if !slices.Contains(args, any(want)) {
			t.Errorf("relay args %v lack %s", args, want)
		}
	}
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		if got := get(relay, probe, "httpGet", "scheme"); got != "HTTPS" {
			t.Errorf("relay %s scheme %v, want HTTPS", probe, got)
		}
	}
	if diff := cmp.Diff(map[string]string{"data": "/data", "tls": "/etc/ospf-operator/tls", "token": "/etc/ospf-operator/token"}, mounts(relay)); diff != "" {
		t.Errorf("relay mounts (-want +got):\n%s", diff)
	}
	if got := get(volume(pod, "tls"), "secret", "secretName"); got != "relay-tls" {
		t.Errorf("tls volume's Secret %v", got)
	}
	if got := get(volume(pod, "token"), "secret", "secretName"); got != "relay-token" {
		t.Errorf("token volume's Secret %v", got)
	}
	if diff := cmp.Diff(map[string]any{"name": "data", "emptyDir": map[string]any{"sizeLimit": "1Gi"}}, volume(pod, "data")); diff != "" {
		t.Errorf("data volume with an emptyDir (-want +got):\n%s", diff)
	}
	if inits, ok := pod["initContainers"]; ok {
		t.Errorf("init containers %v with an emptyDir", inits)
	}
	if _, ok := mounts(container(pod, "agent"))["token"]; ok {
		t.Error("the agent mounts the stream's token")
	}
}
