// Command ospf-operator-agent is the agent of ospf-operator: it mirrors an
// FRR ospfd's LSDB into Kubernetes (OSPFRouter and OSPFNetwork resources,
// the ospf-lsdb ConfigMap, Events) and serves the event stream to the
// relay. `ospf-operator agent ARGS` runs it as `ospf-operator-agent ARGS`.
//
// It is a binary of its own because it links Kubernetes' client
// libraries, whose package initialisation the other commands would pay at
// every start (internal/cli).
package main

import (
	"io"
	"os"

	"github.com/ospf-operator/ospf-operator/internal/agentcmd"
	"github.com/ospf-operator/ospf-operator/internal/cli"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the agent with args (without the program's name) and returns the
// exit status: 0, 2 for bad usage, 1 for any other error. A leading
// "agent", as in the image's `/ospf-operator agent ARGS` with the
// entrypoint replaced, is the command's own name and is dropped.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "agent" {
		args = args[1:]
	}
	root := agentcmd.NewCommand(version)
	cli.Setup(root, stdout, stderr)
	return cli.Execute(root, args)
}
