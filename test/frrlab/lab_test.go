//go:build e2e

package frrlab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests in this file run real FRR daemons: they need root and FRR, and
// skip without them (fail with CI=true).

// lsaKey is what identifies an LSA and what these tests compare of it.
type lsaKey struct {
	LSID, AdvRouter netip.Addr
	Prefix          netip.Prefix
}

func externalKeys(es []ExternalLSA) []lsaKey {
	var out []lsaKey
	for _, e := range es {
		out = append(out, lsaKey{e.LSID, e.AdvRouter, e.Prefix})
	}
	return out
}

func summaryKeys(ss []SummaryLSA) []lsaKey {
	var out []lsaKey
	for _, s := range ss {
		p, _ := s.LSID.Prefix(s.Bits)
		out = append(out, lsaKey{s.LSID, s.AdvRouter, p})
	}
	return out
}

func routerIDs(rs []RouterLSA) []netip.Addr {
	var out []netip.Addr
	for _, r := range rs {
		out = append(out, r.AdvRouter)
	}
	return out
}

func TestLab(t *testing.T) {
	t.Parallel()
	start := time.Now()
	l := Start(t, Options{})
	t.Logf("bring-up took %v", time.Since(start).Round(time.Millisecond))

	t.Run("every adjacency is Full and r3 is the LAN's DR", func(t *testing.T) {
		got, err := l.Neighbors("r2")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r2Neighbors, got, equateAddrs); diff != "" {
			t.Errorf("r2 neighbors (-want +got):\n%s", diff)
		}
		got, err = l.Neighbors("r4")
		if err != nil {
			t.Fatal(err)
		}
		var roles []string
		for _, n := range got {
			roles = append(roles, n.RouterID.String()+" "+n.State+"/"+n.Role)
		}
		if diff := cmp.Diff([]string{"10.0.0.2 Full/Backup", "10.0.0.3 Full/DR"}, roles, equateAddrs); diff != "" {
			t.Errorf("r4 neighbors (-want +got):\n%s", diff)
		}
	})

	t.Run("r1 holds every LSA type of the backbone", func(t *testing.T) {
		db, err := l.OSPFDatabaseJSON("r1")
		if err != nil {
			t.Fatal(err)
		}
		if db.RouterID != rid(1) {
			t.Errorf("router ID %s, want 10.0.0.1", db.RouterID)
		}
		if len(db.Areas) != 1 || db.Areas[Backbone] == nil {
			t.Fatalf("areas %v, want only the backbone", db.Areas)
		}
		a := db.Areas[Backbone]
		// r5 is in the backbone through its virtual link.
		if diff := cmp.Diff([]netip.Addr{rid(1), rid(2), rid(3), rid(4), rid(5)}, routerIDs(a.Router), equateAddrs); diff != "" {
			t.Errorf("router LSAs (-want +got):\n%s", diff)
		}
		r2 := a.Router[1]
		wantLinks := []RouterLink{
			{Type: LinkPointToPoint, ID: rid(1), Data: addr4(10, 1, 12, 1), Metric: 10},
			{Type: LinkStub, ID: addr4(10, 1, 12, 0), Data: addr4(255, 255, 255, 254), Metric: 10},
			{Type: LinkPointToPoint, ID: rid(3), Data: addr4(10, 1, 23, 1), Metric: 10},
			{Type: LinkStub, ID: addr4(10, 1, 23, 0), Data: addr4(255, 255, 255, 252), Metric: 10},
			{Type: LinkTransit, ID: addr4(10, 1, 100, 3), Data: addr4(10, 1, 100, 2), Metric: 10},
			{Type: LinkStub, ID: rid(2), Data: addr4(255, 255, 255, 255), Metric: 0},
		}
		if diff := cmp.Diff(wantLinks, r2.Links, equateAddrs); diff != "" {
			t.Errorf("r2's router LSA links (-want +got):\n%s", diff)
		}
		if !a.Router[2].ABR || a.Router[2].ASBR || a.Router[2].Virtual {
			t.Errorf("r3's router LSA: ABR %v ASBR %v V %v, want ABR only", a.Router[2].ABR, a.Router[2].ASBR, a.Router[2].Virtual)
		}
		if a.Router[3].ABR || !a.Router[3].ASBR {
			t.Errorf("r4's router LSA: ABR %v ASBR %v, want ASBR only", a.Router[3].ABR, a.Router[3].ASBR)
		}
		if !a.Router[4].ABR || !a.Router[4].ASBR {
			t.Errorf("r5's router LSA: ABR %v ASBR %v, want both", a.Router[4].ABR, a.Router[4].ASBR)
		}
		// The virtual link is a link of type 4 at each end, its data the
		// end's interface address in the transit area.
		virtual := func(r RouterLSA) []RouterLink {
			var out []RouterLink
			for _, l := range r.Links {
				if l.Type == LinkVirtual {
					out = append(out, l)
				}
			}
			return out
		}
		if diff := cmp.Diff([]RouterLink{{Type: LinkVirtual, ID: rid(5), Data: addr4(10, 1, 35, 1), Metric: 10}},
			virtual(a.Router[2]), equateAddrs); diff != "" {
			t.Errorf("r3's virtual link (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]RouterLink{{Type: LinkVirtual, ID: rid(3), Data: addr4(10, 1, 35, 2), Metric: 10}},
			a.Router[4].Links, equateAddrs); diff != "" {
			t.Errorf("r5's backbone links (-want +got):\n%s", diff)
		}
		if len(a.Network) != 1 {
			t.Fatalf("%d network LSAs, want 1", len(a.Network))
		}
		gotNet := a.Network[0]
		gotNet.LSAHeader = LSAHeader{LSID: gotNet.LSID, AdvRouter: gotNet.AdvRouter}
		wantNet := NetworkLSA{
			LSAHeader:       LSAHeader{LSID: addr4(10, 1, 100, 3), AdvRouter: rid(3)},
			Prefix:          pfx("10.1.100.0/24"),
			AttachedRouters: []netip.Addr{rid(2), rid(3), rid(4)},
		}
		if diff := cmp.Diff(wantNet, gotNet, equateAddrs); diff != "" {
			t.Errorf("network LSA (-want +got):\n%s", diff)
		}
		wantSummaries := []lsaKey{
			{rid(5), rid(3), pfx("10.0.0.5/32")},
			{rid(5), rid(5), pfx("10.0.0.5/32")},
			{addr4(10, 1, 35, 0), rid(3), pfx("10.1.35.0/30")},
			{addr4(10, 1, 35, 0), rid(5), pfx("10.1.35.0/30")},
		}
		if diff := cmp.Diff(wantSummaries, summaryKeys(live(a.Summary)), equateAddrs); diff != "" {
			t.Errorf("summary LSAs (-want +got):\n%s", diff)
		}
		var asbr []netip.Addr
		for _, s := range live(a.ASBRSummary) {
			if s.AdvRouter != rid(3) || s.Metric != 10 {
				t.Errorf("ASBR-summary for %s from %s metric %d, want from r3, metric 10", s.LSID, s.AdvRouter, s.Metric)
			}
			asbr = append(asbr, s.LSID)
		}
		if diff := cmp.Diff([]netip.Addr{rid(5)}, asbr, equateAddrs); diff != "" {
			t.Errorf("ASBR-summary LSAs (-want +got):\n%s", diff)
		}
		wantExt := []lsaKey{
			{addr4(192, 168, 40, 0), rid(4), pfx("192.168.40.0/24")},
			{addr4(192, 168, 41, 0), rid(4), pfx("192.168.41.0/24")},
			{addr4(192, 168, 42, 0), rid(4), pfx("192.168.42.0/24")},
			{addr4(192, 168, 50, 0), rid(5), pfx("192.168.50.0/24")},
		}
		if diff := cmp.Diff(wantExt, externalKeys(db.External), equateAddrs); diff != "" {
			t.Errorf("AS-external LSAs (-want +got):\n%s", diff)
		}
		for _, e := range db.External {
			if e.MetricType != 2 || e.Metric != 20 || e.Forwarding != addr4(0, 0, 0, 0) || e.Tag != RouteTag {
				t.Errorf("external %s: E%d metric %d forwarding %s tag %d, want E2 metric 20 forwarding 0.0.0.0 tag %d",
					e.Prefix, e.MetricType, e.Metric, e.Forwarding, e.Tag, RouteTag)
			}
		}
	})

	t.Run("r5 in area 1 sees r3's summaries of the backbone and both ends of the virtual link", func(t *testing.T) {
		db, err := l.OSPFDatabaseJSON("r5")
		if err != nil {
			t.Fatal(err)
		}
		a := db.Areas[Area1]
		if a == nil || len(db.Areas) != 2 || db.Areas[Backbone] == nil {
			t.Fatalf("areas %v, want 0.0.0.0 (through the virtual link) and 0.0.0.1", db.Areas)
		}
		if diff := cmp.Diff([]netip.Addr{rid(3), rid(5)}, routerIDs(a.Router), equateAddrs); diff != "" {
			t.Errorf("router LSAs (-want +got):\n%s", diff)
		}
		for _, r := range a.Router {
			if !r.ABR || !r.Virtual {
				t.Errorf("router LSA of %s in the transit area: ABR %v V %v, want both", r.AdvRouter, r.ABR, r.Virtual)
			}
		}
		var got []netip.Prefix
		for _, k := range summaryKeys(live(a.Summary)) {
			got = append(got, k.Prefix)
		}
		want := []netip.Prefix{pfx("10.0.0.1/32"), pfx("10.0.0.2/32"), pfx("10.0.0.3/32"), pfx("10.0.0.4/32"),
			pfx("10.1.12.0/31"), pfx("10.1.23.0/30"), pfx("10.1.100.0/24")}
		if diff := cmp.Diff(want, got, equateAddrs); diff != "" {
			t.Errorf("summary prefixes (-want +got):\n%s", diff)
		}
		if asbr := live(a.ASBRSummary); len(asbr) != 1 || asbr[0].LSID != rid(4) {
			t.Errorf("ASBR-summaries %+v, want one for r4", asbr)
		}
		if len(db.External) != 4 {
			t.Errorf("%d AS-external LSAs, want 4", len(db.External))
		}
	})

	t.Run("commands and sockets run inside a router's namespace", func(t *testing.T) {
		out, err := l.Exec("r1", "ip", "-br", "address", "show", "dev", "lo").CombinedOutput()
		if err != nil {
			t.Fatalf("ip in r1: %v: %s", err, out)
		}
		if !strings.Contains(string(out), "10.0.0.1/32") {
			t.Errorf("r1's lo: %q, want 10.0.0.1/32", out)
		}
		err = l.InNamespace("r1", func() error {
			r1, _ := l.Router("r1")
			c, err := net.DialTimeout("tcp", r1.APIAddr().String(), 5*time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		})
		if err != nil {
			t.Errorf("dial r1's OSPF API from its namespace: %v", err)
		}
		if err := l.InNamespace("r9", func() error { return nil }); err == nil {
			t.Error("InNamespace(r9) succeeded, want an error")
		}
	})

	t.Run("a cost changed through vtysh reaches the other routers", func(t *testing.T) {
		if err := l.Configure("r1", "interface eth-r2", "ip ospf cost 55"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			db, err := l.OSPFDatabaseJSON("r4")
			if err != nil {
				t.Fatal(err)
			}
			var metric uint16
			for _, r := range db.Areas[Backbone].Router {
				if r.AdvRouter == rid(1) && len(r.Links) > 0 {
					metric = r.Links[0].Metric
				}
			}
			if metric == 55 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("r4 sees r1's link to r2 with metric %d, want 55", metric)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := l.Configure("r1", "interface eth-r2", "no such command"); err == nil {
			t.Error("Configure with a bad command succeeded, want an error")
		}
	})

	t.Run("ospfd restarts and the lab converges again", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := l.RestartDaemon(ctx, "r4", "ospfd"); err != nil {
			t.Fatal(err)
		}
		if err := l.WaitConverged(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Attach finds the running lab by its prefix", func(t *testing.T) {
		a, err := Attach(Options{Prefix: l.Options().Prefix})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(l.Topology(), a.Topology(), equateAddrs); diff != "" {
			t.Errorf("attached topology (-want +got):\n%s", diff)
		}
		ns, err := a.Neighbors("r1")
		if err != nil || len(ns) != 1 || !ns[0].Full() {
			t.Errorf("attached lab: r1 neighbors %+v, %v; want one Full", ns, err)
		}
		if _, err := Attach(Options{Prefix: "no-such-lab"}); err == nil {
			t.Error("Attach to a lab that does not exist succeeded")
		}
	})

	outer := t
	t.Run("Down removes everything and can be repeated", func(t *testing.T) {
		if outer.Failed() {
			t.Logf("daemon logs before Down:\n%s", l.LogTails())
		}
		prefix, dir := l.Options().Prefix, l.Options().Dir
		if err := l.Down(); err != nil {
			t.Fatal(err)
		}
		assertGone(t, prefix, dir)
		if err := l.Down(); err != nil {
			t.Errorf("second Down: %v", err)
		}
		if _, err := l.Vtysh("r1", "show version"); err == nil {
			t.Error("vtysh on a lab that is down succeeded")
		}
	})
}

func TestLabNSSA(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{NSSA: true})
	r1, err := l.OSPFDatabaseJSON("r1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r1.Areas[Backbone].ASBRSummary); n != 0 {
		t.Errorf("r1: %d ASBR-summary LSAs, want none with area 1 an NSSA", n)
	}
	var translated []ExternalLSA
	for _, e := range r1.External {
		if e.Prefix == pfx("192.168.50.0/24") {
			translated = append(translated, e)
		}
	}
	if len(translated) != 1 || translated[0].AdvRouter != rid(3) || translated[0].Forwarding != addr4(10, 1, 35, 2) {
		t.Errorf("r1: external LSAs for r5's route %+v, want one translated by r3 with forwarding address 10.1.35.2", translated)
	}
	r3, err := l.OSPFDatabaseJSON("r3")
	if err != nil {
		t.Fatal(err)
	}
	nssa := r3.Areas[Area1].NSSAExternal
	if diff := cmp.Diff([]lsaKey{{addr4(192, 168, 50, 0), rid(5), pfx("192.168.50.0/24")}}, externalKeys(nssa), equateAddrs); diff != "" {
		t.Errorf("r3: NSSA-external LSAs of area 1 (-want +got):\n%s", diff)
	}
	if len(nssa) == 1 && (nssa[0].Type != TypeNSSAExternal || nssa[0].Forwarding != addr4(10, 1, 35, 2) || nssa[0].Tag != RouteTag) {
		t.Errorf("r3: NSSA LSA %+v, want type 7 with forwarding address 10.1.35.2 and tag %d", nssa[0], RouteTag)
	}
	if r3.Areas[Backbone] == nil || len(r3.Areas[Backbone].Router) != 4 {
		t.Errorf("r3: backbone %+v, want the four routers of its links (no virtual link through an NSSA)", r3.Areas[Backbone])
	}
	if !slices.ContainsFunc(r3.Areas[Area1].Summary, func(s SummaryLSA) bool { return s.LSID == addr4(0, 0, 0, 0) && s.Bits == 0 }) {
		t.Error("r3: no default summary LSA in the NSSA")
	}
}

// live drops the summaries being flushed: r5 originates some while its
// virtual link comes up, and flushes them; ospfd keeps them a minute at
// MaxAge.
func live(s []SummaryLSA) []SummaryLSA {
	return slices.DeleteFunc(slices.Clone(s), func(x SummaryLSA) bool { return x.Age >= maxAge })
}

// requireLab skips or fails (CI=true) a test that needs root and FRR, as
// Start does.
func requireLab(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: the FRR lab must run)", err)
		}
		t.Skip(err)
	}
}

// assertGone checks that nothing of the lab with prefix is left.
func assertGone(t *testing.T, prefix, dir string) {
	t.Helper()
	for _, ns := range namespaces(prefix) {
		if nsExists(ns) {
			t.Errorf("namespace %s still exists", ns)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("lab directory %s still exists (%v)", dir, err)
	}
}

func TestTeardownRemovesWhatACrashedLabLeft(t *testing.T) {
	requireLab(t)
	t.Parallel()
	prefix := "oolt-" + strconv.Itoa(os.Getpid())
	other := prefix + "-x" // another lab whose prefix extends this one
	for _, ns := range []string{prefix + "-r2", prefix + "-lan", other + "-r1"} {
		if err := runIP(context.Background(), nil, "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = deleteNamespaces([]string{prefix + "-r2", prefix + "-lan", other + "-r1"}) })
	dir := t.TempDir() + "/lab"
	if err := os.MkdirAll(dir+"/r2", 0o755); err != nil {
		t.Fatal(err)
	}
	// A process left running in the lab, as a daemon of a killed test
	// would be.
	sleeper := exec.Command("ip", "netns", "exec", prefix+"-r2", "sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()
	t.Cleanup(func() { _ = sleeper.Process.Kill() })
	deadline := time.Now().Add(5 * time.Second)
	for len(nsProcs([]string{prefix + "-r2"})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sleep never appeared in the namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if err := Teardown(Options{Prefix: prefix, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	assertGone(t, prefix, dir)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Error("the process in the lab's namespace survived Teardown")
	}
	if !nsExists(other + "-r1") {
		t.Errorf("Teardown(%s) removed %s-r1 of another lab", prefix, other)
	}
	if err := Teardown(Options{Prefix: prefix, Dir: dir}); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
}

func TestSweepStaleRemovesLabsOfDeadProcesses(t *testing.T) {
	requireLab(t)
	t.Parallel()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := strings.ReplaceAll("oolab-PID-1-r1", "PID", strconv.Itoa(dead.Process.Pid))
	mine := strings.ReplaceAll("oolab-PID-999-r1", "PID", strconv.Itoa(os.Getpid()))
	for _, ns := range []string{stale, mine} {
		if err := runIP(context.Background(), nil, "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = deleteNamespaces([]string{stale, mine}) })
	if err := SweepStale(); err != nil {
		t.Fatal(err)
	}
	if nsExists(stale) {
		t.Errorf("%s of a dead process survived SweepStale", stale)
	}
	if !nsExists(mine) {
		t.Errorf("SweepStale removed %s of this live process", mine)
	}
}

// A lab that stops converging says which router's LSA is wrong and shows
// that router's interfaces, addresses and own Router-LSA.
func TestConvergeErrorDescribesTheRouter(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{})
	if out, err := l.Exec("r3", "ip", "addr", "del", "10.0.0.3/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("remove r3's loopback address: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	err := l.WaitConverged(ctx)
	ce, ok := errors.AsType[*ConvergeError](err)
	if !ok {
		t.Fatalf("WaitConverged: %v, want a *ConvergeError", err)
	}
	msg := ce.Error()
	for _, want := range []string{
		"router LSA of 10.0.0.3 has",
		"--- r3: show ip ospf interface",
		"--- r3: show ip ospf database router self-originate",
		"Link State ID: 10.0.0.3",
		"--- r3: ip -br addr",
		"lan0",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("ConvergeError lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(ce.State, "--- r1:") {
		t.Errorf("ConvergeError describes r1, whose LSAs are right:\n%s", ce.State)
	}
}
