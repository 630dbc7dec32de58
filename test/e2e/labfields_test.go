//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// wantLabFields returns, per OSPFRouter, the flags of each area and the
// tags of the externals the lab's routers must show, and the DR and DR
// interface address of the LAN's OSPFNetwork. The route-map of r4 and r5
// tags their routes with frrlab.RouteTag; r3 and r5 have a virtual link
// through area 0.0.0.1, which makes r5 an ABR in the backbone and sets
// bit V in both ends' Router-LSAs in area 0.0.0.1, which only an agent
// following a router of that area (r3, r5) sees.
func wantLabFields(seesArea1 bool) (routers map[string]labRouter, lan labNetwork) {
	abr := ospfv1alpha1.RouterFlags{ABR: true}
	asbr := ospfv1alpha1.RouterFlags{ASBR: true}
	abrASBR := ospfv1alpha1.RouterFlags{ABR: true, ASBR: true}
	tag := fmt.Sprint(frrlab.RouteTag)
	routers = map[string]labRouter{
		"10.0.0.1": {Flags: []ospfv1alpha1.RouterFlags{{}}},
		"10.0.0.2": {Flags: []ospfv1alpha1.RouterFlags{{}}},
		"10.0.0.3": {Flags: []ospfv1alpha1.RouterFlags{abr}, Summary: "ABR"},
		"10.0.0.4": {Flags: []ospfv1alpha1.RouterFlags{asbr}, Summary: "ASBR", Tags: tag, Externals: 3},
		"10.0.0.5": {Flags: []ospfv1alpha1.RouterFlags{abrASBR}, Summary: "ABR,ASBR", Tags: tag, Externals: 1,
			BackboneLinks: []string{"10.0.0.3"}},
	}
	if seesArea1 {
		vl := func(f ospfv1alpha1.RouterFlags) ospfv1alpha1.RouterFlags { f.VirtualLink = true; return f }
		r3, r5 := routers["10.0.0.3"], routers["10.0.0.5"]
		r3.Flags, r3.Summary = append(r3.Flags, vl(abr)), "ABR,VL"
		r5.Flags, r5.Summary = append(r5.Flags, vl(abrASBR)), "ABR,ASBR,VL"
		routers["10.0.0.3"], routers["10.0.0.5"] = r3, r5
	}
	return routers, labNetwork{Name: "10.1.100.0-24", DR: "10.0.0.3", DRAddress: "10.1.100.3"}
}

// labRouter is what an OSPFRouter of the lab must show.
type labRouter struct {
	Flags     []ospfv1alpha1.RouterFlags // by area, in the object's order
	Summary   string                     // the Flags column
	Tags      string                     // the Tags column: every external's tag
	Externals int
	// BackboneLinks are its router links in the backbone, when checked
	// (r5's only one is the virtual link).
	BackboneLinks []string
}

type labNetwork struct{ Name, DR, DRAddress string }

// labFieldsMirrored reports what the OSPFRouters and the OSPFNetwork, and
// their rows in the API server's Table (what `kubectl get -o wide` prints),
// do not show of the lab's flags, tags and DR address.
func labFieldsMirrored(ctx context.Context, c client.Client, cfg *rest.Config, seesArea1 bool) error {
	routers, lan := wantLabFields(seesArea1)
	var problems []string
	for name, want := range routers {
		var r ospfv1alpha1.OSPFRouter
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &r); err != nil {
			return err
		}
		st := r.Status
		var flags []ospfv1alpha1.RouterFlags
		for _, a := range st.Areas {
			flags = append(flags, a.Flags)
		}
		if !slices.Equal(flags, want.Flags) || st.Summary.Flags != want.Summary {
			problems = append(problems, fmt.Sprintf("%s: flags %+v (%q), want %+v (%q)", name, flags, st.Summary.Flags, want.Flags, want.Summary))
		}
		if len(st.Externals) != want.Externals || st.Summary.Tags != want.Tags {
			problems = append(problems, fmt.Sprintf("%s: %d externals, tags %q; want %d, %q", name, len(st.Externals), st.Summary.Tags, want.Externals, want.Tags))
		}
		for _, e := range st.Externals {
			if e.Tag != frrlab.RouteTag || e.Metric2 == nil || *e.Metric2 != 20 || e.ForwardingAddress != "" || e.Area != "" {
				problems = append(problems, fmt.Sprintf("%s: external %+v, want metric2 20 tag %d", name, e, frrlab.RouteTag))
			}
		}
		if want.BackboneLinks != nil {
			var links []string
			if len(st.Areas) > 0 && st.Areas[0].Area == "0.0.0.0" {
				for _, l := range st.Areas[0].Links.Router {
					links = append(links, l.ID)
				}
			}
			if !slices.Equal(links, want.BackboneLinks) {
				problems = append(problems, fmt.Sprintf("%s: backbone router links %v, want %v", name, links, want.BackboneLinks))
			}
		}
	}
	var n ospfv1alpha1.OSPFNetwork
	if err := c.Get(ctx, client.ObjectKey{Name: lan.Name}, &n); err != nil {
		return err
	}
	if n.Status.DesignatedRouter != lan.DR || n.Status.DesignatedRouterAddress != lan.DRAddress {
		problems = append(problems, fmt.Sprintf("%s: DR %q address %q, want %q %q", lan.Name, n.Status.DesignatedRouter, n.Status.DesignatedRouterAddress, lan.DR, lan.DRAddress))
	}

	// The same through the printer columns, as kubectl asks for them.
	rt, err := getTable(ctx, cfg, "ospfrouters")
	if err != nil {
		return err
	}
	for name, want := range routers {
		if got := rt.cell(name, "Flags", 0); got != want.Summary {
			problems = append(problems, fmt.Sprintf("table: %s: Flags %q, want %q", name, got, want.Summary))
		}
		if got := rt.cell(name, "Tags", 1); got != want.Tags {
			problems = append(problems, fmt.Sprintf("table: %s: Tags %q, want %q (a wide column)", name, got, want.Tags))
		}
	}
	nt, err := getTable(ctx, cfg, "ospfnetworks")
	if err != nil {
		return err
	}
	if got := nt.cell(lan.Name, "DR", 0); got != lan.DR {
		problems = append(problems, fmt.Sprintf("table: %s: DR %q, want %q", lan.Name, got, lan.DR))
	}
	if got := nt.cell(lan.Name, "DR Address", 1); got != lan.DRAddress {
		problems = append(problems, fmt.Sprintf("table: %s: DR Address %q, want %q (a wide column)", lan.Name, got, lan.DRAddress))
	}
	problems = append(problems, rt.problems...)
	problems = append(problems, nt.problems...)
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// table is a server-side Table of a resource, as kubectl gets it.
type table struct {
	metav1.Table
	problems []string
}

// getTable lists a cluster-scoped resource of the OSPF API group as the
// API server's Table, with the Accept header kubectl sends.
func getTable(ctx context.Context, cfg *rest.Config, resource string) (*table, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(cfg.Host, "/") + "/apis/" + ospfv1alpha1.GroupVersion.String() + "/" + resource + "?includeObject=None"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.300s", url, resp.Status, body)
	}
	t := &table{}
	if err := json.Unmarshal(body, &t.Table); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if t.Kind != "Table" {
		return nil, fmt.Errorf("GET %s: a %q, want a Table", url, t.Kind)
	}
	return t, nil
}

// cell returns the text of the column called col in the row of the object
// name, and notes a problem when the column is missing or has another
// priority (0: `kubectl get`, 1: only `-o wide`).
func (t *table) cell(name, col string, priority int32) string {
	ci := slices.IndexFunc(t.ColumnDefinitions, func(c metav1.TableColumnDefinition) bool { return c.Name == col })
	if ci < 0 {
		t.problems = append(t.problems, fmt.Sprintf("table: no column %q", col))
		return ""
	}
	if p := t.ColumnDefinitions[ci].Priority; p != priority {
		t.problems = append(t.problems, fmt.Sprintf("table: column %q priority %d, want %d", col, p, priority))
	}
	for _, r := range t.Rows {
		if len(r.Cells) == len(t.ColumnDefinitions) && fmt.Sprint(r.Cells[0]) == name {
			if r.Cells[ci] == nil {
				return ""
			}
			return fmt.Sprint(r.Cells[ci])
		}
	}
	t.problems = append(t.problems, fmt.Sprintf("table: no row %q", name))
	return ""
}

// restConfig reads a kubeconfig file.
func restConfig(path string) (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", path)
}
