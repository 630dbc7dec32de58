package controller

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// harness is an agentRun against the suite's API server.
type harness struct {
	*agentRun
}

// startHarness starts a fake ospfd serving lsas with router ID self, a
// mirror and an agent with opts, against the suite's API server.
func startHarness(lsas []ospfapitest.AreaLSA, self netip.Addr, opts Options) *harness {
	GinkgoHelper()
	ensureNamespace(agentNamespace)
	run, err := startAgentRun(cfg, scheme, lsas, self, opts, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return &harness{run}
}

// halt stops the agent, leaving what it made.
func (h *harness) halt() {
	GinkgoHelper()
	Expect(h.agentRun.stop()).To(Succeed())
}

// stop stops the agent, then removes what it and the specs made.
func (h *harness) stop() {
	GinkgoHelper()
	h.halt()
	removeAgentObjects()
}

func removeAgentObjects() {
	GinkgoHelper()
	Expect(k8sClient.DeleteAllOf(ctx, &ospfv1alpha1.OSPFRouter{})).To(Succeed())
	Expect(k8sClient.DeleteAllOf(ctx, &ospfv1alpha1.OSPFNetwork{})).To(Succeed())
	Expect(k8sClient.DeleteAllOf(ctx, &eventsv1.Event{}, client.InNamespace(metav1.NamespaceDefault))).To(Succeed())
	Expect(k8sClient.DeleteAllOf(ctx, &eventsv1.Event{}, client.InNamespace(agentNamespace))).To(Succeed())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: agentNamespace, Name: DefaultConfigMapName}}
	Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, cm))).To(Succeed())
}

func ensureNamespace(name string) {
	GinkgoHelper()
	err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

// versions returns the resource versions of every OSPFRouter and
// OSPFNetwork and of the snapshot ConfigMap, by kind/name.
func versions() map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	var routers ospfv1alpha1.OSPFRouterList
	Expect(k8sClient.List(ctx, &routers)).To(Succeed())
	for _, r := range routers.Items {
		out["router/"+r.Name] = r.ResourceVersion
	}
	var networks ospfv1alpha1.OSPFNetworkList
	Expect(k8sClient.List(ctx, &networks)).To(Succeed())
	for _, n := range networks.Items {
		out["network/"+n.Name] = n.ResourceVersion
	}
	cm := &corev1.ConfigMap{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: DefaultConfigMapName}, cm); err == nil {
		out["configmap"] = cm.ResourceVersion
	}
	return out
}

// eventsOn returns the Events regarding an object of kind, oldest first.
func eventsOn(kind, name string) []eventsv1.Event {
	GinkgoHelper()
	var list eventsv1.EventList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(metav1.NamespaceDefault))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// notes renders Events as "Reason: note" for matchers.
func notes(evs []eventsv1.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Reason + ": " + e.Note
	}
	return out
}

func getRouter(name string) (*ospfv1alpha1.OSPFRouter, error) {
	r := &ospfv1alpha1.OSPFRouter{}
	return r, k8sClient.Get(ctx, client.ObjectKey{Name: name}, r)
}

// converged reports whether the cluster shows exactly what the LSDB asks
// for, times aside.
func converged(h *harness) error { return h.converged(ctx, k8sClient) }

func loadNYCLSAs() []ospfapitest.AreaLSA {
	GinkgoHelper()
	lsas, err := ospfapitest.LoadSnapshotFile(nycSnapshotPath, ospfapitest.EncodeOptions{})
	Expect(err).NotTo(HaveOccurred())
	return lsas
}

// snapshotWithoutStamp is a snapshot's JSON with "updated" set to 0.
func snapshotWithoutStamp(s *lsdb.Snapshot) string {
	c := *s
	c.Updated = 0
	return string(c.AppendJSON(nil))
}

func parseStored(js []byte) *lsdb.Snapshot {
	GinkgoHelper()
	s, err := lsdb.ParseSnapshot(js)
	Expect(err).NotTo(HaveOccurred())
	return s
}

var _ = Describe("The agent on the NYC mesh LSDB", Ordered, func() {
	var (
		h    *harness
		self = netip.MustParseAddr("10.69.2.27")
	)
	const inlineCap = 10

	BeforeAll(func() {
		By("leaving an orphan of a previous run and an object of someone else")
		orphan := &ospfv1alpha1.OSPFRouter{ObjectMeta: metav1.ObjectMeta{Name: "192.0.2.1",
			Labels: map[string]string{ospfv1alpha1.LabelManagedBy: ospfv1alpha1.ManagedBy}}}
		Expect(k8sClient.Create(ctx, orphan)).To(Succeed())
		foreign := &ospfv1alpha1.OSPFRouter{ObjectMeta: metav1.ObjectMeta{Name: "192.0.2.2"}}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())

		h = startHarness(loadNYCLSAs(), self, Options{
			MaxInlineExternals: inlineCap,
			SnapshotInterval:   200 * time.Millisecond,
			Events:             EventOptions{Burst: 6, Interval: time.Minute},
		})
		DeferCleanup(h.stop)
	})

	It("creates an OSPFRouter per router and an OSPFNetwork per transit network from a cold start", func() {
		Eventually(func() error { return converged(h) }).WithTimeout(60 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		took := time.Since(h.started)
		AddReportEntry("NYC cold start", fmt.Sprintf("converged in %v with %d API requests (%d writes to OSPF objects)",
			took.Round(time.Millisecond), h.requests.total(), h.requests.writes("ospf")))
		fmt.Fprintf(GinkgoWriter, "NYC cold start: converged in %v, %d API requests, %d writes to OSPF objects\n",
			took.Round(time.Millisecond), h.requests.total(), h.requests.writes("ospf"))

		r, err := getRouter("10.69.2.27")
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Labels).To(HaveKeyWithValue(ospfv1alpha1.LabelAreaPrefix+"0.0.0.0", ""))
		Expect(r.Status.PathCost).To(HaveValue(BeZero()))
		Expect(reachable(r.Status.Conditions)).To(Equal("True/PathFound"))

		n := &ospfv1alpha1.OSPFNetwork{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "10.70.76.0-24"}, n)).To(Succeed())
		Expect(n.Status.DesignatedRouter).To(Equal("10.10.10.10"))
		Expect(n.Status.Routers).To(Equal([]string{"10.10.10.10", "10.70.71.137", "10.70.76.24", "10.69.2.27"}))
		Expect(n.Status.RouterCount).To(BeEquivalentTo(4))
	})

	It("deletes orphans it made and leaves other objects alone", func() {
		Eventually(func() bool {
			_, err := getRouter("192.0.2.1")
			return apierrors.IsNotFound(err)
		}).WithTimeout(10 * time.Second).Should(BeTrue())
		_, err := getRouter("192.0.2.2")
		Expect(err).NotTo(HaveOccurred())
	})

	It("keeps the external routes inline up to the cap, with the count and a truncation mark", func() {
		r, err := getRouter("10.69.2.27")
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Status.Externals).To(HaveLen(inlineCap))
		Expect(r.Status.ExternalsTruncated).To(BeTrue())
		Expect(r.Status.Summary.Externals).To(BeEquivalentTo(26))
		Expect(r.Status.Externals[0].Prefix).To(Equal("10.10.10.100/32"))
		Expect(r.Status.Externals[0].Metric).To(HaveValue(BeEquivalentTo(20)))
	})

	It("writes the LSDB to the ConfigMap in the seed's snapshot format", func() {
		cm := &corev1.ConfigMap{}
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: DefaultConfigMapName}, cm)
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Expect(cm.BinaryData).To(BeEmpty(), "the NYC LSDB fits uncompressed")
		Expect(cm.Data).To(HaveKey(ConfigMapKey))
		snap, _ := h.db.Snapshot()
		Expect(snapshotWithoutStamp(parseStored([]byte(cm.Data[ConfigMapKey])))).To(Equal(snapshotWithoutStamp(snap)))
		Expect(cm.Annotations).To(HaveKey(AnnotationContentHash))
	})

	It("writes nothing when every LSA is refreshed with the same content", func() {
		Eventually(func() error { return converged(h) }).WithTimeout(10 * time.Second).Should(Succeed())
		before := versions()
		writes := h.requests.writes("ospf") + h.requests.writes("configmaps") + h.requests.writes("events")
		updates := h.db.Stats().Updates

		n, err := h.srv.RefreshAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeNumerically(">", 1000))
		Eventually(func() uint64 { return h.db.Stats().Updates }).WithTimeout(30 * time.Second).
			Should(BeNumerically(">=", updates+uint64(n)))
		// Past the reinstall window, the debounce and a snapshot interval.
		Consistently(versions).WithTimeout(3 * time.Second).WithPolling(250 * time.Millisecond).Should(Equal(before))
		Expect(h.requests.writes("ospf") + h.requests.writes("configmaps") + h.requests.writes("events")).To(Equal(writes))
	})

	It("updates only the router whose stub network metric changed, with Events and a new change time", func() {
		r, err := getRouter("10.69.2.27")
		Expect(err).NotTo(HaveOccurred())
		lastChange := r.Status.LastChange.DeepCopy()
		stub := r.Status.Areas[0].Links.Stubnet[0]
		index := len(r.Status.Areas[0].Links.Router) + len(r.Status.Areas[0].Links.Network)
		before := versions()
		time.Sleep(time.Second) // the change time has a precision of a second

		Expect(h.srv.SetLinkMetric(netip.IPv4Unspecified(), self, index, 77)).To(Succeed())
		Eventually(func() int32 {
			r, err := getRouter("10.69.2.27")
			Expect(err).NotTo(HaveOccurred())
			return r.Status.Areas[0].Links.Stubnet[0].Metric
		}).WithTimeout(10 * time.Second).Should(BeEquivalentTo(77))

		r, err = getRouter("10.69.2.27")
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Status.LastChange.After(lastChange.Time)).To(BeTrue(), "last change %v, before %v", r.Status.LastChange, lastChange)
		moved := func() []string {
			var moved []string
			for k, v := range versions() {
				if before[k] != v {
					moved = append(moved, k)
				}
			}
			return moved
		}
		Eventually(moved).WithTimeout(10 * time.Second).Should(ConsistOf("router/10.69.2.27", "configmap"))
		Consistently(moved).WithTimeout(time.Second).Should(ConsistOf("router/10.69.2.27", "configmap"))

		Eventually(func() []string { return notes(eventsOn("OSPFRouter", "10.69.2.27")) }).WithTimeout(10 * time.Second).Should(ConsistOf(
			fmt.Sprintf("LinkRemoved: Removed stub network %s (metric %d) in area 0.0.0.0", stub.ID, stub.Metric),
			fmt.Sprintf("LinkAdded: Added stub network %s (metric 77) in area 0.0.0.0", stub.ID),
		))
	})

	It("shows a new external route and its withdrawal, with Events", func() {
		router := netip.MustParseAddr("10.68.73.125")
		p := netip.MustParsePrefix("203.0.113.0/24")
		Expect(h.srv.AddExternal(router, p, 30, true, netip.MustParseAddr("10.70.76.9"))).To(Succeed())
		Eventually(func() []ospfv1alpha1.ExternalRoute {
			r, err := getRouter(router.String())
			Expect(err).NotTo(HaveOccurred())
			return r.Status.Externals
		}).WithTimeout(10 * time.Second).Should(Equal([]ospfv1alpha1.ExternalRoute{
			{Prefix: "203.0.113.0/24", Metric2: ptr(int32(30)), ForwardingAddress: "10.70.76.9"},
		}))
		r, err := getRouter(router.String())
		Expect(err).NotTo(HaveOccurred())
		// The flags are the Router-LSA's bits, never guessed from the
		// routes: the fake ospfd adds the route and leaves bit E clear.
		Expect(r.Status.Summary.Flags).To(BeEmpty())

		Expect(h.srv.WithdrawExternal(router, p)).To(Succeed())
		Eventually(func() []ospfv1alpha1.ExternalRoute {
			r, err := getRouter(router.String())
			Expect(err).NotTo(HaveOccurred())
			return r.Status.Externals
		}).WithTimeout(10 * time.Second).Should(BeEmpty())
		Eventually(func() []string { return notes(eventsOn("OSPFRouter", router.String())) }).WithTimeout(10 * time.Second).Should(ConsistOf(
			"ExternalAdded: Added external route 203.0.113.0/24 (type 2 metric 30, via 10.70.76.9)",
			"ExternalRemoved: Removed external route 203.0.113.0/24 (type 2 metric 30, via 10.70.76.9)",
		))
	})

	It("deletes the OSPFRouter of a router that left the LSDB and the OSPFNetwork of a network that did", func() {
		leaf := netip.MustParseAddr("10.69.18.196")
		_, err := getRouter(leaf.String())
		Expect(err).NotTo(HaveOccurred())
		Expect(h.srv.Remove(ospfapitest.Key{Area: netip.IPv4Unspecified(), Type: ospf.RouterLSAType, LSID: leaf, AdvRouter: leaf})).To(Succeed())

		var netKey ospfapitest.Key
		for _, al := range h.srv.LSAs() {
			if nl, ok := al.LSA.(*ospf.NetworkLSA); ok && nl.Prefix() == netip.MustParsePrefix("10.70.89.128/27") {
				netKey = ospfapitest.KeyOf(al.Area, nl)
			}
		}
		Expect(netKey.Type).To(Equal(ospf.NetworkLSAType))
		Expect(h.srv.Remove(netKey)).To(Succeed())

		Eventually(func() bool {
			_, err := getRouter(leaf.String())
			return apierrors.IsNotFound(err)
		}).WithTimeout(10 * time.Second).Should(BeTrue())
		Eventually(func() bool {
			err := k8sClient.Get(ctx, client.ObjectKey{Name: "10.70.89.128-27"}, &ospfv1alpha1.OSPFNetwork{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(10 * time.Second).Should(BeTrue())
		Eventually(func() error { return converged(h) }).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(func() []string { return notes(eventsOn("OSPFNetwork", "10.70.89.128-27")) }).WithTimeout(10 * time.Second).Should(ConsistOf(
			"RouterDetached: Router 10.69.7.13 detached from transit network 10.70.89.128/27 in area 0.0.0.0",
			"RouterDetached: Router 10.70.89.133 detached from transit network 10.70.89.128/27 in area 0.0.0.0",
		))
	})

	It("does not make an Event per change of a flapping link", func() {
		const router = "10.69.19.34"
		r, err := getRouter(router)
		Expect(err).NotTo(HaveOccurred())
		links := r.Status.Areas[0].Links
		index := len(links.Router) + len(links.Network) // its first stub network
		suppressed := testutil.ToFloat64(h.metrics.KubeEventsSuppressed.WithLabelValues("rate-limited"))

		const flaps = 12
		for i := range flaps {
			Expect(h.srv.SetLinkMetric(netip.IPv4Unspecified(), netip.MustParseAddr(router), index, uint16(100+i%2))).To(Succeed())
			// Each change in a reconcile of its own: none cancels out.
			time.Sleep(4 * h.agent.opts.Debounce)
		}
		Eventually(func() error { return converged(h) }).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(func() float64 {
			return testutil.ToFloat64(h.metrics.KubeEventsSuppressed.WithLabelValues("rate-limited"))
		}).Should(BeNumerically(">", suppressed), "more changes than the object's budget of Events")
		// Two reasons, each a series of repeats of one change at most two
		// notes (metric 100 and 101) apart.
		Consistently(func() int { return len(eventsOn("OSPFRouter", router)) }).WithTimeout(2 * time.Second).
			Should(BeNumerically("<=", 4))
	})
})

// reachable renders a condition list's Reachable condition as status/reason.
func reachable(cs []metav1.Condition) string {
	for _, c := range cs {
		if c.Type == ospfv1alpha1.ConditionReachable {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

var _ = Describe("The snapshot ConfigMap", Ordered, func() {
	small := smallLSAs
	getCM := func() (*corev1.ConfigMap, error) {
		cm := &corev1.ConfigMap{}
		return cm, k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: DefaultConfigMapName}, cm)
	}

	It("holds the snapshot gzipped under binaryData when the JSON is large", func() {
		h := startHarness(small(), netip.MustParseAddr("10.0.0.2"), Options{SnapshotInterval: 100 * time.Millisecond, CompressAbove: 500})
		DeferCleanup(h.stop)
		var cm *corev1.ConfigMap
		Eventually(func() (err error) { cm, err = getCM(); return err }).WithTimeout(10 * time.Second).Should(Succeed())
		Expect(cm.Data).To(BeEmpty())
		Expect(cm.BinaryData).To(HaveKey(ConfigMapGzipKey))
		zr, err := gzip.NewReader(bytes.NewReader(cm.BinaryData[ConfigMapGzipKey]))
		Expect(err).NotTo(HaveOccurred())
		js, err := io.ReadAll(zr)
		Expect(err).NotTo(HaveOccurred())
		snap, _ := h.db.Snapshot()
		Expect(snapshotWithoutStamp(parseStored(js))).To(Equal(snapshotWithoutStamp(snap)))
		// The writer sets the gauge once its write returns, which may be
		// after the cache shows the ConfigMap.
		Eventually(func() float64 { return testutil.ToFloat64(h.metrics.SnapshotBytes) }).WithTimeout(5 * time.Second).
			Should(BeEquivalentTo(len(cm.BinaryData[ConfigMapGzipKey])))

		By("not writing it again while the topology stays the same")
		rv := cm.ResourceVersion
		Consistently(func() string {
			cm, err := getCM()
			Expect(err).NotTo(HaveOccurred())
			return cm.ResourceVersion
		}).WithTimeout(time.Second).Should(Equal(rv))

		By("writing it again when the topology changes")
		Expect(h.srv.AddExternal(netip.MustParseAddr("10.0.0.2"), netip.MustParsePrefix("203.0.113.0/24"), 1, false, netip.Addr{})).To(Succeed())
		Eventually(func() string {
			cm, err := getCM()
			Expect(err).NotTo(HaveOccurred())
			return cm.ResourceVersion
		}).WithTimeout(10 * time.Second).ShouldNot(Equal(rv))
	})

	It("recreates the ConfigMap within seconds when it is deleted, long before the next snapshot interval", func() {
		h := startHarness(small(), netip.MustParseAddr("10.0.0.2"), Options{SnapshotInterval: time.Hour})
		DeferCleanup(h.stop)
		var cm *corev1.ConfigMap
		Eventually(func() (err error) { cm, err = getCM(); return err }).WithTimeout(10 * time.Second).Should(Succeed())
		want := cm.Data[ConfigMapKey]

		Expect(k8sClient.Delete(ctx, cm)).To(Succeed())
		Eventually(func() (types.UID, error) {
			cm, err := getCM()
			if err != nil {
				return "", err
			}
			return cm.UID, nil
		}).WithTimeout(5 * time.Second).Should(And(Not(BeEmpty()), Not(Equal(cm.UID))))
		again, err := getCM()
		Expect(err).NotTo(HaveOccurred())
		Expect(snapshotWithoutStamp(parseStored([]byte(again.Data[ConfigMapKey])))).To(Equal(snapshotWithoutStamp(parseStored([]byte(want)))))
		Expect(again.Annotations).To(HaveKeyWithValue(AnnotationContentHash, cm.Annotations[AnnotationContentHash]))
	})

	It("repairs the ConfigMap within seconds when it is edited by hand, and then leaves it alone", func() {
		h := startHarness(small(), netip.MustParseAddr("10.0.0.2"), Options{SnapshotInterval: time.Hour})
		DeferCleanup(h.stop)
		var cm *corev1.ConfigMap
		Eventually(func() (err error) { cm, err = getCM(); return err }).WithTimeout(10 * time.Second).Should(Succeed())
		want := snapshotWithoutStamp(parseStored([]byte(cm.Data[ConfigMapKey])))

		By("a person replacing the snapshot with an empty one, the hash annotation left as it was")
		edited := cm.DeepCopy()
		edited.Data[ConfigMapKey] = `{"areas":{},"updated":0}`
		Expect(k8sClient.Update(ctx, edited)).To(Succeed())
		Eventually(func() (string, error) {
			cm, err := getCM()
			if err != nil {
				return "", err
			}
			s, err := lsdb.ParseSnapshot([]byte(cm.Data[ConfigMapKey]))
			if err != nil {
				return "", err
			}
			return snapshotWithoutStamp(s), nil
		}).WithTimeout(5 * time.Second).Should(Equal(want))

		By("a person removing the agent's label")
		cm, err := getCM()
		Expect(err).NotTo(HaveOccurred())
		delete(cm.Labels, ospfv1alpha1.LabelManagedBy)
		Expect(k8sClient.Update(ctx, cm)).To(Succeed())
		Eventually(func() (map[string]string, error) {
			cm, err := getCM()
			return cm.Labels, err
		}).WithTimeout(5 * time.Second).Should(HaveKeyWithValue(ospfv1alpha1.LabelManagedBy, ospfv1alpha1.ManagedBy))

		By("writing nothing more once repaired")
		cm, err = getCM()
		Expect(err).NotTo(HaveOccurred())
		Consistently(func() (string, error) {
			cm, err := getCM()
			return cm.ResourceVersion, err
		}).WithTimeout(2 * time.Second).Should(Equal(cm.ResourceVersion))
	})

	It("keeps the last snapshot that fitted when even the compressed one does not, and says so", func() {
		By("starting with a ConfigMap written before")
		h := startHarness(small(), netip.MustParseAddr("10.0.0.2"), Options{SnapshotInterval: 100 * time.Millisecond})
		var cm *corev1.ConfigMap
		Eventually(func() (err error) { cm, err = getCM(); return err }).WithTimeout(10 * time.Second).Should(Succeed())
		h.halt()

		h = startHarness(small(), netip.MustParseAddr("10.0.0.2"), Options{
			SnapshotInterval: 100 * time.Millisecond, CompressAbove: 100, MaxConfigMapBytes: 100,
		})
		DeferCleanup(h.stop)
		// The content is what the ConfigMap holds: nothing to write yet.
		Eventually(func() error { return converged(h) }).WithTimeout(10 * time.Second).Should(Succeed())
		Expect(h.srv.AddExternal(netip.MustParseAddr("10.0.0.2"), netip.MustParsePrefix("203.0.113.0/24"), 1, false, netip.Addr{})).To(Succeed())
		Eventually(func() float64 { return testutil.ToFloat64(h.metrics.SnapshotTooLarge) }).WithTimeout(10 * time.Second).
			Should(BeNumerically(">=", 1))
		now, err := getCM()
		Expect(err).NotTo(HaveOccurred())
		Expect(now.ResourceVersion).To(Equal(cm.ResourceVersion))
		Expect(now.Data).To(Equal(cm.Data))
		Eventually(func() []string {
			var list eventsv1.EventList
			Expect(k8sClient.List(ctx, &list, client.InNamespace(agentNamespace))).To(Succeed())
			var out []string
			for _, e := range list.Items {
				if e.Regarding.Kind == "ConfigMap" && e.Regarding.Name == DefaultConfigMapName {
					out = append(out, e.Type+"/"+e.Reason)
				}
			}
			return out
		}).WithTimeout(10 * time.Second).Should(ConsistOf("Warning/SnapshotTooLarge"))
	})
})

// smallLSAs are the LSAs of mappingTopology (its NSSA route aside: ospfd
// does not dump NSSA-LSAs).
func smallLSAs() []ospfapitest.AreaLSA {
	GinkgoHelper()
	s, err := lsdb.ParseSnapshot([]byte(mappingTopology))
	Expect(err).NotTo(HaveOccurred())
	lsas, err := ospfapitest.FromSnapshot(s, ospfapitest.EncodeOptions{})
	Expect(err).NotTo(HaveOccurred())
	return lsas
}

var _ = Describe("An agent taking over from another", func() {
	It("writes nothing and emits no Event when the cluster already mirrors the LSDB", func() {
		self := netip.MustParseAddr("10.0.0.2")
		opts := Options{SnapshotInterval: 100 * time.Millisecond}
		first := startHarness(smallLSAs(), self, opts)
		DeferCleanup(removeAgentObjects)
		Eventually(func() error { return converged(first) }).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(versions).WithTimeout(10 * time.Second).Should(HaveKey("configmap"))
		first.halt()
		before := versions()
		time.Sleep(1100 * time.Millisecond) // times in the status have a precision of a second

		second := startHarness(smallLSAs(), self, opts)
		DeferCleanup(second.halt)
		Eventually(func() float64 { return testutil.ToFloat64(second.metrics.Reconciles.WithLabelValues("ok")) }).
			WithTimeout(10 * time.Second).Should(BeNumerically(">=", 1))
		Consistently(versions).WithTimeout(time.Second).Should(Equal(before))
		Expect(second.requests.writes("ospf") + second.requests.writes("configmaps") + second.requests.writes("events")).To(BeZero())
	})
})

var _ = Describe("An OSPFRouter edited or deleted by hand", func() {
	It("is restored within seconds, and only it is written", func() {
		self := netip.MustParseAddr("10.0.0.2")
		h := startHarness(smallLSAs(), self, Options{SnapshotInterval: 100 * time.Millisecond})
		DeferCleanup(h.stop)
		Eventually(func() error { return converged(h) }).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(versions).WithTimeout(10 * time.Second).Should(HaveKey("configmap"))
		before := versions()
		writes := h.requests.writes("ospf")

		By("a person changing the status of one router")
		r, err := getRouter("10.0.0.3")
		Expect(err).NotTo(HaveOccurred())
		r.Status.Summary.Neighbors = 99
		Expect(k8sClient.Update(ctx, r)).To(Succeed())
		Eventually(func() (int32, error) {
			r, err := getRouter("10.0.0.3")
			return r.Status.Summary.Neighbors, err
		}).WithTimeout(5 * time.Second).ShouldNot(BeEquivalentTo(99))
		Eventually(func() error { return converged(h) }).WithTimeout(5 * time.Second).Should(Succeed())
		Expect(h.requests.writes("ospf")-writes).To(Equal(1), "one apply")

		By("a person deleting another")
		r, err = getRouter("10.0.0.1")
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Delete(ctx, r)).To(Succeed())
		Eventually(func() (types.UID, error) {
			r, err := getRouter("10.0.0.1")
			return r.UID, err
		}).WithTimeout(5 * time.Second).ShouldNot(Equal(r.UID))
		Eventually(func() error { return converged(h) }).WithTimeout(5 * time.Second).Should(Succeed())

		moved := map[string]bool{}
		for k, v := range versions() {
			if before[k] != v {
				moved[k] = true
			}
		}
		Expect(moved).To(Equal(map[string]bool{"router/10.0.0.3": true, "router/10.0.0.1": true}))
	})
})
