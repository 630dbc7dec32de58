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

// Labels the agent puts on every OSPFRouter and OSPFNetwork, for selectors:
//
//	kubectl get ospfr -l area.ospf.ospf-operator.io/0.0.0.0
const (
	// LabelManagedBy is the well-known label naming the writer of an object.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy on the agent's objects.
	ManagedBy = "ospf-operator"
	// LabelAreaPrefix followed by an area ID in dotted-quad form is the key
	// of a label (value empty) the object carries for each area it is in.
	LabelAreaPrefix = "area.ospf.ospf-operator.io/"
)
