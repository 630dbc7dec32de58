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

// OSPFNetworkStatus is a transit network as its Network-LSA shows it. Nothing
// here changes without a change of topology: LS age, sequence numbers and
// checksums are deliberately absent.
type OSPFNetworkStatus struct {
	// Prefix is the network's prefix, a.b.c.d/len.
	// +kubebuilder:validation:Format=cidr
	// +kubebuilder:validation:MaxLength=18
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// Area is the ID of the area the network is in, in dotted-quad form.
	// +kubebuilder:validation:Format=ipv4
	// +kubebuilder:validation:MaxLength=15
	// +optional
	Area string `json:"area,omitempty"`

	// DesignatedRouter is the router ID of the network's designated router,
	// the originator of its Network-LSA.
	// +kubebuilder:validation:Format=ipv4
	// +kubebuilder:validation:MaxLength=15
	// +optional
	DesignatedRouter string `json:"designatedRouter,omitempty"`

	// DesignatedRouterAddress is the designated router's interface address on
	// the network (the Network-LSA's link-state ID).
	// +kubebuilder:validation:Format=ipv4
	// +kubebuilder:validation:MaxLength=15
	// +optional
	DesignatedRouterAddress string `json:"designatedRouterAddress,omitempty"`

	// Routers are the router IDs of the routers attached to the network, in
	// the order of the Network-LSA.
	// +listType=atomic
	// +kubebuilder:validation:items:Format=ipv4
	// +kubebuilder:validation:items:MaxLength=15
	// +optional
	Routers []string `json:"routers,omitempty"`

	// RouterCount is the number of attached routers, for the printer column.
	// +kubebuilder:validation:Minimum=0
	// +required
	RouterCount int32 `json:"routerCount"`

	// LastChange is when the content of this status last changed.
	// +optional
	LastChange *metav1.Time `json:"lastChange,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=ospfnetworks,scope=Cluster,categories=ospf,shortName=ospfn
// +kubebuilder:printcolumn:name="Prefix",type=string,JSONPath=`.status.prefix`
// +kubebuilder:printcolumn:name="DR",type=string,JSONPath=`.status.designatedRouter`
// +kubebuilder:printcolumn:name="DR Address",type=string,JSONPath=`.status.designatedRouterAddress`,priority=1
// +kubebuilder:printcolumn:name="Routers",type=integer,JSONPath=`.status.routerCount`
// +kubebuilder:printcolumn:name="Area",type=string,JSONPath=`.status.area`
// +kubebuilder:printcolumn:name="Changed",type=date,JSONPath=`.status.lastChange`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// OSPFNetwork is a transit (broadcast or NBMA) network of the OSPF network,
// named by its prefix with the slash as a dash (10.70.76.0-24). It has no
// spec: the agent writes its status from the LSDB.
type OSPFNetwork struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// status is the network as the LSDB shows it.
	// +optional
	Status OSPFNetworkStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// OSPFNetworkList contains a list of OSPFNetwork.
type OSPFNetworkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []OSPFNetwork `json:"items"`
}

func init() {
	register(&OSPFNetwork{}, &OSPFNetworkList{})
}
