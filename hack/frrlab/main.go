// Command frrlab brings the FRR test lab of test/frrlab up and down by
// hand:
//
//	go run ./hack/frrlab up      # build the network, wait until converged
//	go run ./hack/frrlab status  # adjacencies and LSDB sizes per router
//	go run ./hack/frrlab down    # remove everything
//
// It needs root and FRR. The daemons keep running after `up` exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

func main() {
	fs := flag.NewFlagSet("frrlab", flag.ExitOnError)
	prefix := fs.String("prefix", "oolab", "name prefix of the lab's namespaces")
	dir := fs.String("dir", "", "lab directory (default $TMPDIR/frrlab/<prefix>)")
	statics := fs.Int("static-routes", 0, "extra /32 static routes redistributed by r4")
	nssa := fs.Bool("nssa", false, "make area 0.0.0.1 an NSSA")
	stubs := fs.String("extra-stubs", "", "extra /32 loopback stubs, e.g. r1=130,r5=10")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: frrlab [flags] up|down|status\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	opts := frrlab.Options{Prefix: *prefix, Dir: *dir, StaticRoutes: *statics, NSSA: *nssa,
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }}
	var err error
	if opts.ExtraStubs, err = parseStubs(*stubs); err != nil {
		fmt.Fprintln(os.Stderr, "frrlab:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch fs.Arg(0) {
	case "up":
		err = up(ctx, opts)
	case "down":
		err = frrlab.Teardown(opts)
	case "status":
		err = status(ctx, opts)
	default:
		fs.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func parseStubs(s string) (map[string]int, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("-extra-stubs: %q: want router=count", kv)
		}
		m[k] = n
	}
	return m, nil
}

func up(ctx context.Context, opts frrlab.Options) error {
	start := time.Now()
	l, err := frrlab.Up(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("lab %s up and converged in %v\n\n", l.Options().Prefix, time.Since(start).Round(time.Millisecond))
	for _, r := range l.Routers() {
		fmt.Printf("%s  router-id %-9s  areas %v\n", r.Name, r.ID, r.Areas)
		fmt.Printf("    vtysh --vty_socket %s\n", r.Dir)
		fmt.Printf("    ip netns exec %s <cmd>    (OSPF API on 127.0.0.1:%d)\n", r.Namespace, frrlab.APIPort)
	}
	fmt.Printf("\nlogs in %s/<router>/*.log; remove with: go run ./hack/frrlab -prefix %s down\n",
		l.Options().Dir, l.Options().Prefix)
	return nil
}

func status(ctx context.Context, opts frrlab.Options) error {
	l, err := frrlab.Attach(frrlab.Options{Prefix: opts.Prefix, Dir: opts.Dir})
	if err != nil {
		return err
	}
	for _, r := range l.Routers() {
		fmt.Printf("%s (%s):\n", r.Name, r.ID)
		ns, err := l.Neighbors(r.Name)
		if err != nil {
			fmt.Printf("    %v\n", err)
			continue
		}
		for _, n := range ns {
			fmt.Printf("    neighbor %-9s %-8s %-8s on %s\n", n.RouterID, n.State, n.Role, n.Interface)
		}
		db, err := l.OSPFDatabaseJSON(r.Name)
		if err != nil {
			fmt.Printf("    %v\n", err)
			continue
		}
		for _, a := range r.Areas {
			ad := db.Areas[a]
			if ad == nil {
				fmt.Printf("    area %s: missing\n", a)
				continue
			}
			fmt.Printf("    area %s: %d router, %d network, %d summary, %d asbr-summary, %d nssa-external LSAs\n",
				a, len(ad.Router), len(ad.Network), len(ad.Summary), len(ad.ASBRSummary), len(ad.NSSAExternal))
		}
		fmt.Printf("    %d AS-external LSAs\n", len(db.External))
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err = l.WaitConverged(cctx)
	var ce *frrlab.ConvergeError
	switch {
	case err == nil:
		fmt.Println("converged")
	case errors.As(err, &ce):
		fmt.Printf("not converged:\n  %s\n", strings.Join(ce.Problems, "\n  "))
	default:
		return err
	}
	return nil
}
