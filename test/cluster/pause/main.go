// Command pause is the pod sandbox of the test cluster (test/cluster): it
// holds the pod's namespaces and sleeps until SIGTERM or SIGINT, as
// Kubernetes' pause image does. No registry is reachable in the tests, so
// the cluster test builds it and imports it into containerd.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	// Reap the zombies of the pod's processes, as PID 1 of a shared PID
	// namespace must.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGCHLD)
	<-sig
}
