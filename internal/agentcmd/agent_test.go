package agentcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/cli"
	"github.com/ospf-operator/ospf-operator/internal/controller"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// execute runs the agent's command, set up as ospf-operator-agent sets it
// up, with args and returns stdout, stderr and the error Execute returned.
func execute(args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	root := NewCommand("dev")
	cli.Setup(root, &stdout, &stderr)
	root.SetArgs(args)
	err := root.Execute()
	return stdout.String(), stderr.String(), err
}

// TestAgentFlags pins the agent's flags and defaults that the DaemonSet,
// the demo and the README rely on.
func TestAgentFlags(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ns-from-env")
	t.Setenv("POD_NAME", "pod-from-env")
	cmd := NewCommand("dev")
	cli.Setup(cmd, &bytes.Buffer{}, &bytes.Buffer{})
	for flag, def := range map[string]string{
		"server":                    "127.0.0.1",
		"leader-elect":              "false",
		"ws-listen":                 "",
		"metrics-bind-address":      ":9620",
		"metrics-secure":            "true",
		"health-probe-bind-address": ":9621",
		"namespace":                 "ns-from-env",
		"pod-name":                  "pod-from-env",
		"kubeconfig":                "",
		"holddown":                  "10s",
		"max-inline-externals":      "1000",
		"snapshot-interval":         "10s",
		"kube-api-qps":              "0",
		"kube-api-burst":            "0",
		"leader-elect-lease-name":   controller.DefaultLeaseName,
		"agreement-grace-period":    "30s",
	} {
		f := cmd.Flags().Lookup(flag)
		if f == nil {
			t.Errorf("agent has no flag --%s", flag)
			continue
		}
		if f.DefValue != def {
			t.Errorf("--%s: default %q, want %q", flag, f.DefValue, def)
		}
	}
}

func TestClientRate(t *testing.T) {
	tests := []struct {
		name      string
		qps       float32
		burst     int
		apf       bool
		wantQPS   float32
		wantBurst int
	}{
		{"API Priority and Fairness paces the client", 0, 0, true, -1, 0},
		{"a cap asked for is kept", 50, 0, true, 50, 100},
		{"a cap with its burst", 50, 80, false, 50, 80},
		{"no APF: the fallback rate", 0, 0, false, fallbackQPS, 2 * fallbackQPS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qps, burst := clientRate(tt.qps, tt.burst, tt.apf)
			if qps != tt.wantQPS || burst != tt.wantBurst {
				t.Errorf("clientRate(%v, %d, %v) = %v, %d; want %v, %d", tt.qps, tt.burst, tt.apf, qps, burst, tt.wantQPS, tt.wantBurst)
			}
		})
	}
}

// writeKubeconfig writes a kubeconfig for an API server at server, with
// no credentials, and returns its path.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server +
		"\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAgentBadInvocations(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	t.Setenv("KUBECONFIG", "")
	dead := streamtest.FreeAddr(t)
	unreachable := writeKubeconfig(t, "https://"+dead)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no namespace: set --namespace or POD_NAMESPACE"},
		{[]string{"--namespace=ns", "--holddown=-1s"}, "must not be negative"},
		{[]string{"--namespace=ns", "--max-inline-externals=20000"}, "at most 10000"},
		{[]string{"--namespace=ns", "--kubeconfig=" + unreachable}, "cannot reach the Kubernetes API server at https://" + dead},
		{[]string{"--namespace=ns", "--kubeconfig=/no/such/kubeconfig"}, "/no/such/kubeconfig"},
	}
	for _, tt := range tests {
		_, stderr, err := execute(tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: error %v, stderr %q; want both to contain %q", tt.args, err, stderr, tt.want)
		}
	}
}
