package frrlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A Node is an FRR router in the host's own network namespace, zebra and
// ospfd (with its OSPF API on the host's port 2607), peered with a lab
// router over a veth pair: the machine as a Kubernetes node that runs FRR,
// whose host-network pods reach ospfd on 127.0.0.1 as in production.
//
// Daemons in the host's namespace could touch the machine itself, so a
// Node is built to leave it as it was:
//   - StartNode refuses to start when another FRR daemon runs in the host's
//     namespace, when port 2607 is taken, when the kernel holds a route or
//     nexthop of one of FRR's protocols (zebra's start-up sweep would
//     delete it), or when the link's prefix overlaps an address or route of
//     the host;
//   - zebra installs no route into the host's kernel, and no nexthop
//     object (`no zebra nexthop kernel enable`): a route-map denies
//     every OSPF route at the FIB (`ip protocol ospf route-map`), so the
//     lab's prefixes never shadow the host's own (the routes stay in
//     zebra's RIB, where ospfd needs nothing of them); StartNode checks the
//     kernel after convergence, and zebra does not turn on IP forwarding;
//   - Stop, Lab.Down and Teardown (after a crash, from the pid files)
//     stop the daemons, delete the veth pair, remove any route or nexthop
//     of FRR's protocols left in the kernel, and report it as an error.
//
// The OSPF API listens on every host address while the node runs (FRR 8.4
// has no option to bind it), as on a real node: firewall port 2607.
type Node struct {
	lab  *Lab
	opts NodeOptions
	r    Router
	area netip.Addr

	daemons []*daemon // ospfd after zebra
	stopped bool
}

// NodeOptions configure a Node. The zero value is a valid default.
type NodeOptions struct {
	// Peer is the lab router at the other end of the node's link.
	// Default "r1".
	Peer string
	// Interface is the host's end of the link and PeerInterface the
	// router's, in its namespace. Defaults "frrlab-node" and "eth-node".
	Interface, PeerInterface string
	// Link is the link's prefix, a /30 or a /31: the host takes its first
	// address, the peer the next. Default 10.254.0.0/30.
	Link netip.Prefix
	// RouterID is the node's OSPF router ID. Default the host's address on
	// the link.
	RouterID netip.Addr
}

// nodeName is the node's directory under the lab's and its name in errors.
const nodeName = "node"

// nodeStateFile, in the node's directory, records its options so that
// Teardown can remove it after a crash.
const nodeStateFile = "node.json"

// nodeDaemons are the node's daemons in start order: no staticd.
var nodeDaemons = []string{"zebra", "ospfd"}

// frrRouteProtocols are the kernel route protocols of FRR's daemons
// (RTPROT_ZEBRA and /etc/iproute2/rt_protos.d/frr.conf): zebra owns, and
// at start-up sweeps, every route and nexthop of these.
var frrRouteProtocols = []int{11, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198}

// noKernelRouteMap is the route-map that keeps OSPF routes out of the
// host's kernel.
const noKernelRouteMap = "NODE-NO-KERNEL"

func (o NodeOptions) withDefaults() (NodeOptions, error) {
	if o.Peer == "" {
		o.Peer = "r1"
	}
	if o.Interface == "" {
		o.Interface = "frrlab-node"
	}
	if o.PeerInterface == "" {
		o.PeerInterface = "eth-node"
	}
	if !o.Link.IsValid() {
		o.Link = netip.MustParsePrefix("10.254.0.0/30")
	}
	o.Link = o.Link.Masked()
	if !o.Link.Addr().Is4() || o.Link.Bits() < 30 || o.Link.Bits() > 31 {
		return o, fmt.Errorf("frrlab: node link %s: want an IPv4 /30 or /31", o.Link)
	}
	for _, name := range []string{o.Interface, o.PeerInterface} {
		if len(name) > 15 || !prefixRE.MatchString(name) {
			return o, fmt.Errorf("frrlab: node interface %q: want 1-15 of [a-zA-Z0-9_-]", name)
		}
	}
	if !o.RouterID.IsValid() {
		o.RouterID = o.hostAddr()
	}
	return o, nil
}

// hostAddr and peerAddr are the link's two addresses.
func (o NodeOptions) hostAddr() netip.Addr {
	if o.Link.Bits() == 31 {
		return o.Link.Addr()
	}
	return o.Link.Addr().Next()
}

func (o NodeOptions) peerAddr() netip.Addr { return o.hostAddr().Next() }

// Addr is the host's address on the node's link: where the lab reaches
// the node (the Kubernetes node's InternalIP in the cluster test).
func (n *Node) Addr() netip.Addr { return n.opts.hostAddr() }

// PeerAddr is the peer router's address on the link.
func (n *Node) PeerAddr() netip.Addr { return n.opts.peerAddr() }

// Router describes the node as a router: its name ("node"), router ID and
// directory; its Namespace is empty, the host's.
func (n *Node) Router() Router { return n.r }

// Area is the node's OSPF area, its peer's loopback area.
func (n *Node) Area() netip.Addr { return n.area }

// StartNode starts the lab's node and returns once it is adjacent to its
// peer and holds the same LSDB. A lab has at most one node, and a machine
// too (the host's namespace has room for one zebra). If StartNode fails it
// removes what it created.
func (l *Lab) StartNode(ctx context.Context, opts NodeOptions) (*Node, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	peer, err := l.Router(opts.Peer)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	switch {
	case l.down:
		l.mu.Unlock()
		return nil, errLabDown
	case l.node != nil:
		l.mu.Unlock()
		return nil, errors.New("frrlab: the lab's node runs already")
	}
	n := &Node{lab: l, opts: opts, area: l.topo.loopbackArea(peer.Name),
		r: Router{Name: nodeName, ID: opts.RouterID, Dir: filepath.Join(l.opts.Dir, nodeName), Areas: []netip.Addr{l.topo.loopbackArea(peer.Name)}}}
	l.node = n
	l.mu.Unlock()
	if err := checkHost(ctx, l.bin, opts); err != nil {
		l.forgetNode(n)
		return nil, err
	}
	if err := n.start(ctx, peer); err != nil {
		return nil, errors.Join(err, n.Stop())
	}
	return n, nil
}

func (l *Lab) forgetNode(n *Node) {
	l.mu.Lock()
	if l.node == n {
		l.node = nil
	}
	l.mu.Unlock()
}

func (n *Node) start(ctx context.Context, peer Router) error {
	start := time.Now()
	if err := n.writeFiles(); err != nil {
		return err
	}
	o := n.opts
	if err := runIP(ctx, fmt.Appendf(nil, "link add %s type veth peer name %s netns %s\naddress add %s dev %s\nlink set %s up\n",
		o.Interface, o.PeerInterface, peer.Namespace, netip.PrefixFrom(o.hostAddr(), o.Link.Bits()), o.Interface, o.Interface),
		"-batch", "-"); err != nil {
		return err
	}
	if err := runIP(ctx, fmt.Appendf(nil, "address add %s dev %s\nlink set %s up\n",
		netip.PrefixFrom(o.peerAddr(), o.Link.Bits()), o.PeerInterface, o.PeerInterface), "-n", peer.Namespace, "-batch", "-"); err != nil {
		return err
	}
	if err := n.lab.Configure(peer.Name, nodeInterfaceConfig(o.PeerInterface, n.area)...); err != nil {
		return err
	}
	for _, name := range nodeDaemons {
		_ = os.Remove(vtySock(n.r, name))
		d, err := startDaemon(ctx, n.lab.bin, n.r, name)
		if err != nil {
			return err
		}
		n.daemons = append(n.daemons, d)
	}
	if err := n.waitSynced(ctx, peer); err != nil {
		return err
	}
	// The route-map must hold: OSPF routes in zebra's RIB, none in the
	// kernel.
	if left := frrKernelRoutes(); len(left) > 0 {
		return fmt.Errorf("frrlab: the node's zebra installed routes into the host's kernel despite route-map %s: %s",
			noKernelRouteMap, strings.Join(left, "; "))
	}
	n.lab.opts.logf("frrlab: node %s (host %s) adjacent to %s and synced in %v", o.RouterID, o.hostAddr(), peer.Name,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// nodeInterfaceConfig puts ifname into area as a point-to-point OSPF
// interface with the lab's timers.
func nodeInterfaceConfig(ifname string, area netip.Addr) []string {
	return []string{
		"interface " + ifname,
		"ip ospf area " + area.String(),
		"ip ospf network point-to-point",
		fmt.Sprintf("ip ospf hello-interval %d", helloInterval),
		fmt.Sprintf("ip ospf dead-interval %d", deadInterval),
		fmt.Sprintf("ip ospf retransmit-interval %d", retransmitInterval),
		"exit",
	}
}

// writeFiles creates the node's directory, owned by the daemons' user,
// with its configs and state file.
func (n *Node) writeFiles() error {
	u, err := user.Lookup(daemonUser)
	if err != nil {
		return fmt.Errorf("frrlab: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.MkdirAll(n.r.Dir, 0o755); err != nil {
		return fmt.Errorf("frrlab: %w", err)
	}
	if err := os.Chown(n.r.Dir, uid, gid); err != nil {
		return fmt.Errorf("frrlab: %w", err)
	}
	state, err := json.Marshal(n.opts)
	if err != nil {
		return err
	}
	// zebra: no `ip forwarding`, which would switch the host's on, no OSPF
	// route into the host's kernel, and no kernel nexthop objects (zebra
	// makes them even for the host's own routes).
	zebra := fmt.Sprintf("frr defaults traditional\nhostname %s\nno zebra nexthop kernel enable\n!\n"+
		"route-map %s deny 10\nexit\n!\nip protocol ospf route-map %s\n!\n",
		nodeName, noKernelRouteMap, noKernelRouteMap)
	var ospfd bytes.Buffer
	fmt.Fprintf(&ospfd, "frr defaults traditional\nhostname %s\n!\n", nodeName)
	ospfd.WriteString(strings.Join(nodeInterfaceConfig(n.opts.Interface, n.area), "\n "))
	fmt.Fprintf(&ospfd, "\n!\nrouter ospf\n ospf router-id %s\n", n.opts.RouterID)
	ospfd.WriteString(" timers throttle spf 0 50 500\n timers throttle lsa all 0\n timers lsa min-arrival 0\nexit\n!\n")
	for name, data := range map[string][]byte{
		nodeStateFile:          append(state, '\n'),
		confFile(n.r, "zebra"): []byte(zebra),
		confFile(n.r, "ospfd"): ospfd.Bytes(),
	} {
		if !filepath.IsAbs(name) {
			name = filepath.Join(n.r.Dir, name)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return fmt.Errorf("frrlab: %w", err)
		}
	}
	return nil
}

// waitSynced waits until the node's adjacency with peer is Full and both
// report the same LSAs (counts and checksum sums) in the node's area and
// the AS-external ones.
func (n *Node) waitSynced(ctx context.Context, peer Router) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last string
	for {
		if err := n.checkDaemons(); err != nil {
			return err
		}
		if why, err := n.notSynced(ctx, peer); err != nil {
			last = err.Error()
		} else if why == "" {
			return nil
		} else {
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("frrlab: node not synced with %s: %s: %w\n%s", peer.Name, last, ctx.Err(), n.LogTails())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (n *Node) notSynced(ctx context.Context, peer Router) (string, error) {
	var nbrs jsonNeighbors
	out, err := vtysh(ctx, n.r, "show ip ospf neighbor json")
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal([]byte(out), &nbrs); err != nil {
		return "", err
	}
	ns, err := nbrs.neighbors()
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(ns, func(nb Neighbor) bool { return nb.RouterID == peer.ID && nb.Full() }) {
		return fmt.Sprintf("adjacency with %s not Full: %v", peer.Name, ns), nil
	}
	var mine, theirs jsonInstance
	if err := n.VtyshJSON("show ip ospf json", &mine); err != nil {
		return "", err
	}
	if err := n.lab.VtyshJSON(peer.Name, "show ip ospf json", &theirs); err != nil {
		return "", err
	}
	a := n.area.String()
	ma, ta := mine.Areas[a], theirs.Areas[a]
	ma.NbrFullAdjacentCounter, ta.NbrFullAdjacentCounter = 0, 0 // their own adjacencies
	if ma != ta || mine.LSAExternalCounter != theirs.LSAExternalCounter || mine.LSAExternalChecksum != theirs.LSAExternalChecksum {
		return fmt.Sprintf("LSDBs differ: node area %s %+v, %d externals; %s %+v, %d externals", a, ma, mine.LSAExternalCounter,
			peer.Name, ta, theirs.LSAExternalCounter), nil
	}
	return "", nil
}

// Vtysh runs the commands in one vtysh session with the node's daemons.
func (n *Node) Vtysh(cmds ...string) (string, error) {
	return vtysh(context.Background(), n.r, cmds...)
}

// VtyshJSON runs one show command ending in "json" on the node and
// decodes its output into v.
func (n *Node) VtyshJSON(cmd string, v any) error {
	out, err := n.Vtysh(cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("frrlab: %s on the node: %w", cmd, err)
	}
	return nil
}

// OSPFDatabaseJSON returns the node's LSDB as its ospfd shows it (see
// Lab.OSPFDatabaseJSON): what an agent on the node mirrors.
func (n *Node) OSPFDatabaseJSON() (*Database, error) {
	out, err := n.Vtysh(databaseCommands...)
	if err != nil {
		return nil, err
	}
	db, err := parseDatabase([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("frrlab: database of the node: %w", err)
	}
	return db, nil
}

// LogTails returns the end of the node's daemons' output and logs.
func (n *Node) LogTails() string {
	var b strings.Builder
	for _, name := range nodeDaemons {
		b.WriteString(daemonOutput(n.r, name))
	}
	return b.String()
}

func (n *Node) checkDaemons() error {
	for _, d := range n.daemons {
		if d.exited() {
			return &DaemonError{Router: nodeName, Daemon: d.name, Err: fmt.Errorf("exited: %w", d.err), Output: daemonOutput(n.r, d.name)}
		}
	}
	return nil
}

// Stop stops the node's daemons, deletes its link, and removes what FRR
// left in the host's kernel (an error if anything). It can be called more
// than once.
func (n *Node) Stop() error {
	n.lab.mu.Lock()
	if n.stopped {
		n.lab.mu.Unlock()
		return nil
	}
	n.stopped = true
	ds := n.daemons
	n.daemons = nil
	n.lab.mu.Unlock()
	// ospfd first, so that it leaves the adjacency and zebra withdraws
	// what it holds.
	for i := len(ds) - 1; i >= 0; i-- {
		ds[i].stop(stopGrace)
	}
	err := teardownNode(n.r.Dir)
	n.lab.forgetNode(n)
	return err
}

// teardownNode removes the node whose directory is dir, if any: its
// daemons (from their pid files, when not stopped already), its link, and
// the routes and nexthops of FRR's protocols in the host's kernel, then
// the directory.
func teardownNode(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, nodeStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var errs []error
	var opts NodeOptions
	if err == nil {
		err = json.Unmarshal(data, &opts)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("frrlab: node state: %w", err))
	}
	r := Router{Name: nodeName, Dir: dir}
	for _, name := range []string{"ospfd", "zebra"} {
		if err := killByPidFile(pidFile(r, name), name); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.Interface != "" {
		if _, err := net.InterfaceByName(opts.Interface); err == nil {
			if err := runIP(context.Background(), nil, "link", "del", opts.Interface); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if left := frrKernelRoutes(); len(left) > 0 {
		errs = append(errs, fmt.Errorf("frrlab: the node left routes in the host's kernel (removed now): %s", strings.Join(left, "; ")))
		errs = append(errs, removeFRRKernelRoutes())
	}
	if len(errs) == 0 {
		errs = append(errs, os.RemoveAll(dir))
	}
	return errors.Join(errs...)
}

// killByPidFile ends the process named in file if it is still the daemon
// name (a pid may have been reused): SIGTERM, then SIGKILL.
func killByPidFile(file, name string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return nil
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != name || !processAlive(pid) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(stopGrace)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
			for processAlive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if processAlive(pid) {
				return fmt.Errorf("frrlab: node %s (pid %d) does not exit", name, pid)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// checkHost refuses to start a node where it could disturb the machine:
// see Node.
func checkHost(ctx context.Context, bin string, o NodeOptions) error {
	var problems []string
	if pids := hostFRRDaemons(bin); len(pids) > 0 {
		problems = append(problems, fmt.Sprintf("FRR daemons run in the host's network namespace already (pids %v)", pids))
	}
	if ln, err := net.Listen("tcp", ":"+strconv.Itoa(APIPort)); err != nil {
		problems = append(problems, fmt.Sprintf("port %d is taken in the host's network namespace: %v", APIPort, err))
	} else {
		_ = ln.Close()
	}
	if left := frrKernelRoutes(); len(left) > 0 {
		problems = append(problems, "the host's kernel holds routes of FRR's protocols, which a zebra would delete: "+strings.Join(left, "; "))
	}
	if _, err := net.InterfaceByName(o.Interface); err == nil {
		problems = append(problems, "interface "+o.Interface+" exists in the host's network namespace")
	}
	if clash, err := hostPrefixClash(ctx, o.Link); err != nil {
		problems = append(problems, err.Error())
	} else if clash != "" {
		problems = append(problems, fmt.Sprintf("the node's link %s overlaps the host's %s", o.Link, clash))
	}
	if len(problems) > 0 {
		return fmt.Errorf("frrlab: not starting an FRR node in the host's network namespace: %s", strings.Join(problems, "; "))
	}
	return nil
}

// hostFRRDaemons returns the pids of processes in this process's network
// namespace that run one of FRR's daemons from bin.
func hostFRRDaemons(bin string) []int {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil || ns != self {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && filepath.Dir(exe) == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ipJSON runs ip -j -N (numeric protocols) with args and decodes a list.
func ipJSON(ctx context.Context, args ...string) ([]map[string]any, error) {
	out, err := exec.CommandContext(ctx, "ip", append([]string{"-j", "-N"}, args...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	var list []map[string]any
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	return list, nil
}

// frrKernelRoutes lists the host's routes and nexthops whose protocol is
// one of FRR's, in every table and family.
func frrKernelRoutes() []string {
	var out []string
	for what, q := range map[string][]string{
		"IPv4 route": {"-4", "route", "show", "table", "all"},
		"IPv6 route": {"-6", "route", "show", "table", "all"},
		"nexthop":    {"nexthop", "show"},
	} {
		list, err := ipJSON(context.Background(), q...)
		if err != nil {
			// Kernels without nexthop objects say so; routes always work.
			continue
		}
		for _, e := range list {
			p, _ := strconv.Atoi(fmt.Sprint(e["protocol"]))
			if slices.Contains(frrRouteProtocols, p) {
				out = append(out, fmt.Sprintf("%s %s proto %d", what, describe(e), p))
			}
		}
	}
	return out
}

func describe(e map[string]any) string {
	var parts []string
	for _, k := range []string{"id", "dst", "gateway", "dev", "table"} {
		if v, ok := e[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

// removeFRRKernelRoutes flushes the routes and nexthops of FRR's protocols.
func removeFRRKernelRoutes() error {
	var errs []error
	for _, p := range frrRouteProtocols {
		for _, fam := range []string{"-4", "-6"} {
			if err := exec.Command("ip", fam, "route", "flush", "table", "all", "proto", strconv.Itoa(p)).Run(); err != nil {
				errs = append(errs, fmt.Errorf("ip %s route flush proto %d: %w", fam, p, err))
			}
		}
	}
	if list, err := ipJSON(context.Background(), "nexthop", "show"); err == nil {
		for _, e := range list {
			p, _ := strconv.Atoi(fmt.Sprint(e["protocol"]))
			if slices.Contains(frrRouteProtocols, p) {
				if err := exec.Command("ip", "nexthop", "del", "id", fmt.Sprint(e["id"])).Run(); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if left := frrKernelRoutes(); len(left) > 0 {
		errs = append(errs, fmt.Errorf("frrlab: routes of FRR's protocols still in the host's kernel: %s", strings.Join(left, "; ")))
	}
	return errors.Join(errs...)
}

// hostPrefixClash returns an address or route of the host that overlaps
// p, "" when none does. The default routes overlap everything and are
// left out.
func hostPrefixClash(ctx context.Context, p netip.Prefix) (string, error) {
	addrs, err := ipJSON(ctx, "-4", "addr", "show")
	if err != nil {
		return "", err
	}
	for _, l := range addrs {
		infos, _ := l["addr_info"].([]any)
		for _, i := range infos {
			info, _ := i.(map[string]any)
			a, err := netip.ParseAddr(fmt.Sprint(info["local"]))
			bits, _ := info["prefixlen"].(float64)
			if err == nil && netip.PrefixFrom(a, int(bits)).Masked().Overlaps(p) {
				return fmt.Sprintf("address %s/%d on %v", a, int(bits), l["ifname"]), nil
			}
		}
	}
	routes, err := ipJSON(ctx, "-4", "route", "show", "table", "all")
	if err != nil {
		return "", err
	}
	for _, r := range routes {
		dst := fmt.Sprint(r["dst"])
		if dst == "default" {
			continue
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if q, err := netip.ParsePrefix(dst); err == nil && q.Overlaps(p) {
			return "route " + describe(r), nil
		}
	}
	return "", nil
}
