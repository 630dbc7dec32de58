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

// Package v1alpha1 contains the API types of the ospf.ospf-operator.io group:
// OSPFRouter and OSPFNetwork, cluster-scoped objects that mirror the routers
// and transit networks of an OSPF link-state database. They hold observed
// state only, in .status; nothing in them is a request to change the network.
// The package imports k8s.io/apimachinery only (not controller-runtime), so
// that programs reacting to the topology can use the types cheaply.
// +kubebuilder:object:generate=true
// +groupName=ospf.ospf-operator.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "ospf.ospf-operator.io", Version: "v1alpha1"}

	// SchemeBuilder collects the functions that add this group-version's
	// types to a scheme; each *_types.go file registers its kinds.
	SchemeBuilder = runtime.NewSchemeBuilder(func(s *runtime.Scheme) error {
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// register adds object kinds of this group-version to SchemeBuilder.
func register(objects ...runtime.Object) {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objects...)
		return nil
	})
}
