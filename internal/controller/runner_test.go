package controller

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"

	coordinationv1 "k8s.io/api/coordination/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// runnerRun is one agent of a DaemonSet as the agent subcommand runs it:
// a fake ospfd, a mirror and a Runner, with its API requests counted.
type runnerRun struct {
	pod      string
	srv      *ospfapitest.Server
	db       *lsdb.DB
	mirror   *mirror.Mirror
	runner   *Runner
	metrics  *Metrics
	requests *requestCounter

	cancel  context.CancelFunc
	done    sync.WaitGroup
	stopped bool
}

// Short timings, so that elections take a second or two.
func testElection(lease string) *LeaderElection {
	return &LeaderElection{
		LeaseName:     lease,
		LeaseDuration: 2 * time.Second,
		RenewDeadline: 1500 * time.Millisecond,
		RetryPeriod:   250 * time.Millisecond,
	}
}

var testAgreement = AgreementOptions{Interval: 250 * time.Millisecond, GracePeriod: time.Second}

// startRunner starts the agent pod serving lsas with router ID self.
func startRunner(pod string, lsas []ospfapitest.AreaLSA, self netip.Addr, le *LeaderElection, agr AgreementOptions) *runnerRun {
	GinkgoHelper()
	ensureNamespace(agentNamespace)
	r := &runnerRun{pod: pod, db: lsdb.New(lsdb.Config{}), metrics: NewMetrics(), requests: &requestCounter{}}
	var err error
	r.srv, err = ospfapitest.NewServer(ospfapitest.Config{RouterID: self}, lsas)
	Expect(err).NotTo(HaveOccurred())
	r.mirror = mirror.New(mirror.Config{
		Server:     r.srv.Addr(),
		DB:         r.db,
		Logger:     slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})),
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond,
		OnSynced:   func(mirror.SyncReport) { r.runner.Trigger() },
	})
	rc := rest.CopyConfig(cfg)
	rc.QPS = -1
	rc.Wrap(r.requests.wrap)
	r.runner, err = NewRunner(RunnerConfig{
		Config: rc,
		Scheme: scheme,
		DB:     r.db,
		Agent: Options{
			Namespace:        agentNamespace,
			RouterID:         r.mirror.RouterID,
			SnapshotInterval: 100 * time.Millisecond,
			Metrics:          r.metrics,
		},
		Synced:         r.mirror.Synced,
		PodName:        pod,
		LeaderElection: le,
		Agreement:      agr,
		Logger:         zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)).WithName(pod),
	})
	Expect(err).NotTo(HaveOccurred())
	mgr := newProcessManager(rc)
	Expect(r.runner.SetupWithManager(mgr)).To(Succeed())
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	errs := make(chan error, 1)
	r.done.Go(func() { errs <- mgr.Start(runCtx) })
	r.done.Go(func() { _ = r.mirror.Run(runCtx) })
	DeferCleanup(r.stop)
	DeferCleanup(func() {
		select {
		case err := <-errs:
			Expect(err).NotTo(HaveOccurred())
		default:
		}
	})
	return r
}

// stop stops the agent as SIGTERM does, and its fake ospfd.
func (r *runnerRun) stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	r.done.Wait()
	r.srv.Close()
}

func (r *runnerRun) converged() error {
	self, _ := r.mirror.RouterID()
	return clusterMirrors(ctx, k8sClient, r.db, self, 0)
}

// wrote is the number of requests that may have written what the leader
// writes.
func (r *runnerRun) wrote() int {
	return r.requests.writes("ospf") + r.requests.writes("configmaps") + r.requests.writes("events")
}

func leaseHolder(name string) string {
	GinkgoHelper()
	var l coordinationv1.Lease
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: name}, &l); err != nil {
		return ""
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// leaders returns the pods of the runs that lead.
func leaders(runs ...*runnerRun) []string {
	var out []string
	for _, r := range runs {
		if r.runner.Leading() {
			out = append(out, r.pod)
		}
	}
	return out
}

var _ = Describe("Agents electing a leader", func() {
	self := netip.MustParseAddr("10.0.0.2")

	AfterEach(removeAgentObjects)

	It("lets exactly one agent write; the others write nothing but their Leases", func() {
		le := testElection("elect-one")
		a := startRunner("agent-a", smallLSAs(), self, le, testAgreement)
		b := startRunner("agent-b", smallLSAs(), self, le, testAgreement)
		Eventually(func() []string { return leaders(a, b) }).WithTimeout(10 * time.Second).Should(HaveLen(1))
		Eventually(a.converged).WithTimeout(10 * time.Second).Should(Succeed())
		Consistently(func() []string { return leaders(a, b) }).WithTimeout(2 * time.Second).Should(HaveLen(1))

		leader, follower := a, b
		if b.runner.Leading() {
			leader, follower = b, a
		}
		Expect(leaseHolder(le.LeaseName)).To(Equal(leader.runner.Identity()))
		Expect(follower.wrote()).To(BeZero())
		Expect(leader.wrote()).To(BeNumerically(">", 0))
		Expect(testutil.ToFloat64(leader.metrics.Leader)).To(Equal(1.0))
		Expect(testutil.ToFloat64(follower.metrics.Leader)).To(BeZero())

		By("publishing both digests, which agree")
		Eventually(func() float64 { return testutil.ToFloat64(leader.metrics.AgreementAgents) }).WithTimeout(5 * time.Second).Should(Equal(2.0))
		Consistently(func() float64 { return testutil.ToFloat64(leader.metrics.AgreementMismatched) }).WithTimeout(2 * time.Second).Should(BeZero())
		for _, r := range []*runnerRun{a, b} {
			var l coordinationv1.Lease
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: r.pod}, &l)).To(Succeed())
			Expect(l.Annotations).To(HaveKeyWithValue(AnnotationSynced, "true"))
			Expect(l.Annotations).To(HaveKeyWithValue(AnnotationRouterID, "10.0.0.2"))
			d, err := ParseDigest(l.Annotations[AnnotationLSDBDigest])
			Expect(err).NotTo(HaveOccurred())
			Expect(d).To(HaveKey("0.0.0.0"))
			Expect(d).To(HaveKey("0.0.0.1"))
		}
	})

	It("hands over when the leader stops; the new leader writes nothing and deletes nothing", func() {
		le := testElection("elect-stop")
		a := startRunner("agent-a", smallLSAs(), self, le, testAgreement)
		Eventually(a.runner.Leading).WithTimeout(10 * time.Second).Should(BeTrue())
		b := startRunner("agent-b", smallLSAs(), self, le, testAgreement)
		Eventually(a.converged).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(versions).WithTimeout(10 * time.Second).Should(HaveKey("configmap"))
		time.Sleep(1100 * time.Millisecond) // times in the status have a precision of a second
		before := versions()

		stopped := time.Now()
		a.stop()
		Eventually(b.runner.Leading).WithTimeout(le.LeaseDuration + 3*time.Second).Should(BeTrue())
		AddReportEntry("takeover after a stop", time.Since(stopped).Round(time.Millisecond).String())
		Expect(leaseHolder(le.LeaseName)).To(Equal(b.runner.Identity()))
		Eventually(func() float64 { return testutil.ToFloat64(b.metrics.Reconciles.WithLabelValues("ok")) }).
			WithTimeout(10 * time.Second).Should(BeNumerically(">=", 1))
		Consistently(versions).WithTimeout(time.Second).Should(Equal(before))
		Expect(b.wrote()).To(BeZero())
		Expect(a.requests.deletes("ospf") + b.requests.deletes("ospf")).To(BeZero())

		By("deleting the Lease of the agent that stopped")
		var l coordinationv1.Lease
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: a.pod}, &l)
		Expect(client.IgnoreNotFound(err)).To(Succeed())
		Expect(err).To(HaveOccurred())
	})

	It("gives up leadership within 15 s when its ospfd goes away, and a synced agent takes over without deletions or Events", func() {
		le := testElection("elect-frr")
		le.StepDownAfter = 0 // the default, as deployed
		a := startRunner("agent-a", smallLSAs(), self, le, testAgreement)
		Eventually(a.runner.Leading).WithTimeout(10 * time.Second).Should(BeTrue())
		b := startRunner("agent-b", smallLSAs(), self, le, testAgreement)
		Eventually(a.converged).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(versions).WithTimeout(10 * time.Second).Should(HaveKey("configmap"))
		Eventually(b.mirror.Synced).WithTimeout(10 * time.Second).Should(BeTrue())
		time.Sleep(1100 * time.Millisecond)
		before := versions()
		aWrote := a.wrote()

		gone := time.Now()
		a.srv.Stop()
		Eventually(b.runner.Leading).WithTimeout(15 * time.Second).WithPolling(50 * time.Millisecond).Should(BeTrue())
		took := time.Since(gone)
		AddReportEntry("takeover after ospfd went away", took.Round(time.Millisecond).String())
		Expect(took).To(BeNumerically("<", 15*time.Second))
		Expect(a.runner.Leading()).To(BeFalse())
		Expect(leaseHolder(le.LeaseName)).To(Equal(b.runner.Identity()))
		Expect(testutil.ToFloat64(a.metrics.StepDowns.WithLabelValues("ospfd"))).To(Equal(1.0))

		Eventually(func() float64 { return testutil.ToFloat64(b.metrics.Reconciles.WithLabelValues("ok")) }).
			WithTimeout(10 * time.Second).Should(BeNumerically(">=", 1))
		Consistently(versions).WithTimeout(time.Second).Should(Equal(before))
		Expect(b.wrote()).To(BeZero())
		Expect(a.wrote()).To(Equal(aWrote))
		Expect(a.requests.deletes("ospf") + b.requests.deletes("ospf")).To(BeZero())

		By("not campaigning while its ospfd is away")
		Consistently(a.runner.Leading).WithTimeout(2 * time.Second).Should(BeFalse())
		var l coordinationv1.Lease
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: agentNamespace, Name: a.pod}, &l)).To(Succeed())
		Expect(l.Annotations).To(HaveKeyWithValue(AnnotationSynced, "false"))
	})
})

var _ = Describe("The leader comparing the agents' LSDBs", func() {
	self := netip.MustParseAddr("10.0.0.2")

	AfterEach(removeAgentObjects)

	It("reports an agent whose LSDB differs for longer than the grace period, by a metric and an Event", func() {
		// A stale Lease of an agent long gone.
		stale := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: agentNamespace, Name: "agent-gone", Labels: map[string]string{LabelAgentLease: "true"}},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr("agent-gone"),
				LeaseDurationSeconds: ptr[int32](3),
				RenewTime:            &metav1.MicroTime{Time: time.Now().Add(-time.Hour)},
			},
		}
		ensureNamespace(agentNamespace)
		Expect(k8sClient.Create(ctx, stale)).To(Succeed())

		le := testElection("agree")
		a := startRunner("agent-a", smallLSAs(), self, le, testAgreement)
		Eventually(a.runner.Leading).WithTimeout(10 * time.Second).Should(BeTrue())

		By("deleting the stale Lease")
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKeyFromObject(stale), &coordinationv1.Lease{})
		}).WithTimeout(5 * time.Second).Should(MatchError(ContainSubstring("not found")))

		By("starting an agent whose ospfd lost the Router-LSA of 10.0.0.3 in area 0.0.0.1")
		var partial []ospfapitest.AreaLSA
		for _, l := range smallLSAs() {
			if h := l.LSA.Hdr(); h.Type == ospf.RouterLSAType && h.AdvRouter == netip.MustParseAddr("10.0.0.3") {
				continue
			}
			partial = append(partial, l)
		}
		b := startRunner("agent-b", partial, self, le, testAgreement)
		Eventually(b.mirror.Synced).WithTimeout(10 * time.Second).Should(BeTrue())
		Eventually(func() float64 { return testutil.ToFloat64(a.metrics.AgreementMismatched) }).
			WithTimeout(10 * time.Second).Should(Equal(1.0))
		Expect(testutil.ToFloat64(a.metrics.AgreementAgents)).To(Equal(2.0))
		Expect(b.runner.Leading()).To(BeFalse())

		var evs []eventsv1.Event
		Eventually(func() []eventsv1.Event {
			var list eventsv1.EventList
			Expect(k8sClient.List(ctx, &list, client.InNamespace(agentNamespace))).To(Succeed())
			evs = nil
			for _, e := range list.Items {
				if e.Reason == ReasonLSDBDisagreement {
					evs = append(evs, e)
				}
			}
			return evs
		}).WithTimeout(10 * time.Second).Should(HaveLen(1))
		Expect(evs[0].Regarding.Kind).To(Equal("Lease"))
		Expect(evs[0].Regarding.Name).To(Equal("agent-b"))
		Expect(evs[0].Type).To(Equal("Warning"))
		Expect(evs[0].Note).To(ContainSubstring("in area 0.0.0.1"))
		Expect(evs[0].Note).NotTo(ContainSubstring("0.0.0.0 ("))

		By("counting it no more once it is gone")
		b.stop()
		Eventually(func() float64 { return testutil.ToFloat64(a.metrics.AgreementMismatched) }).
			WithTimeout(5 * time.Second).Should(BeZero())
		Expect(testutil.ToFloat64(a.metrics.AgreementAgents)).To(Equal(1.0))
	})
})

var _ = Describe("A Runner's configuration", func() {
	It("refuses leader-election timings client-go would refuse", func() {
		_, err := NewRunner(RunnerConfig{
			Config: cfg, Scheme: scheme, DB: lsdb.New(lsdb.Config{}), Synced: func() bool { return true }, PodName: "p",
			Agent:          Options{Namespace: agentNamespace},
			LeaderElection: &LeaderElection{LeaseDuration: time.Second, RenewDeadline: 2 * time.Second},
			Logger:         logr.Discard(),
		})
		Expect(err).To(MatchError(ContainSubstring("lease duration")))
	})

	It("says when the namespace does not exist", func() {
		r, err := NewRunner(RunnerConfig{
			Config: cfg, Scheme: scheme, DB: lsdb.New(lsdb.Config{}), Synced: func() bool { return true }, PodName: "p",
			Agent: Options{Namespace: "no-such-namespace"},
		})
		Expect(err).NotTo(HaveOccurred())
		mgr := newProcessManager(cfg)
		Expect(r.SetupWithManager(mgr)).To(Succeed())
		Expect(mgr.Start(ctx)).To(MatchError(ContainSubstring(`namespace "no-such-namespace" does not exist`)))
	})
})

// newProcessManager is the agent process's manager as the agent subcommand
// makes it, its servers off.
func newProcessManager(rc *rest.Config) ctrl.Manager {
	GinkgoHelper()
	mgr, err := ctrl.NewManager(rc, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  CacheOptions(agentNamespace, ""),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	return mgr
}
