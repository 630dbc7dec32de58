// Package agentcmd is the agent's command line: its flags, the checks of
// the API server, the controller-runtime manager that serves its probes and
// secure metrics, and the runner that publishes the LSDB. It is the root
// command of ospf-operator-agent, the binary that `ospf-operator agent`
// runs; it links Kubernetes' client libraries, which the ospf-operator
// binary must not (internal/cli).
package agentcmd

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/controller"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/stream"
)

// agentProbeInterval is how often the agent checks that ospfd answers,
// and agentReplyTimeout how long a reply may take. A leader whose ospfd
// freezes notices within their sum (8 s) and then steps down after
// --leader-elect-step-down-after (5 s): another agent leads within 15 s.
const (
	agentProbeInterval = 2 * time.Second
	agentReplyTimeout  = 6 * time.Second
)

// agentOptions are the flags of the agent subcommand.
type agentOptions struct {
	server             string
	leaderElect        bool
	wsListen           string
	metricsAddr        string
	metricsSecure      bool
	healthAddr         string
	namespace          string
	podName            string
	holddown           time.Duration
	maxInlineExternals int
	snapshotInterval   time.Duration
	qps                float32
	burst              int
	leaseName          string
	leaseNamespace     string
	leaseDuration      time.Duration
	renewDeadline      time.Duration
	retryPeriod        time.Duration
	stepDownAfter      time.Duration
	agreementInterval  time.Duration
	agreementGrace     time.Duration
}

// NewCommand is the agent's command: the root of ospf-operator-agent, which
// `ospf-operator agent` runs. version is the binary's (--version).
func NewCommand(version string) *cobra.Command {
	var opts agentOptions
	cmd := &cobra.Command{
		Use:     "ospf-operator-agent",
		Version: version,
		Short:   "Mirror the LSDB into Kubernetes: OSPFRouter and OSPFNetwork resources, a ConfigMap and Events",
		Long: "agent follows ospfd's LSDB and, while it holds the leader Lease (or always,\n" +
			"without --leader-elect), publishes it as OSPFRouter and OSPFNetwork resources,\n" +
			"the ospf-lsdb ConfigMap and Events. It publishes a digest of its LSDB on a\n" +
			"Lease named after its pod; the leader reports agents that disagree with it.\n\n" +
			"`ospf-operator agent` runs this program; it is a binary of its own so that the\n" +
			"other commands do not load Kubernetes' client libraries.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd, &opts, version)
		},
	}
	// As `ospf-operator version` prints it.
	cmd.SetVersionTemplate("ospf-operator-agent {{.Version}} " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n")
	f := cmd.Flags()
	f.StringVar(&opts.server, "server", "127.0.0.1",
		"Address of the FRR OSPF API server (ospfd), HOST[:PORT]")
	f.BoolVar(&opts.leaderElect, "leader-elect", false,
		"Elect one writer among the agents through a Lease (the DaemonSet); without it this agent always writes")
	f.StringVar(&opts.wsListen, "ws-listen", "",
		"Serve the event stream (WebSocket, /v1/ endpoints) on ADDRESS:PORT, for the relay")
	f.StringVar(&opts.metricsAddr, "metrics-bind-address", ":9620",
		"Serve Prometheus metrics on ADDRESS:PORT/metrics (0 disables)")
	f.BoolVar(&opts.metricsSecure, "metrics-secure", true,
		"Serve /metrics over HTTPS to clients whose token the API server authenticates and allows to get /metrics; false serves plain HTTP to anyone")
	f.StringVar(&opts.healthAddr, "health-probe-bind-address", ":9621",
		"Serve /healthz and /readyz (ready: synced with ospfd) on ADDRESS:PORT (0 disables)")
	f.StringVar(&opts.namespace, "namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the ConfigMap and the Leases (default $POD_NAMESPACE)")
	f.StringVar(&opts.podName, "pod-name", os.Getenv("POD_NAME"),
		"Name of this agent's Lease (default $POD_NAME, else the host name)")
	f.DurationVar(&opts.holddown, "holddown", 10*time.Second,
		"Delay the removal of a withdrawn LSA by this long, dropping it if it returns unchanged (0 disables)")
	f.IntVar(&opts.maxInlineExternals, "max-inline-externals", controller.DefaultMaxInlineExternals,
		fmt.Sprintf("External routes an OSPFRouter lists inline (at most %d; negative: none); the count is always kept", ospfv1alpha1.MaxInlineExternals))
	f.DurationVar(&opts.snapshotInterval, "snapshot-interval", controller.DefaultSnapshotInterval,
		"Write the LSDB ConfigMap at most this often, when it changed")
	f.Float32Var(&opts.qps, "kube-api-qps", 0,
		fmt.Sprintf("Cap the agent's API requests at this many per second (0: no cap when the API server has API Priority and Fairness, which paces clients itself; else %d)", fallbackQPS))
	f.IntVar(&opts.burst, "kube-api-burst", 0,
		"Burst of the agent's API requests over --kube-api-qps (default twice the QPS)")
	f.StringVar(&opts.leaseName, "leader-elect-lease-name", controller.DefaultLeaseName,
		"Name of the leader Lease")
	f.StringVar(&opts.leaseNamespace, "leader-elect-namespace", "",
		"Namespace of the leader Lease (default --namespace)")
	f.DurationVar(&opts.leaseDuration, "leader-elect-lease-duration", controller.DefaultLeaseDuration,
		"How long the other agents wait before taking over a leader Lease that was not renewed")
	f.DurationVar(&opts.renewDeadline, "leader-elect-renew-deadline", controller.DefaultRenewDeadline,
		"How long the leader keeps trying to renew its Lease before it stops writing")
	f.DurationVar(&opts.retryPeriod, "leader-elect-retry-period", controller.DefaultRetryPeriod,
		"How often agents try to take, and the leader to renew, the Lease")
	f.DurationVar(&opts.stepDownAfter, "leader-elect-step-down-after", controller.DefaultStepDownAfter,
		"Give up leadership after the session with ospfd has been down this long")
	f.DurationVar(&opts.agreementInterval, "agreement-interval", controller.DefaultAgreementInterval,
		"Publish this agent's LSDB digest, and compare the agents' on the leader, at most this often")
	f.DurationVar(&opts.agreementGrace, "agreement-grace-period", controller.DefaultAgreementGrace,
		"Report an agent whose LSDB differs from the leader's for longer than this")
	// controller-runtime's --kubeconfig; then KUBECONFIG, the in-cluster
	// configuration, ~/.kube/config.
	gofs := flag.NewFlagSet("agent", flag.ContinueOnError)
	config.RegisterFlags(gofs)
	f.AddGoFlagSet(gofs)
	return cmd
}

// check validates the flags that the libraries would accept silently or
// report obscurely.
func (o *agentOptions) check() error {
	switch {
	case o.namespace == "":
		return errors.New("no namespace: set --namespace or POD_NAMESPACE")
	case o.holddown < 0:
		return fmt.Errorf("--holddown %v: must not be negative", o.holddown)
	case o.snapshotInterval <= 0:
		return fmt.Errorf("--snapshot-interval %v: must be positive", o.snapshotInterval)
	case o.maxInlineExternals > ospfv1alpha1.MaxInlineExternals:
		return fmt.Errorf("--max-inline-externals %d: at most %d", o.maxInlineExternals, ospfv1alpha1.MaxInlineExternals)
	case o.qps < 0 || o.burst < 0:
		return fmt.Errorf("--kube-api-qps %v, --kube-api-burst %d: must not be negative", o.qps, o.burst)
	case o.agreementInterval <= 0 || o.agreementGrace <= 0:
		return fmt.Errorf("--agreement-interval %v, --agreement-grace-period %v: must be positive", o.agreementInterval, o.agreementGrace)
	case o.leaderElect && (o.leaseDuration <= 0 || o.renewDeadline <= 0 || o.retryPeriod <= 0 || o.stepDownAfter <= 0):
		return errors.New("--leader-elect-lease-duration, -renew-deadline, -retry-period and -step-down-after must be positive")
	}
	if o.podName == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return errors.New("no pod name: set --pod-name or POD_NAME")
		}
		o.podName = host
	}
	return nil
}

func runAgent(cmd *cobra.Command, opts *agentOptions, version string) error {
	if err := opts.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logr.FromSlogHandler(slog.Default().Handler())
	ctrl.SetLogger(log)
	klog.SetLogger(log) // client-go's leader election

	restCfg, err := config.GetConfig()
	if err != nil {
		return fmt.Errorf("no Kubernetes API server to talk to (pass --kubeconfig, set KUBECONFIG, or run in a pod): %w", err)
	}
	apf, err := checkAPIServer(ctx, restCfg)
	if err != nil {
		return err
	}
	// One client configuration for the process: every manager, the
	// terms' included, and the leader election use restCfg.
	restCfg.QPS, restCfg.Burst = clientRate(opts.qps, opts.burst, apf)
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := ospfv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}

	db := lsdb.New(lsdb.Config{HoldDown: opts.holddown})
	mirrorMetrics := mirror.NewMetrics(db)
	agentMetrics := controller.NewMetrics()
	var runner *controller.Runner
	m := mirror.New(mirror.Config{
		Server: opts.server, DB: db, Logger: slog.Default(), Metrics: mirrorMetrics,
		OnSynced: func(mirror.SyncReport) { runner.Trigger() }, // the router ID may have changed
		// A leader must notice soon that ospfd froze, not only that it
		// closed the session, to give up leadership in time.
		DialOptions: []ospfapi.Option{ospfapi.WithProbeInterval(agentProbeInterval), ospfapi.WithTimeout(agentReplyTimeout)},
	})
	runnerCfg := controller.RunnerConfig{
		Config: restCfg,
		Scheme: scheme,
		DB:     db,
		Agent: controller.Options{
			Namespace:          opts.namespace,
			RouterID:           m.RouterID,
			MaxInlineExternals: opts.maxInlineExternals,
			SnapshotInterval:   opts.snapshotInterval,
			Metrics:            agentMetrics,
		},
		Synced:    m.Synced,
		PodName:   opts.podName,
		Agreement: controller.AgreementOptions{Interval: opts.agreementInterval, GracePeriod: opts.agreementGrace},
		Logger:    log.WithName("agent"),
	}
	if opts.leaderElect {
		runnerCfg.LeaderElection = &controller.LeaderElection{
			LeaseName: opts.leaseName, LeaseNamespace: opts.leaseNamespace,
			LeaseDuration: opts.leaseDuration, RenewDeadline: opts.renewDeadline,
			RetryPeriod: opts.retryPeriod, StepDownAfter: opts.stepDownAfter,
		}
	}
	runner, err = controller.NewRunner(runnerCfg)
	if err != nil {
		return err
	}

	// The process's manager serves metrics and probes and runs what every
	// agent runs; the Runner starts the writers' own manager per term.
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                  scheme,
		Logger:                  log,
		Cache:                   controller.CacheOptions(opts.namespace, ""),
		Metrics:                 MetricsOptions(opts.metricsAddr, opts.metricsSecure),
		HealthProbeBindAddress:  opts.healthAddr,
		GracefulShutdownTimeout: ptrTo(10 * time.Second),
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := mirrorMetrics.Register(ctrlmetrics.Registry); err != nil {
		return err
	}
	if err := agentMetrics.Register(ctrlmetrics.Registry); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	err = mgr.AddReadyzCheck("ospfd", func(*http.Request) error {
		if !m.Synced() {
			return errors.New("not synced with ospfd")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if opts.wsListen != "" {
		outputs, err := stream.NewOutputs(ctx, stream.OutputsConfig{Source: db, WSListen: opts.wsListen,
			Server: stream.ServerConfig{Self: m.Self}, Logger: slog.Default()})
		if err != nil {
			return err
		}
		if err := mgr.Add(manager.RunnableFunc(outputs.Run)); err != nil {
			return err
		}
	}
	if err := mgr.Add(manager.RunnableFunc(m.Run)); err != nil {
		return err
	}
	if err := runner.SetupWithManager(mgr); err != nil {
		return err
	}
	slog.Info("agent starting", "version", version, "server", opts.server, "api_server", restCfg.Host, "api_qps", restCfg.QPS, "namespace", opts.namespace,
		"pod", opts.podName, "leader_elect", opts.leaderElect, "identity", runner.Identity())
	return mgr.Start(ctx)
}

// fallbackQPS is the agent's request rate when neither the flag nor the API
// server's API Priority and Fairness sets one.
const fallbackQPS = 200

// clientRate is the client-side rate limit of the agent's API client: the
// flags' when set, none (QPS -1) when the API server has API Priority and
// Fairness (as kubectl does), else fallbackQPS.
func clientRate(qps float32, burst int, apf bool) (float32, int) {
	switch {
	case qps > 0:
	case apf:
		return -1, 0
	default:
		qps = fallbackQPS
	}
	if burst <= 0 {
		burst = int(2 * qps)
	}
	return qps, max(burst, 1)
}

// checkAPIServer fails at once, and clearly, when the API server cannot be
// reached or lacks the agent's CRDs, rather than in retries in the logs. It
// reports whether the server has API Priority and Fairness, which says so
// in a header of every response.
func checkAPIServer(ctx context.Context, cfg *rest.Config) (apf bool, err error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = 15 * time.Second
	var seen atomic.Bool
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err == nil && resp.Header.Get(flowcontrolv1.ResponseHeaderMatchedFlowSchemaUID) != "" {
				seen.Store(true)
			}
			return resp, err
		})
	})
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return false, fmt.Errorf("kubernetes API client for %s: %w", cfg.Host, err)
	}
	if _, err := dc.ServerVersion(); err != nil {
		return false, fmt.Errorf("cannot reach the Kubernetes API server at %s: %w", cfg.Host, err)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	gv := ospfv1alpha1.GroupVersion.String()
	if _, err := dc.ServerResourcesForGroupVersion(gv); err != nil {
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("the API server at %s does not serve %s: install the OSPFRouter and OSPFNetwork CRDs (config/crd, make deploy): %w", cfg.Host, gv, err)
		}
		return false, fmt.Errorf("discover %s at %s: %w", gv, cfg.Host, err)
	}
	return seen.Load(), nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func ptrTo[T any](v T) *T { return &v }

// MetricsOptions serves /metrics on addr, and with secure over HTTPS (a
// self-signed certificate) behind metricsAuthFilter: the API server
// authenticates the client's bearer token (TokenReview, else 401) and
// authorizes get on the non-resource URL /metrics (SubjectAccessReview, else
// 403), as kubebuilder's scaffold does with controller-runtime's filter.
// HTTP/2 is off, as kubebuilder advises (CVE-2023-44487, CVE-2023-39325).
func MetricsOptions(addr string, secure bool) metricsserver.Options {
	o := metricsserver.Options{BindAddress: addr}
	if secure {
		o.SecureServing = true
		o.FilterProvider = metricsAuthFilter
		o.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	}
	return o
}
