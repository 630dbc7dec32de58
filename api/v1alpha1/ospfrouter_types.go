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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionReachable is the condition type that says whether the shortest-path
// computation rooted at the agent's own router reaches this router.
const ConditionReachable = "Reachable"

// Reasons of the Reachable condition.
const (
	// ReasonPathFound: the router is reachable; status.pathCost is the cost
	// of the shortest path (0 for the agent's own router). Status True.
	ReasonPathFound = "PathFound"
	// ReasonNoPath: the LSDB holds the router but no path leads to it, for
	// example because no neighbour reports the link back. Status False.
	ReasonNoPath = "NoPath"
	// ReasonRootUnknown: the agent's own router is not in the LSDB (yet), so
	// no shortest path can be computed. Status Unknown.
	ReasonRootUnknown = "RootUnknown"
)

// MaxInlineExternals is the most external routes an OSPFRouter's status may
// list. The agent's inline cap (default 1,000) must not exceed it. At about
// 100 bytes per route it keeps an object far below etcd's 1.5 MiB limit.
const MaxInlineExternals = 10000

// Link is one link of a router's Router-LSA, or one summary route it
// originates into an area, as the LSDB snapshot lists it.
type Link struct {
	// ID is the far end: a router ID for router and xrouter links, a prefix
	// (a.b.c.d/len) for network, stubnet and xnetwork links.
	// +kubebuilder:validation:MinLength=7
	// +kubebuilder:validation:MaxLength=18
	// +required
	ID string `json:"id"`

	// Metric is the link's cost.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16777215
	// +required
	Metric int32 `json:"metric"`
}

// RouterLinks are a router's links in one area, by kind, with the names of the
// LSDB snapshot. A kind without links is omitted.
type RouterLinks struct {
	// Router are point-to-point and virtual links, to a router ID.
	// +listType=atomic
	// +optional
	Router []Link `json:"router,omitempty"`

	// Network are links to transit networks, by prefix.
	// +listType=atomic
	// +optional
	Network []Link `json:"network,omitempty"`

	// Stubnet are stub networks, by prefix.
	// +listType=atomic
	// +optional
	Stubnet []Link `json:"stubnet,omitempty"`

	// XNetwork are the summary routes (type-3 LSAs) this ABR originates into
	// the area, by prefix.
	// +listType=atomic
	// +optional
	XNetwork []Link `json:"xnetwork,omitempty"`

	// XRouter are the ASBR-summary routes (type-4 LSAs) this ABR originates
	// into the area, to an ASBR's router ID.
	// +listType=atomic
	// +optional
	XRouter []Link `json:"xrouter,omitempty"`
}

// RouterFlags are the bits of a router's Router-LSA in one area.
type RouterFlags struct {
	// ABR is set when the router is an area border router (bit B).
	// +optional
	ABR bool `json:"abr,omitempty"`

	// ASBR is set when the router is an AS boundary router (bit E).
	// +optional
	ASBR bool `json:"asbr,omitempty"`

	// VirtualLink is set when the router is the endpoint of a fully adjacent
	// virtual link through this area (bit V).
	// +optional
	VirtualLink bool `json:"virtualLink,omitempty"`
}

// RouterArea is what a router's Router-LSA and the summary LSAs it
// originates say in one area.
type RouterArea struct {
	// Area is the area ID in dotted-quad form.
	// +kubebuilder:validation:Format=ipv4
	// +kubebuilder:validation:MaxLength=15
	// +required
	Area string `json:"area"`

	// Flags are the router's flags in this area.
	// +optional
	Flags RouterFlags `json:"flags,omitzero"`

	// Links are the router's links in this area.
	// +optional
	Links RouterLinks `json:"links,omitzero"`
}

// ExternalRoute is an AS-external (type-5) or NSSA (type-7) route the router
// originates.
// +kubebuilder:validation:XValidation:rule="has(self.metric) != has(self.metric2)",message="exactly one of metric and metric2 is set"
type ExternalRoute struct {
	// Prefix is the destination, a.b.c.d/len.
	// +kubebuilder:validation:Format=cidr
	// +kubebuilder:validation:MaxLength=18
	// +required
	Prefix string `json:"prefix"`

	// Metric is the cost of a type-1 external route.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16777215
	// +optional
	Metric *int32 `json:"metric,omitempty"`

	// Metric2 is the cost of a type-2 external route.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16777215
	// +optional
	Metric2 *int32 `json:"metric2,omitempty"`

	// ForwardingAddress is where traffic to Prefix goes, when not the
	// originating router itself (the LSA's non-zero forwarding address).
	// +kubebuilder:validation:Format=ipv4
	// +kubebuilder:validation:MaxLength=15
	// +optional
	ForwardingAddress string `json:"forwardingAddress,omitempty"`

	// Tag is the route's 32-bit external route tag, when not zero.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +optional
	Tag int64 `json:"tag,omitempty"`

	// Area is the NSSA a type-7 route is originated into; empty for an
	// AS-external route, which is not bound to an area.
	// +kubebuilder:validation:Format=ipv4
	// +kubebuilder:validation:MaxLength=15
	// +optional
	Area string `json:"area,omitempty"`
}

// RouterSummary holds the figures of a router over all its areas; the
// printer columns show them.
type RouterSummary struct {
	// Areas are the IDs of the areas the router is in, comma-separated in
	// numeric order.
	// +optional
	Areas string `json:"areas,omitempty"`

	// Flags names the flags the router has in any area, comma-separated in
	// the order ABR, ASBR, VL; empty when none.
	// +optional
	Flags string `json:"flags,omitempty"`
	// Tags are the distinct non-zero route tags of the external and NSSA
	// routes it originates, comma-separated in numeric order: at most 8,
	// then "...".
	// +kubebuilder:validation:MaxLength=100
	// +optional
	Tags string `json:"tags,omitempty"`

	// Neighbors is the number of distinct routers at the far end of its
	// router links.
	// +kubebuilder:validation:Minimum=0
	// +required
	Neighbors int32 `json:"neighbors"`

	// Networks is the number of its links to transit networks.
	// +kubebuilder:validation:Minimum=0
	// +required
	Networks int32 `json:"networks"`

	// Stubnets is the number of its stub networks.
	// +kubebuilder:validation:Minimum=0
	// +required
	Stubnets int32 `json:"stubnets"`

	// Externals is the number of external and NSSA routes it originates,
	// including those beyond the inline cap.
	// +kubebuilder:validation:Minimum=0
	// +required
	Externals int32 `json:"externals"`
}

// OSPFRouterStatus is a router as the OSPF link-state database shows it.
// Nothing here changes without a change of topology: LS age, sequence
// numbers and checksums are deliberately absent.
type OSPFRouterStatus struct {
	// Areas are the router's flags and links in each area it is in.
	// +listType=map
	// +listMapKey=area
	// +optional
	Areas []RouterArea `json:"areas,omitempty"`

	// Externals are the external and NSSA routes the router originates, in
	// numeric order of prefix, cut at the agent's inline cap: the LSDB
	// snapshot ConfigMap and the stream hold all of them.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10000
	// +optional
	Externals []ExternalRoute `json:"externals,omitempty"`

	// ExternalsTruncated is set when Externals lists fewer routes than
	// Summary.Externals counts.
	// +optional
	ExternalsTruncated bool `json:"externalsTruncated,omitempty"`

	// Summary holds the router's figures over all its areas.
	// +optional
	Summary RouterSummary `json:"summary,omitzero"`

	// PathCost is the cost of the shortest path from the agent's own router,
	// set while the Reachable condition is True.
	// +kubebuilder:validation:Minimum=0
	// +optional
	PathCost *int64 `json:"pathCost,omitempty"`

	// LastChange is when the content of this status last changed.
	// +optional
	LastChange *metav1.Time `json:"lastChange,omitempty"`

	// Conditions hold the Reachable condition.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=ospfrouters,scope=Cluster,categories=ospf,shortName=ospfr
// +kubebuilder:printcolumn:name="Areas",type=string,JSONPath=`.status.summary.areas`
// +kubebuilder:printcolumn:name="Neighbors",type=integer,JSONPath=`.status.summary.neighbors`
// +kubebuilder:printcolumn:name="Networks",type=integer,JSONPath=`.status.summary.networks`,priority=1
// +kubebuilder:printcolumn:name="Stubnets",type=integer,JSONPath=`.status.summary.stubnets`
// +kubebuilder:printcolumn:name="Externals",type=integer,JSONPath=`.status.summary.externals`
// +kubebuilder:printcolumn:name="Flags",type=string,JSONPath=`.status.summary.flags`,description="ABR, ASBR, VL (virtual-link endpoint)"
// +kubebuilder:printcolumn:name="Tags",type=string,JSONPath=`.status.summary.tags`,priority=1,description="Route tags of its external routes"
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="Reachable")].status`
// +kubebuilder:printcolumn:name="Cost",type=integer,JSONPath=`.status.pathCost`
// +kubebuilder:printcolumn:name="Changed",type=date,JSONPath=`.status.lastChange`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// OSPFRouter is a router of the OSPF network, named by its router ID
// (10.69.5.52). It has no spec: the agent writes its status from the LSDB.
type OSPFRouter struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// status is the router as the LSDB shows it.
	// +optional
	Status OSPFRouterStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// OSPFRouterList contains a list of OSPFRouter.
type OSPFRouterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []OSPFRouter `json:"items"`
}

func init() {
	register(&OSPFRouter{}, &OSPFRouterList{})
}
