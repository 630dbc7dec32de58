package controller

import (
	"maps"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
)

// The cluster is compared with the LSDB by content: two objects are the
// same when the labels the agent owns and the statuses are semantically
// equal. Resource versions, managed fields and timestamps the agent
// carries over never make a difference.

// routerContentEqual reports whether two router statuses say the same about
// the LSDB: everything but LastChange, PathCost and the conditions, which
// describe the path from the agent rather than the router.
func routerContentEqual(a, b *ospfv1alpha1.OSPFRouterStatus) bool {
	x, y := *a, *b
	x.LastChange, y.LastChange = nil, nil
	x.PathCost, y.PathCost = nil, nil
	x.Conditions, y.Conditions = nil, nil
	return equality.Semantic.DeepEqual(x, y)
}

// networkContentEqual reports whether two network statuses are the same
// but for LastChange.
func networkContentEqual(a, b *ospfv1alpha1.OSPFNetworkStatus) bool {
	x, y := *a, *b
	x.LastChange, y.LastChange = nil, nil
	return equality.Semantic.DeepEqual(x, y)
}

// finishRouter fills in the times of a desired router status from the
// object the cluster holds (nil when none): LastChange stays while the
// content is the same, else it is changed; a condition keeps its
// LastTransitionTime while its status is the same, else it is now. Times
// are cut to the second, the precision the API server stores.
func finishRouter(want, have *ospfv1alpha1.OSPFRouter, changed, now time.Time) {
	var prev []metav1.Condition
	if have != nil {
		prev = have.Status.Conditions
		if have.Status.LastChange != nil && routerContentEqual(&want.Status, &have.Status) {
			changed = have.Status.LastChange.Time
		}
	}
	want.Status.LastChange = ptrTo(metav1.NewTime(changed.Truncate(time.Second)))
	for i := range want.Status.Conditions {
		c := &want.Status.Conditions[i]
		c.LastTransitionTime = metav1.NewTime(now.Truncate(time.Second))
		if old := meta.FindStatusCondition(prev, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
	}
}

// finishNetwork fills in LastChange as finishRouter does.
func finishNetwork(want, have *ospfv1alpha1.OSPFNetwork, changed time.Time) {
	if have != nil && have.Status.LastChange != nil && networkContentEqual(&want.Status, &have.Status) {
		changed = have.Status.LastChange.Time
	}
	want.Status.LastChange = ptrTo(metav1.NewTime(changed.Truncate(time.Second)))
}

// ownedLabels are the labels of an object that the agent sets: managed-by
// and the area labels.
func ownedLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		if k == ospfv1alpha1.LabelManagedBy || strings.HasPrefix(k, ospfv1alpha1.LabelAreaPrefix) {
			out[k] = v
		}
	}
	return out
}

// labelsEqual reports whether an object in the cluster carries exactly the
// labels the agent wants to own.
func labelsEqual(want, have map[string]string) bool {
	return maps.Equal(ownedLabels(want), ownedLabels(have))
}

func ptrTo[T any](v T) *T { return &v }
