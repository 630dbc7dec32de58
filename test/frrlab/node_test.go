//go:build e2e

package frrlab

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNode starts an FRR node in the host's network namespace beside a lab
// (not in parallel with other tests: it is the machine's only one): it
// peers with r1, holds r1's LSDB, serves the OSPF API on the host's
// loopback, and puts nothing into the host's kernel; a second node and a
// taken API port are refused; Teardown removes a node whose process
// crashed, and the lab's Down one that still runs.
func TestNode(t *testing.T) {
	l := Start(t, Options{})
	forwarding, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := l.StartNode(ctx, NodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Addr().String() != "10.254.0.1" || n.PeerAddr().String() != "10.254.0.2" || n.Router().ID != n.Addr() {
		t.Errorf("node at %s, peer %s, router ID %s", n.Addr(), n.PeerAddr(), n.Router().ID)
	}

	// The same LSDB as r1, the node's own Router-LSA in it.
	mine, err := n.OSPFDatabaseJSON()
	if err != nil {
		t.Fatal(err)
	}
	r1, err := l.OSPFDatabaseJSON("r1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := routerIDs(mine.Areas[Backbone].Router), routerIDs(r1.Areas[Backbone].Router); !slices.Equal(got, want) {
		t.Errorf("node's backbone routers %v, r1's %v", got, want)
	}
	if !slices.Contains(routerIDs(mine.Areas[Backbone].Router), n.Router().ID) {
		t.Errorf("no Router-LSA of the node in %v", routerIDs(mine.Areas[Backbone].Router))
	}
	if got, want := externalKeys(mine.External), externalKeys(r1.External); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("node's external LSAs %v, r1's %v", got, want)
	}

	// The OSPF API, where a host-network pod finds it.
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(APIPort), 5*time.Second)
	if err != nil {
		t.Errorf("the node's OSPF API on 127.0.0.1:%d: %v", APIPort, err)
	} else {
		conn.Close()
	}

	// Routes in zebra's RIB, none in the host's kernel. ospfd computes
	// external routes some time after the LSDB is synced (its SPF and
	// ASE timers), so the route is waited for.
	var rib map[string]any
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		rib = nil
		if err := n.VtyshJSON("show ip route ospf json", &rib); err != nil {
			t.Fatal(err)
		}
		if _, ok := rib["192.168.40.0/24"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("r4's 192.168.40.0/24 not in the node's RIB after 15s: %v", rib)
			break
		}
	}
	if left := frrKernelRoutes(); len(left) > 0 {
		t.Errorf("routes of FRR in the host's kernel: %v", left)
	}
	if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(now) != string(forwarding) {
		t.Errorf("ip_forward %q while the node runs, %q before", now, forwarding)
	}

	// One node per lab, and per machine.
	if _, err := l.StartNode(ctx, NodeOptions{}); err == nil || !strings.Contains(err.Error(), "runs already") {
		t.Errorf("a second node: %v", err)
	}
	o, _ := NodeOptions{Interface: "frrlab-node2", Link: mustPrefix(t, "10.254.0.4/30")}.withDefaults()
	if err := checkHost(ctx, l.bin, o); err == nil ||
		!strings.Contains(err.Error(), "FRR daemons run in the host's network namespace") || !strings.Contains(err.Error(), "port 2607") {
		t.Errorf("a node beside a running one: %v", err)
	}
	o, _ = NodeOptions{Interface: "frrlab-node2", Link: mustPrefix(t, "127.0.0.0/30")}.withDefaults()
	if err := checkHost(ctx, l.bin, o); err == nil || !strings.Contains(err.Error(), "overlaps the host's address 127.0.0.1/8") {
		t.Errorf("a node on the host's loopback prefix: %v", err)
	}

	// A crash: the test process gone, its daemons left running, as a
	// killed test leaves them. Teardown by prefix removes them.
	pids := hostFRRDaemons(l.bin)
	if len(pids) != 2 {
		t.Fatalf("node daemons %v, want zebra and ospfd", pids)
	}
	if err := teardownNode(n.Router().Dir); err != nil {
		t.Fatal(err)
	}
	assertNodeGone(t, n)
	if err := n.Stop(); err != nil {
		t.Errorf("Stop after Teardown: %v", err)
	}

	// Again, removed by the lab's Down this time.
	n, err = l.StartNode(ctx, NodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Down(); err != nil {
		t.Fatal(err)
	}
	assertNodeGone(t, n)
}

func assertNodeGone(t *testing.T, n *Node) {
	t.Helper()
	if pids := hostFRRDaemons(n.lab.bin); len(pids) > 0 {
		t.Errorf("node daemons left: %v", pids)
	}
	if _, err := net.InterfaceByName(n.opts.Interface); err == nil {
		t.Errorf("interface %s left", n.opts.Interface)
	}
	if _, err := os.Stat(n.Router().Dir); err == nil {
		t.Errorf("%s left", n.Router().Dir)
	}
	if left := frrKernelRoutes(); len(left) > 0 {
		t.Errorf("routes left: %v", left)
	}
}

func TestNodeOptions(t *testing.T) {
	for _, o := range []NodeOptions{
		{Link: mustPrefix(t, "10.254.0.0/29")},
		{Link: mustPrefix(t, "fd00::/127")},
		{Interface: "an-interface-name-too-long"},
		{PeerInterface: "bad name"},
	} {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	o, err := NodeOptions{Link: mustPrefix(t, "10.254.0.7/31")}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.hostAddr().String() != "10.254.0.6" || o.peerAddr().String() != "10.254.0.7" || o.RouterID != o.hostAddr() {
		t.Errorf("a /31: host %s peer %s router ID %s", o.hostAddr(), o.peerAddr(), o.RouterID)
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
