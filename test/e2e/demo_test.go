//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/onsi/gomega"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/buildtest"
	"github.com/ospf-operator/ospf-operator/internal/demo"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// TestDemo runs what `make demo` runs, against the real binary, and checks
// what its instructions promise: the routers in `kubectl get ospf`, the
// snapshot ConfigMap, the live page, and a vtysh change followed into the
// resources, an Event and the archive. Then it checks the cleanup.
func TestDemo(t *testing.T) {
	bin, assets := requireDemoMachine(t)
	dir := t.TempDir()
	var out strings.Builder
	const prefix = "oodemotest"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	readyCalled := false
	err := demo.Run(ctx, demo.Options{
		Binary:     bin,
		Assets:     assets,
		Manifest:   filepath.Join("..", "..", "config", "manager", "daemonset.yaml"),
		CRDs:       filepath.Join("..", "..", "config", "crd", "bases"),
		Dir:        dir,
		Prefix:     prefix,
		PortOffset: 100,
		Out:        &out,
		Ready: func(ctx context.Context, info *demo.Info) error {
			readyCalled = true
			checkMirrored(ctx, t, info)
			cancel() // the demo's Ctrl-C
			return nil
		},
	})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo: %v\nagent log:\n%s\nrelay log:\n%s", err, demo.Tail(filepath.Join(dir, "agent.log"), 40), demo.Tail(filepath.Join(dir, "relay.log"), 40))
	}
	if !readyCalled {
		t.Fatal("the demo ended without becoming ready")
	}
	if t.Failed() {
		t.Logf("agent log:\n%s\nrelay log:\n%s", demo.Tail(filepath.Join(dir, "agent.log"), 40), demo.Tail(filepath.Join(dir, "relay.log"), 40))
	}
	for _, want := range []string{"kubectl get ospf", "export KUBECONFIG=", "vtysh --vty_socket", "Live page:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's instructions lack %q", want)
		}
	}
	// Cleanup: no namespace of the lab and no host link remain.
	nsList, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(nsList), prefix+"-") {
		t.Errorf("namespaces left after the demo:\n%s", nsList)
	}
	if err := exec.Command("ip", "link", "show", prefix+"-host").Run(); err == nil {
		t.Errorf("host link %s-host left after the demo", prefix)
	}
}

func checkMirrored(ctx context.Context, t *testing.T, info *demo.Info) {
	t.Helper()
	c := info.Client
	var routers ospfv1alpha1.OSPFRouterList
	if err := c.List(ctx, &routers); err != nil {
		t.Fatal(err)
	}
	var names, want []string
	for _, r := range routers.Items {
		names = append(names, r.Name)
	}
	for _, r := range info.Lab.Routers() {
		want = append(want, r.ID.String())
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("OSPFRouters %v, want the lab's routers %v", names, want)
	}
	var nets ospfv1alpha1.OSPFNetworkList
	if err := c.List(ctx, &nets); err != nil {
		t.Fatal(err)
	}
	if len(nets.Items) != 1 {
		t.Errorf("%d OSPFNetworks, want the lab's one LAN", len(nets.Items))
	}
	// The agent follows r3, which is in both areas: it sees every flag.
	cfg, err := restConfig(info.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the lab's flags, route tags and DR address in the objects and their Table", func() error {
		return labFieldsMirrored(ctx, c, cfg, true)
	})
	waitFor(ctx, t, "the ospf-lsdb ConfigMap", func() error {
		var cm corev1.ConfigMap
		return c.Get(ctx, client.ObjectKey{Namespace: demo.Namespace, Name: "ospf-lsdb"}, &cm)
	})

	resp, err := http.Get(info.StreamURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("live page %s: %s %s", info.StreamURL, resp.Status, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(strings.ToLower(string(page)), "<html") || !strings.Contains(string(page), "OSPF live map") {
		t.Errorf("live page %s is not the map: %.200s", info.StreamURL, page)
	}
	// The relay places every lab router on the map.
	waitFor(ctx, t, "every router on the relay's map", func() error {
		resp, err := http.Get(strings.TrimSuffix(info.StreamURL, "/") + "/v1/layout")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var lay struct {
			Nodes map[string][2]float64 `json:"nodes"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&lay); err != nil {
			return fmt.Errorf("%s: %w", resp.Status, err)
		}
		for _, r := range info.Lab.Routers() {
			if _, ok := lay.Nodes[r.ID.String()]; !ok {
				return fmt.Errorf("%s is not on the map: %v", r.ID, lay.Nodes)
			}
		}
		return nil
	})

	// The change the instructions suggest: r2's link to r3 costs 50.
	r2, _ := info.Lab.Router("r2")
	r3, _ := info.Lab.Router("r3")
	since := time.Now().Add(-time.Second)
	if err := info.Lab.Configure("r2", "interface eth-r3", "ip ospf cost 50"); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "r2's link to r3 at cost 50 in its OSPFRouter", func() error {
		var r ospfv1alpha1.OSPFRouter
		if err := c.Get(ctx, client.ObjectKey{Name: r2.ID.String()}, &r); err != nil {
			return err
		}
		for _, a := range r.Status.Areas {
			for _, l := range a.Links.Router {
				if l.ID == r3.ID.String() && l.Metric == 50 {
					return nil
				}
			}
		}
		return fmt.Errorf("status %+v", r.Status.Areas)
	})
	waitFor(ctx, t, "an Event on r2's OSPFRouter", func() error {
		var evs eventsv1.EventList
		if err := c.List(ctx, &evs); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == r2.ID.String() && e.CreationTimestamp.After(since) {
				return nil
			}
		}
		return fmt.Errorf("%d events, none on %s since the change", len(evs.Items), r2.ID)
	})
	waitFor(ctx, t, "the change in the relay's hourly archive", func() error {
		files, _ := filepath.Glob(filepath.Join(info.Dir, "data", "events", "*", "*", "*", "*.jsonl"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err == nil && strings.Contains(string(data), r2.ID.String()) && strings.Contains(string(data), `"metric": 50`) {
				return nil
			}
		}
		return fmt.Errorf("archive files %v hold no event of r2's cost 50", files)
	})
}

// requireDemoMachine skips the test when this machine cannot run the
// demo (no root, FRR or envtest binaries), or fails it under CI=true; it
// returns the freshly built binary and the envtest assets directory.
func requireDemoMachine(t *testing.T) (bin, assets string) {
	t.Helper()
	if err := frrlab.Check(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: the demo must run)", err)
		}
		t.Skip(err)
	}
	assets = os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("..", "..", "bin", "k8s", "1.37.2")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("envtest binaries missing: %v", err)
		}
		t.Skip(err)
	}
	return buildtest.Binaries(t), assets
}

// waitFor waits until check succeeds, for at most 60 s.
func waitFor(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	gomega.NewWithT(t).Eventually(ctx, check).WithTimeout(60*time.Second).WithPolling(200*time.Millisecond).
		Should(gomega.Succeed(), "waiting for %s", what)
}
