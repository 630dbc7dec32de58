/*
Copyright 2026 The ospf-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
)

// These specs pin down the API the CRDs in config/crd/bases serve: status
// written with the object (no status subresource, so that the agent writes
// a new object once), the category, validation and the printer columns
// that `kubectl get` shows.
var _ = Describe("The OSPF API on a real API server", func() {
	// Times round-trip through the API server at a precision of a second.
	changed := metav1.NewTime(time.Date(2026, 4, 29, 12, 0, 0, 0, time.UTC))
	timeEqual := cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) })

	It("serves the core API: creates a namespace", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ospf-operator-system"}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		DeferCleanup(deleteObject, ns)

		got := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ns), got)).To(Succeed())
		Expect(got.UID).NotTo(BeEmpty())
	})

	It("stores an OSPFRouter's status with the object in one create and lists it by the ospf category", func() {
		want := routerStatus(changed)
		router := &ospfv1alpha1.OSPFRouter{
			ObjectMeta: metav1.ObjectMeta{
				Name: "10.69.5.52",
				Labels: map[string]string{
					ospfv1alpha1.LabelManagedBy:              ospfv1alpha1.ManagedBy,
					ospfv1alpha1.LabelAreaPrefix + "0.0.0.0": "",
				},
			},
			Status: want,
		}
		Expect(k8sClient.Create(ctx, router)).To(Succeed())
		DeferCleanup(deleteObject, router)
		Expect(cmp.Diff(want, router.Status, timeEqual)).To(BeEmpty(), "the create's answer keeps the status (-want +got)")

		got := &ospfv1alpha1.OSPFRouter{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(router), got)).To(Succeed())
		Expect(cmp.Diff(want, got.Status, timeEqual)).To(BeEmpty(), "status (-want +got)")

		names, err := namesInCategory("ospf")
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(HaveKeyWithValue("ospfrouters.ospf.ospf-operator.io", ContainElement("10.69.5.52")))
		Expect(names).To(HaveKey("ospfnetworks.ospf.ospf-operator.io"))

		selected := &ospfv1alpha1.OSPFRouterList{}
		Expect(k8sClient.List(ctx, selected, client.HasLabels{ospfv1alpha1.LabelAreaPrefix + "0.0.0.0"})).To(Succeed())
		Expect(selected.Items).To(ContainElement(HaveField("Name", "10.69.5.52")))
	})

	It("shows an OSPFRouter's figures in the printer columns", func() {
		router := &ospfv1alpha1.OSPFRouter{ObjectMeta: metav1.ObjectMeta{Name: "10.69.5.53"}}
		Expect(k8sClient.Create(ctx, router)).To(Succeed())
		DeferCleanup(deleteObject, router)
		router.Status = routerStatus(changed)
		Expect(k8sClient.Update(ctx, router)).To(Succeed())

		row, err := tableRow("ospfrouters", router.Name)
		Expect(err).NotTo(HaveOccurred())
		want := map[string]string{
			"Name":      "10.69.5.53",
			"Areas":     "0.0.0.0",
			"Neighbors": "2",
			"Networks":  "0",
			"Stubnets":  "1",
			"Externals": "3",
			"Flags":     "ASBR",
			"Reachable": "True",
			"Cost":      "30",
		}
		Expect(cmp.Diff(want, row)).To(BeEmpty(), "printer columns (-want +got)")
	})

	It("shows an OSPFNetwork's designated router and attached routers in the printer columns", func() {
		network := &ospfv1alpha1.OSPFNetwork{ObjectMeta: metav1.ObjectMeta{Name: "10.70.76.0-24"}}
		Expect(k8sClient.Create(ctx, network)).To(Succeed())
		DeferCleanup(deleteObject, network)
		network.Status = ospfv1alpha1.OSPFNetworkStatus{
			Prefix:                  "10.70.76.0/24",
			Area:                    "0.0.0.0",
			DesignatedRouter:        "10.69.5.52",
			DesignatedRouterAddress: "10.70.76.1",
			Routers:                 []string{"10.69.5.52", "10.69.1.1", "10.69.1.2"},
			RouterCount:             3,
			LastChange:              &changed,
		}
		Expect(k8sClient.Update(ctx, network)).To(Succeed())

		row, err := tableRow("ospfnetworks", network.Name)
		Expect(err).NotTo(HaveOccurred())
		want := map[string]string{
			"Name":       "10.70.76.0-24",
			"Prefix":     "10.70.76.0/24",
			"DR":         "10.69.5.52",
			"DR Address": "10.70.76.1",
			"Routers":    "3",
			"Area":       "0.0.0.0",
		}
		Expect(cmp.Diff(want, row)).To(BeEmpty(), "printer columns (-want +got)")
	})

	It("rejects an external route with both a type-1 and a type-2 metric", func() {
		router := &ospfv1alpha1.OSPFRouter{ObjectMeta: metav1.ObjectMeta{Name: "10.69.5.54"}}
		Expect(k8sClient.Create(ctx, router)).To(Succeed())
		DeferCleanup(deleteObject, router)

		router.Status.Externals = []ospfv1alpha1.ExternalRoute{{Prefix: "0.0.0.0/0", Metric: ptr(int32(1)), Metric2: ptr(int32(10))}}
		err := k8sClient.Update(ctx, router)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("exactly one of metric and metric2 is set"))
	})
})

// routerStatus is an ASBR in one area with two point-to-point neighbours, a
// stub network and three externals of which two are kept inline.
func routerStatus(changed metav1.Time) ospfv1alpha1.OSPFRouterStatus {
	st := ospfv1alpha1.OSPFRouterStatus{
		Areas: []ospfv1alpha1.RouterArea{{
			Area:  "0.0.0.0",
			Flags: ospfv1alpha1.RouterFlags{ASBR: true},
			Links: ospfv1alpha1.RouterLinks{
				Router:  []ospfv1alpha1.Link{{ID: "10.69.1.1", Metric: 10}, {ID: "10.69.1.2", Metric: 100}},
				Stubnet: []ospfv1alpha1.Link{{ID: "10.69.5.52/32", Metric: 1}},
			},
		}},
		Externals: []ospfv1alpha1.ExternalRoute{
			{Prefix: "0.0.0.0/0", Metric2: ptr(int32(10)), Tag: 4294967295},
			{Prefix: "199.167.59.0/24", Metric: ptr(int32(20)), ForwardingAddress: "10.70.76.9"},
		},
		ExternalsTruncated: true,
		Summary: ospfv1alpha1.RouterSummary{
			Areas: "0.0.0.0", Flags: "ASBR", Neighbors: 2, Stubnets: 1, Externals: 3,
		},
		PathCost:   ptr(int64(30)),
		LastChange: &changed,
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type:               ospfv1alpha1.ConditionReachable,
		Status:             metav1.ConditionTrue,
		Reason:             ospfv1alpha1.ReasonPathFound,
		Message:            "Shortest path from 10.69.1.1 costs 30",
		LastTransitionTime: changed,
	})
	return st
}

// namesInCategory does what `kubectl get CATEGORY` does: it finds the
// resources of the category through discovery and lists each, returning the
// object names by resource (plural.group).
func namesInCategory(category string) (map[string][]string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		return nil, err
	}
	names := map[string][]string{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, r := range l.APIResources {
			if !slices.Contains(r.Categories, category) {
				continue
			}
			objs := &unstructured.UnstructuredList{}
			objs.SetGroupVersionKind(gv.WithKind(r.Kind + "List"))
			if err := k8sClient.List(ctx, objs); err != nil {
				return nil, err
			}
			key := r.Name + "." + gv.Group
			names[key] = []string{}
			for _, o := range objs.Items {
				names[key] = append(names[key], o.GetName())
			}
		}
	}
	return names, nil
}

// tableRow asks the API server for the table `kubectl get RESOURCE -o wide`
// prints and returns the row of the object name, cells by column name. Date
// columns (Changed, Age) are left out: the server renders them relative to
// its clock.
func tableRow(resource, name string) (map[string]string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := dc.RESTClient().Get().
		AbsPath("/apis", ospfv1alpha1.GroupVersion.Group, ospfv1alpha1.GroupVersion.Version, resource, name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		return nil, err
	}
	if len(table.Rows) != 1 {
		return nil, fmt.Errorf("table of %s %s has %d rows, want 1", resource, name, len(table.Rows))
	}
	cells := table.Rows[0].Cells
	if len(cells) != len(table.ColumnDefinitions) {
		return nil, fmt.Errorf("table of %s %s: %d cells for %d columns", resource, name, len(cells), len(table.ColumnDefinitions))
	}
	row := map[string]string{}
	for i, c := range table.ColumnDefinitions {
		if c.Type != "date" && cells[i] != nil {
			row[c.Name] = fmt.Sprint(cells[i])
		}
	}
	return row, nil
}

func deleteObject(obj client.Object) {
	Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed())
}

func ptr[T any](v T) *T { return &v }
