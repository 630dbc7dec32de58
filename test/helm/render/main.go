// Command render prints the Helm chart's objects, CRDs first, as `helm
// template RELEASE CHART --namespace NS --include-crds --set ...` does,
// with Helm's own libraries: the cluster test (test/cluster) installs the
// chart with it, since no helm binary is needed anywhere else.
package main

import (
	"flag"
	"fmt"
	"log"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/strvals"
)

type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	dir := flag.String("chart", "../../charts/ospf-operator", "the chart's directory")
	release := flag.String("release", "ospf-operator", "the release name")
	namespace := flag.String("namespace", "ospf-operator-system", "the release namespace")
	var sets, setStrings setFlags
	flag.Var(&sets, "set", "a value, as helm --set (repeatable)")
	flag.Var(&setStrings, "set-string", "a string value, as helm --set-string (repeatable)")
	flag.Parse()
	if err := render(*dir, *release, *namespace, sets, setStrings); err != nil {
		log.Fatalf("render: %v", err)
	}
}

func render(dir, release, namespace string, sets, setStrings []string) error {
	charter, err := loader.Load(dir)
	if err != nil {
		return err
	}
	ch, ok := charter.(*chart.Chart)
	if !ok {
		return fmt.Errorf("%s: not a v2 chart", dir)
	}
	values := map[string]any{}
	for _, s := range sets {
		if err := strvals.ParseInto(s, values); err != nil {
			return fmt.Errorf("--set %s: %w", s, err)
		}
	}
	for _, s := range setStrings {
		if err := strvals.ParseIntoString(s, values); err != nil {
			return fmt.Errorf("--set-string %s: %w", s, err)
		}
	}
	vals, err := chartutil.ToRenderValues(ch, values,
		common.ReleaseOptions{Name: release, Namespace: namespace, IsInstall: true, Revision: 1}, common.DefaultCapabilities)
	if err != nil {
		return err
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		return err
	}
	for _, f := range ch.CRDObjects() {
		fmt.Printf("---\n%s\n", f.File.Data)
	}
	names := make([]string, 0, len(out))
	for name := range out {
		if strings.HasSuffix(name, ".yaml") && strings.TrimSpace(out[name]) != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Printf("---\n# Source: %s\n%s\n", name, out[name])
	}
	return nil
}
