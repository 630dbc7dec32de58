// Command demo is `make demo`: a real FRR network in network namespaces
// mirrored into a local Kubernetes API server by the ospf-operator agent,
// with the relay serving the stream and the live page, until Ctrl-C. See
// internal/demo. It needs root and FRR, and the binary and the envtest API
// server that `make demo` builds first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ospf-operator/ospf-operator/internal/demo"
)

func main() {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("bin", "k8s", "1.37.2")
	}
	var opts demo.Options
	flag.StringVar(&opts.Binary, "binary", filepath.Join("bin", "ospf-operator"), "the ospf-operator binary")
	flag.StringVar(&opts.Assets, "assets", assets, "directory of kube-apiserver and etcd (KUBEBUILDER_ASSETS)")
	flag.StringVar(&opts.Manifest, "manifest", filepath.Join("config", "manager", "daemonset.yaml"), "the DaemonSet whose arguments the agent and relay run with")
	flag.StringVar(&opts.CRDs, "crds", filepath.Join("config", "crd", "bases"), "directory of the CRDs")
	flag.StringVar(&opts.Dir, "dir", filepath.Join("bin", "demo"), "directory for the kubeconfig, logs and the stream archive")
	flag.StringVar(&opts.Router, "router", "r3", "the lab router (r1..r5) whose ospfd the agent follows")
	flag.IntVar(&opts.PortOffset, "port-offset", 0, "added to every port of the manifest (9620-9623)")
	flag.StringVar(&opts.Prefix, "prefix", "oodemo", "names the lab's network namespaces (PREFIX-r1 ...)")
	preflight := flag.Bool("preflight", false, "only check that this machine can run the demo (root, FRR)")
	flag.Parse()
	if *preflight {
		if err := demo.Preflight(); err != nil {
			fmt.Fprintln(os.Stderr, "make demo:", err)
			os.Exit(1)
		}
		return
	}

	// Ctrl-C, kill, a closed terminal (SIGHUP) and a lost standard output
	// all stop the demo the same way: it cleans up everything it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	out := newOutput(os.Stdout, stop)
	opts.Out = out
	if err := demo.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	fmt.Fprintln(out, "Cleaned up.")
}
