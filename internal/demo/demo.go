// Package demo runs ospf-operator the way its DaemonSet does, on one
// machine, for `make demo`: a real OSPF network of FRR routers in network
// namespaces (test/frrlab), a local Kubernetes API server and etcd (the
// envtest binaries that hack/build-envtest.sh builds), the CRDs, and the
// agent and relay processes with the arguments of
// config/manager/daemonset.yaml. Only what cannot be the same on a laptop
// differs: the agent reaches the chosen router's ospfd over a veth link
// instead of the node's loopback, and the API server is the local one.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// Namespace is the namespace the demo's agent runs in, as config/default
// installs it.
const Namespace = "ospf-operator-system"

// The demo's link from the host into the router the agent is attached to:
// a /30 of the benchmarking range (RFC 2544), outside OSPF.
var (
	hostAddr   = netip.MustParsePrefix("198.18.0.1/30")
	routerAddr = netip.MustParsePrefix("198.18.0.2/30")
)

// Options configure a demo run. Binary, Assets and Manifest are required.
type Options struct {
	// Binary is the ospf-operator binary to run (make build: bin/ospf-operator).
	Binary string
	// Assets is the directory of kube-apiserver and etcd (KUBEBUILDER_ASSETS).
	Assets string
	// Manifest is config/manager/daemonset.yaml, whose container
	// arguments the agent and relay run with.
	Manifest string
	// CRDs is the directory of the CRD manifests (config/crd/bases).
	CRDs string
	// Dir holds the kubeconfig, the process logs and the relay's archive.
	// It is created; the archive is kept after the demo ends.
	Dir string
	// Router is the lab router whose ospfd the agent follows (default
	// "r3", the area border router, which sees both areas).
	Router string
	// Prefix names the lab's namespaces (default "oodemo").
	Prefix string
	// PortOffset is added to every port of the manifest, so that a test
	// can run beside a demo.
	PortOffset int
	// Out receives what a person reads: progress and what to try.
	Out io.Writer
	// Ready, if set, is called once the network is mirrored into the
	// cluster and the stream is served; the demo then runs until ctx ends.
	Ready func(ctx context.Context, info *Info) error
}

// Info describes a running demo.
type Info struct {
	Lab        *frrlab.Lab
	Client     client.Client // the local API server, with the OSPF types
	Kubeconfig string        // its kubeconfig file
	Router     frrlab.Router // the router the agent follows
	StreamURL  string        // the relay: live page and WebSocket endpoints
	MetricsURL string        // the agent's /metrics
	Dir        string
}

// Run runs the demo until ctx ends, then removes everything it created
// except Dir's archive and logs. The error says what is missing when the
// machine cannot run it.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.Router == "" {
		opts.Router = "r3"
	}
	if opts.Prefix == "" {
		opts.Prefix = "oodemo"
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	say := func(format string, args ...any) { fmt.Fprintf(opts.Out, format+"\n", args...) }
	if err := Preflight(); err != nil {
		return err
	}
	for _, f := range []string{opts.Binary, filepath.Join(opts.Assets, "kube-apiserver"), filepath.Join(opts.Assets, "etcd"), opts.Manifest, opts.CRDs} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("demo: %w (make demo builds the binary and the envtest API server first)", err)
		}
	}
	agentArgs, relayArgs, err := ManifestArgs(opts.Manifest)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	say("Starting an FRR network of 5 routers in network namespaces %s-* ...", opts.Prefix)
	lab, err := frrlab.Up(ctx, frrlab.Options{Prefix: opts.Prefix, Logf: func(f string, a ...any) { say("  "+f, a...) }})
	if err != nil {
		return err
	}
	defer func() {
		say("Removing the FRR network ...")
		err = errors.Join(err, lab.Down())
	}()
	router, err := lab.Router(opts.Router)
	if err != nil {
		return err
	}
	hostIf := opts.Prefix + "-host"
	if err := HostLink(ctx, hostIf, router, hostAddr, routerAddr); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, RemoveLink(hostIf)) }()

	say("Starting a local Kubernetes API server and etcd ...")
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := ospfv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: opts.Assets,
		CRDDirectoryPaths:     []string{opts.CRDs},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("demo: starting the API server: %w", err)
	}
	defer func() {
		say("Stopping the API server ...")
		err = errors.Join(err, env.Stop())
	}()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}); err != nil {
		return fmt.Errorf("demo: creating namespace %s: %w", Namespace, err)
	}

	// The DaemonSet's arguments, with the demo's differences.
	agentArgs = Override(agentArgs, opts.PortOffset, map[string]string{
		"--server": routerAddr.Addr().String(),
		// Plain HTTP, so that the printed URL opens without a token.
		"--metrics-secure": "false",
	})
	agentArgs = append(agentArgs, "--kubeconfig="+kubeconfig)
	relayArgs = Override(relayArgs, opts.PortOffset, nil)
	for i, a := range relayArgs {
		relayArgs[i] = strings.Replace(a, "=/data/", "="+filepath.Join(dir, "data")+"/", 1)
	}
	env0 := append(os.Environ(), "POD_NAMESPACE="+Namespace, "POD_NAME=demo-agent-0", "NODE_NAME="+opts.Router)
	procs := &Processes{Dir: dir}
	defer func() {
		say("Stopping the agent and the relay ...")
		err = errors.Join(err, procs.Stop())
	}()
	say("Starting: ospf-operator %s", strings.Join(agentArgs, " "))
	if err := procs.Start(ctx, "agent", opts.Binary, agentArgs, env0); err != nil {
		return err
	}
	say("Starting: ospf-operator %s", strings.Join(relayArgs, " "))
	if err := procs.Start(ctx, "relay", opts.Binary, relayArgs, env0); err != nil {
		return err
	}

	info := &Info{
		Lab: lab, Client: c, Kubeconfig: kubeconfig, Router: router, Dir: dir,
		StreamURL:  "http://" + LocalAddr(FlagValue(relayArgs, "--ws-listen")) + "/",
		MetricsURL: "http://" + LocalAddr(FlagValue(agentArgs, "--metrics-bind-address")) + "/metrics",
	}
	say("Waiting for the agent to mirror the network ...")
	lans := 0
	for _, l := range lab.Topology().Links {
		if l.Kind == frrlab.Broadcast {
			lans++
		}
	}
	if err := waitMirrored(ctx, c, len(lab.Routers()), lans, info.StreamURL, procs); err != nil {
		return err
	}
	say("\n%s", tryText(info, hostIf))
	if opts.Ready != nil {
		if err := opts.Ready(ctx, info); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
	case err := <-procs.exited:
		return err
	}
	return nil
}

// Preflight reports what this machine lacks to run the demo.
func Preflight() error {
	if err := frrlab.Check(); err != nil {
		return fmt.Errorf("the demo runs a real FRR network in network namespaces: %w\n"+
			"(as root: `apt-get install frr iproute2`, then `usermod -a -G frrvty,frr root`)", err)
	}
	return nil
}

// tryText tells a person what to look at.
func tryText(info *Info, hostIf string) string {
	r := info.Router
	var b strings.Builder
	fmt.Fprintf(&b, "The OSPF network is mirrored. Try, in another shell:\n\n")
	fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", info.Kubeconfig)
	fmt.Fprintf(&b, "  kubectl get ospf                       # routers and networks\n")
	fmt.Fprintf(&b, "  kubectl get ospfrouters -o wide\n")
	fmt.Fprintf(&b, "  kubectl get configmap -n %s ospf-lsdb -o jsonpath='{.data.lsdb\\.json}' | head\n", Namespace)
	fmt.Fprintf(&b, "  kubectl get events -n default -w       # topology changes as Events\n\n")
	fmt.Fprintf(&b, "  Live page:    %s\n", info.StreamURL)
	fmt.Fprintf(&b, "                the live map: routers, LANs and link costs, changes flashing where they happen;\n")
	fmt.Fprintf(&b, "                search a router or prefix, click a router, show a path or what fails with it\n")
	fmt.Fprintf(&b, "  Event stream: websocat %s   (or any WebSocket client)\n", strings.Replace(info.StreamURL, "http://", "ws://", 1))
	fmt.Fprintf(&b, "  Metrics:      %s\n\n", info.MetricsURL)
	fmt.Fprintf(&b, "Change the network and watch it all follow (the agent follows %s, %s):\n\n", r.Name, r.ID)
	r2, _ := info.Lab.Router("r2")
	r4, _ := info.Lab.Router("r4")
	fmt.Fprintf(&b, "  vtysh --vty_socket %s -c 'configure terminal' -c 'interface eth-r3' -c 'ip ospf cost 50'\n", r2.Dir)
	fmt.Fprintf(&b, "  vtysh --vty_socket %s -c 'configure terminal' -c 'ip route 192.0.2.0/24 Null0'\n", r4.Dir)
	fmt.Fprintf(&b, "  ip -n %s link set eth-r3 down   # and up again\n\n", r2.Namespace)
	fmt.Fprintf(&b, "Logs and the archive are in %s (host link %s). Press Ctrl-C to stop and clean up.", info.Dir, hostIf)
	return b.String()
}

// ManifestArgs reads the agent's and the relay's arguments from the
// DaemonSet manifest.
func ManifestArgs(path string) (agent, relay []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(data, &ds); err != nil {
		return nil, nil, fmt.Errorf("demo: %s: %w", path, err)
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		switch c.Name {
		case "agent":
			agent = append([]string(nil), c.Args...)
		case "relay":
			relay = append([]string(nil), c.Args...)
		}
	}
	if len(agent) == 0 || len(relay) == 0 {
		return nil, nil, fmt.Errorf("demo: %s: want containers named agent and relay with args", path)
	}
	return agent, relay, nil
}

// Override replaces the values of --flag=value arguments and adds offset
// to the port of every HOST:PORT or ws://HOST:PORT value.
func Override(args []string, offset int, values map[string]string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			out = append(out, a)
			continue
		}
		if v, ok := values[name]; ok {
			val = v
		} else if offset != 0 {
			val = shiftPort(val, offset)
		}
		out = append(out, name+"="+val)
	}
	return out
}

// shiftPort adds offset to the port of HOST:PORT, ws://HOST:PORT or :PORT,
// and returns anything else unchanged.
func shiftPort(v string, offset int) string {
	scheme, hostport, ok := strings.Cut(v, "://")
	if !ok {
		scheme, hostport = "", v
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return v
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return v
	}
	hp := net.JoinHostPort(host, strconv.Itoa(n+offset))
	if scheme != "" {
		return scheme + "://" + hp
	}
	return hp
}

// FlagValue returns the value of --name=value in args.
func FlagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// LocalAddr turns a listen address into one to connect to.
func LocalAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// HostLink connects the host (hostAddr) to router (routerAddr) with a veth
// pair outside OSPF, so that an agent on the host reaches its ospfd's API
// server, and ospfd the agent's reverse-channel port. Removing the lab's
// namespaces removes it.
func HostLink(ctx context.Context, hostIf string, r frrlab.Router, hostAddr, routerAddr netip.Prefix) error {
	script := fmt.Sprintf("link add %s type veth peer name host netns %s\n"+
		"address add %s dev %s\nlink set %s up\n", hostIf, r.Namespace, hostAddr, hostIf, hostIf)
	if err := IP(ctx, script); err != nil {
		return err
	}
	return IP(ctx, fmt.Sprintf("address add %s dev host\nlink set host up\n", routerAddr), "-n", r.Namespace)
}

// RemoveLink deletes a host link now, both ends: the namespace removal
// would too, but the kernel tears namespaces down in the background.
func RemoveLink(name string) error {
	return IP(context.Background(), "link del "+name+"\n")
}

// IP runs `ip [args] -batch -` with script as its input.
func IP(ctx context.Context, script string, args ...string) error {
	cmd := exec.CommandContext(ctx, "ip", append(args, "-batch", "-")...)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("demo: ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// waitMirrored waits until every lab router has its OSPFRouter, every LAN
// its OSPFNetwork, and the relay serves the stream.
func waitMirrored(ctx context.Context, c client.Client, routers, networks int, streamURL string, procs *Processes) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last string
	for {
		// Routers and networks have controllers of their own: wait for both.
		var list ospfv1alpha1.OSPFRouterList
		var nets ospfv1alpha1.OSPFNetworkList
		switch err := c.List(ctx, &list); {
		case err != nil:
			last = err.Error()
		case len(list.Items) < routers:
			last = fmt.Sprintf("%d of %d OSPFRouters", len(list.Items), routers)
		case c.List(ctx, &nets) != nil || len(nets.Items) < networks:
			last = fmt.Sprintf("%d of %d OSPFNetworks", len(nets.Items), networks)
		default:
			resp, err := http.Get(streamURL)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("%s: %s", streamURL, resp.Status)
			}
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo: the network was not mirrored within 2 minutes (%s); see the logs in %s", last, procs.Dir)
		case err := <-procs.exited:
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Processes are the agent and relay, logging to files in Dir.
type Processes struct {
	Dir    string
	mu     sync.Mutex
	cmds   []*exec.Cmd
	done   []chan struct{}
	exited chan error // the first unexpected exit
}

// Start starts bin with args and env, logging to Dir/name.log.
func (p *Processes) Start(ctx context.Context, name, bin string, args, env []string) error {
	if p.exited == nil {
		p.exited = make(chan error, 1)
	}
	logPath := filepath.Join(p.Dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("demo: starting %s: %w", name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmds = append(p.cmds, cmd)
	p.done = append(p.done, done)
	p.mu.Unlock()
	go func() {
		werr := cmd.Wait()
		if werr == nil {
			werr = errors.New("exit status 0")
		}
		logf.Close()
		close(done)
		if ctx.Err() == nil {
			select {
			case p.exited <- fmt.Errorf("demo: the %s exited (%w); its log %s ends:\n%s", name, werr, logPath, Tail(logPath, 20)):
			default:
			}
		}
	}()
	return nil
}

// Kill kills the i-th process started, at once, and waits for it to end.
func (p *Processes) Kill(i int) error {
	p.mu.Lock()
	cmd, done := p.cmds[i], p.done[i]
	p.mu.Unlock()
	if err := cmd.Process.Kill(); err != nil {
		return err
	}
	<-done
	return nil
}

// Stop sends SIGTERM to every process and waits for it, then SIGKILL.
func (p *Processes) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for i, cmd := range p.cmds {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done[i]:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done[i]
			errs = append(errs, fmt.Errorf("demo: %s did not stop within 10s of SIGTERM", filepath.Base(cmd.Path)))
		}
	}
	return errors.Join(errs...)
}

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
