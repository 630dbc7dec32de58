//go:build e2e

package e2e

// The conformance test against the seed: the Python ospf-stream-client
// (../shared/seed, run by its run-seed.py) and `ospf-operator stream`,
// with the same flags, follow the same fake ospfd serving the NYC Mesh
// LSDB through the same scripted changes, and must write the same bytes:
// the minute snapshot and the current snapshot (but for "updated"), the
// event lines on stdout and in the hourly archive (but for the
// timestamps, which each stamps at its own arrival), at the same paths.
//
// It needs Debian's /usr/bin/python3 with the seed's packages
// (internal/seedref), neither root nor FRR; it skips without them, and
// fails under CI=true. It takes one to two minutes: the seed writes its
// snapshots by cron, at each minute, and the test waits for the first
// minute boundary after its script (and after every withdrawal's
// 10-second TTL and hold-down) to compare them.

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/seedref"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// seedClient is one of the two clients under comparison.
type seedClient struct {
	name   string
	cmd    *exec.Cmd
	stderr streamtest.LockedBuffer
	events string // --events-path-prefix
	snaps  string // --snapshots-path-prefix
	done   chan struct{}

	mu     sync.Mutex
	stdout []string
}

// startClient starts argv with the seed's flags under root/name.
func startClient(t *testing.T, name, root string, env []string, argv ...string) *seedClient {
	t.Helper()
	c := &seedClient{name: name, events: filepath.Join(root, name, "events"),
		snaps: filepath.Join(root, name, "history", "a", "b"), done: make(chan struct{})}
	for _, d := range []string{c.events, c.snaps} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	argv = append(argv, "--events-path-prefix", c.events, "--snapshots-path-prefix", c.snaps)
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stderr = &c.stderr
	startLines(t, c.cmd, c.done, func(line string) {
		c.mu.Lock()
		c.stdout = append(c.stdout, line)
		c.mu.Unlock()
	})
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop interrupts the client and waits for it (and its stdout) to end.
func (c *seedClient) stop(t *testing.T) {
	t.Helper()
	if c.cmd.ProcessState != nil {
		return
	}
	_ = stopLines(c.cmd, syscall.SIGINT, c.done)
	if t.Failed() {
		t.Logf("%s's stderr:\n%s", c.name, c.stderr.String())
	}
}

func (c *seedClient) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.stdout)
}

// fakeOnLoopback starts the fake ospfd on port 2607, where the seed
// always connects, of a loopback address of its own (127.0.0.2 and up),
// so that it collides with neither a real ospfd nor another test. A
// process that listens on port 2607 of every address (FRR's ospfd does)
// takes it on all of them: the test then waits for it, for a minute.
func fakeOnLoopback(t *testing.T, lsas []ospfapitest.AreaLSA) (*ospfapitest.Server, string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		start := 2 + rand.IntN(200)
		for i := range 20 {
			host := fmt.Sprintf("127.0.0.%d", start+i)
			// Connecting back from its own address, as ospfd does from
			// the one the client reached: ours accepts no other.
			srv, err := ospfapitest.NewServer(ospfapitest.Config{ListenAddr: host + ":2607",
				AsyncSource: netip.MustParseAddr(host)}, lsas)
			if err == nil {
				t.Cleanup(srv.Close)
				return srv, host
			}
			last = err
		}
	}
	out, _ := exec.Command("ss", "-ltnp", "sport = :2607").CombinedOutput()
	t.Fatalf("no loopback address with port 2607 free for a minute: %v\n%s", last, out)
	return nil, ""
}

// timestampRE is an event line's timestamp, which each client stamps at
// its own arrival of the LSA.
var timestampRE = regexp.MustCompile(`^\{"timestamp": ([0-9]+), `)

// untimed splits an event line into the line with its timestamp replaced
// by 0 and the timestamp.
func untimed(t *testing.T, line string) (string, int64) {
	t.Helper()
	m := timestampRE.FindStringSubmatchIndex(line)
	if m == nil {
		t.Fatalf("not an event line: %q", line)
	}
	ts, _ := strconv.ParseInt(line[m[2]:m[3]], 10, 64)
	return line[:m[2]] + "0" + line[m[3]:], ts
}

// sameEvents compares two clients' event lines: byte for byte but for
// the timestamps, as multisets (the seed's own order within one LSA's
// change is that of a Python set), and each line's timestamps pairwise
// within a second of the other client's.
func sameEvents(t *testing.T, what string, seed, ours []string) {
	t.Helper()
	group := func(lines []string) map[string][]int64 {
		m := map[string][]int64{}
		for _, l := range lines {
			u, ts := untimed(t, l)
			m[u] = append(m[u], ts)
		}
		return m
	}
	s, o := group(seed), group(ours)
	for _, l := range slices.Sorted(func(yield func(string) bool) {
		for k := range s {
			if !yield(k) {
				return
			}
		}
		for k := range o {
			if _, ok := s[k]; !ok && !yield(k) {
				return
			}
		}
	}) {
		st, ot := slices.Sorted(slices.Values(s[l])), slices.Sorted(slices.Values(o[l]))
		if len(st) != len(ot) {
			t.Errorf("%s: %d times in the seed's, %d in ours: %s", what, len(st), len(ot), l)
			continue
		}
		for i := range st {
			if d := st[i] - ot[i]; d < -1000 || d > 1000 {
				t.Errorf("%s: timestamps %d (seed) and %d (ours) of %s", what, st[i], ot[i], l)
			}
		}
	}
}

// files returns the regular files under dir by path relative to it,
// leaving out hidden ones (ours keeps its position files there).
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var updatedRE = regexp.MustCompile(`, "updated": [0-9]+\}$`)

// withoutUpdated is a snapshot file with "updated" 0.
func withoutUpdated(t *testing.T, name string, data []byte) string {
	t.Helper()
	s := string(data)
	if !updatedRE.MatchString(s) {
		t.Fatalf("%s does not end with an integer \"updated\": %.80q", name, s[max(0, len(s)-80):])
	}
	return updatedRE.ReplaceAllString(s, `, "updated": 0}`)
}

func TestSeedConformance(t *testing.T) {
	seed := seedref.Require(t)
	bin := buildOperator(t)
	lsas, err := ospfapitest.LoadSnapshotFile("../../testdata/nycmesh-lsdb-2023-04-29.json", ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, host := fakeOnLoopback(t, lsas)
	root := t.TempDir()
	// TZ=UTC: the seed names its files in the host's local time, ours in UTC.
	env := []string{"TZ=UTC", "PYTHONUNBUFFERED=1"}
	seedC := startClient(t, "seed", root, env, seed.Python, seed.Run, "--server", host)
	ours := startClient(t, "ours", root, env, bin, "stream", "--server", host)
	for _, c := range []*seedClient{seedC, ours} {
		waitUntil(t, 30*time.Second, c.name+" to load the LSDB",
			func() bool { return strings.Contains(c.stderr.String(), "LSDB loaded") },
			func() string { return c.stderr.String() })
	}
	loaded := time.Now()

	// The script. Each step changes another LSA, or the same one at
	// least a second later (the seed drops what comes sooner); nothing
	// touches the seed's known bugs (README.txt).
	kinds := pickRouters(t, srv)
	a0 := netip.IPv4Unspecified()
	step := func(what string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(1200 * time.Millisecond)
	}
	rKey := func(id netip.Addr) ospfapitest.Key {
		return ospfapitest.Key{Area: a0, Type: ospf.RouterLSAType, LSID: id, AdvRouter: id}
	}
	// A past hour's event: an external whose LS age puts its origin 30 s
	// before this hour began (LS age stays under MaxAge, 3600 s).
	hourStart := time.Now().UTC().Truncate(time.Hour)
	if time.Since(hourStart) > 3600*time.Second-40*time.Second {
		time.Sleep(time.Until(hourStart.Add(time.Hour + time.Second)))
		hourStart = hourStart.Add(time.Hour)
	}
	pastAge := uint16(time.Since(hourStart)/time.Second) + 30
	past := &ospf.ExternalLSA{Header: ospf.Header{Age: pastAge, Options: 0x02, Type: ospf.ASExternalLSAType,
		LSID: netip.MustParseAddr("198.18.1.0"), AdvRouter: kinds.b, SeqNum: ospf.InitialSeqNum},
		Mask: netip.MustParseAddr("255.255.255.0"), Metric: 5, Forward: netip.MustParseAddr("0.0.0.0")}
	newRouter := netip.MustParseAddr("10.255.0.1")
	nrLSA := &ospf.RouterLSA{Header: ospf.Header{Age: 1, Options: 0x02, Type: ospf.RouterLSAType,
		LSID: newRouter, AdvRouter: newRouter, SeqNum: ospf.InitialSeqNum},
		Links: []ospf.RouterLink{{Type: ospf.LinkPointToPoint, ID: kinds.a, Data: newRouter, Metric: 7},
			{Type: ospf.LinkStub, ID: netip.MustParseAddr("10.255.0.0"), Data: netip.MustParseAddr("255.255.255.0"), Metric: 1}}}
	leafRaw, _ := srv.Raw(rKey(kinds.leaf))
	leaf, err := ospf.Decode(leafRaw)
	if err != nil {
		t.Fatal(err)
	}
	extRaw, _ := srv.Raw(kinds.ext)
	ext, err := ospf.Decode(extRaw)
	if err != nil {
		t.Fatal(err)
	}

	step("a metric change", func() error { return srv.SetLinkMetric(a0, kinds.a, kinds.aP2P, 77) })
	step("a stub link removed", func() error {
		return srv.Change(rKey(kinds.a), func(l ospf.LSA) error {
			rl := l.(*ospf.RouterLSA)
			rl.Links = slices.Delete(rl.Links, kinds.aStub, kinds.aStub+1)
			return nil
		})
	})
	addLink := func(from, to netip.Addr) func() error {
		return func() error {
			return srv.Change(rKey(from), func(l ospf.LSA) error {
				rl := l.(*ospf.RouterLSA)
				rl.Links = append(rl.Links, ospf.RouterLink{Type: ospf.LinkPointToPoint, ID: to, Data: from, Metric: 12})
				return nil
			})
		}
	}
	step("a link added", addLink(kinds.b, kinds.c))
	step("its other end", addLink(kinds.c, kinds.b))
	step("a router joins a LAN", func() error {
		return srv.Change(kinds.net, func(l ospf.LSA) error {
			nl := l.(*ospf.NetworkLSA)
			nl.Attached = append(nl.Attached, kinds.b)
			return nil
		})
	})
	step("an external added", func() error {
		return srv.AddExternal(kinds.b, netip.MustParsePrefix("198.18.0.0/24"), 20, true, netip.MustParseAddr("10.70.76.9"))
	})
	step("a past hour's external", func() error { return srv.Install(a0, past) })
	step("a new router", func() error { return srv.Install(a0, nrLSA) })
	step("its external", func() error {
		return srv.AddExternal(newRouter, netip.MustParsePrefix("198.18.2.0/23"), 3, false, netip.Addr{})
	})
	// Withdrawn and back within the TTL and hold-down: no event, and it
	// keeps its place.
	step("an external removed", func() error { return srv.Remove(kinds.ext) })
	step("and back", func() error { return srv.Install(a0, ext) })
	// Gone for good, then back: last.
	step("a leaf router removed", func() error { return srv.Remove(rKey(kinds.leaf)) })
	step("an external withdrawn", func() error { return srv.WithdrawExternal(kinds.extRouter, kinds.extPrefix) })
	time.Sleep(12 * time.Second) // the seed's TTL (10 s, checked every second) and our hold-down (10 s)
	step("the router back", func() error { return srv.Install(a0, leaf) })
	step("the router leaves the LAN", func() error {
		return srv.Change(kinds.net, func(l ospf.LSA) error {
			nl := l.(*ospf.NetworkLSA)
			nl.Attached = slices.DeleteFunc(nl.Attached, func(a netip.Addr) bool { return a == kinds.b })
			return nil
		})
	})
	scriptEnd := time.Now()

	// The first minute at least 3 s after the script: both write their
	// snapshot then, from the same LSDB.
	minute := scriptEnd.Add(3 * time.Second).Truncate(time.Minute).Add(time.Minute)
	time.Sleep(time.Until(minute.Add(4 * time.Second)))
	seedC.stop(t)
	ours.stop(t)
	if !minute.After(loaded) {
		t.Fatal("the script took no time")
	}

	// Snapshots: the minute file and the current one, byte for byte but
	// for "updated"; the same minute files (those after both loaded).
	name := minute.UTC().Format("2006/01/02/15/04") + ".json"
	sf, of := files(t, seedC.snaps), files(t, ours.snaps)
	for _, c := range []struct {
		name       string
		seed, ours []byte
	}{
		{name, sf[name], of[name]},
		{"mesh_ospf_data.json", readFile(t, filepath.Join(seedC.snaps, "..", "..", "mesh_ospf_data.json")),
			readFile(t, filepath.Join(ours.snaps, "..", "..", "mesh_ospf_data.json"))},
	} {
		if c.seed == nil || c.ours == nil {
			t.Errorf("%s: the seed wrote %d bytes, ours %d", c.name, len(c.seed), len(c.ours))
			continue
		}
		s, o := withoutUpdated(t, "seed's "+c.name, c.seed), withoutUpdated(t, "our "+c.name, c.ours)
		if s != o {
			i := 0
			for i < min(len(s), len(o)) && s[i] == o[i] {
				i++
			}
			t.Errorf("%s differs from the seed's at byte %d:\n seed: …%s\n ours: …%s", c.name, i,
				s[max(0, i-200):min(len(s), i+200)], o[max(0, i-200):min(len(o), i+200)])
		}
	}
	firstBoth := loaded.Add(time.Minute).Truncate(time.Minute)
	var sm, om []string
	for p := range sf {
		if t, err := time.Parse("2006/01/02/15/04.json", p); err == nil && !t.Before(firstBoth) {
			sm = append(sm, p)
		}
	}
	for p := range of {
		if t, err := time.Parse("2006/01/02/15/04.json", p); err == nil && !t.Before(firstBoth) {
			om = append(om, p)
		}
	}
	slices.Sort(sm)
	slices.Sort(om)
	if !slices.Equal(sm, om) {
		t.Errorf("minute files: the seed's %v, ours %v", sm, om)
	}

	// Events: stdout, and each hourly file, at the same paths.
	if len(seedC.lines()) < 15 {
		t.Errorf("the seed printed %d events: %q", len(seedC.lines()), seedC.lines())
	}
	sameEvents(t, "stdout", seedC.lines(), ours.lines())
	se, oe := files(t, seedC.events), files(t, ours.events)
	if got, want := slices.Sorted(mapKeys(oe)), slices.Sorted(mapKeys(se)); !slices.Equal(got, want) {
		t.Errorf("hourly files: ours %v, the seed's %v", got, want)
	}
	for p, data := range se {
		sameEvents(t, p, splitLines(data), splitLines(oe[p]))
	}
	pastFile := hourStart.Add(-time.Hour).Format("2006/01/02/15") + ".jsonl"
	if !bytes.Contains(oe[pastFile], []byte(`"198.18.1.0/24"`)) {
		t.Errorf("the past hour's event is not in %s: %v", pastFile, slices.Sorted(mapKeys(oe)))
	}
	t.Logf("script from %s to %s; compared the snapshots of %s (%d bytes), %d minute files, %d event lines on stdout, %d hourly files (%v)",
		loaded.Format(time.TimeOnly), scriptEnd.Format(time.TimeOnly), minute.Format(time.TimeOnly), len(of[name]), len(om),
		len(ours.lines()), len(oe), slices.Sorted(mapKeys(oe)))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
	}
	return data
}

func splitLines(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// scriptRouters are the LSAs the script changes, chosen in the LSDB.
type scriptRouters struct {
	a           netip.Addr // a router with a point-to-point and a stub link
	aP2P, aStub int        // their indexes
	b, c        netip.Addr // two routers without a link between them
	leaf        netip.Addr // a router that goes and comes back
	net         ospfapitest.Key
	ext         ospfapitest.Key // an external withdrawn and back within the TTL
	extRouter   netip.Addr      // and one withdrawn for good
	extPrefix   netip.Prefix
}

func pickRouters(t *testing.T, srv *ospfapitest.Server) scriptRouters {
	t.Helper()
	var s scriptRouters
	var routers []*ospf.RouterLSA
	var exts []*ospf.ExternalLSA
	for _, al := range srv.LSAs() {
		switch l := al.LSA.(type) {
		case *ospf.RouterLSA:
			routers = append(routers, l)
		case *ospf.NetworkLSA:
			if !s.net.LSID.IsValid() {
				s.net = ospfapitest.KeyOf(al.Area, l)
			}
		case *ospf.ExternalLSA:
			exts = append(exts, l)
		}
	}
	// links are the indexes of r's links of type typ that have no twin
	// (the seed's diff is of sets: it sees no change when one of two
	// identical links goes, where ours does).
	links := func(r *ospf.RouterLSA, typ uint8) []int {
		var out []int
		for i, l := range r.Links {
			twins := 0
			for _, m := range r.Links {
				// What the seed's link shows: id (and the mask of a stub) and metric.
				if m.Type == l.Type && m.ID == l.ID && m.Metric == l.Metric && (l.Type != ospf.LinkStub || m.Data == l.Data) {
					twins++
				}
			}
			if l.Type == typ && twins == 1 {
				out = append(out, i)
			}
		}
		return out
	}
	linksTo := func(r *ospf.RouterLSA, id netip.Addr) bool {
		return slices.ContainsFunc(r.Links, func(l ospf.RouterLink) bool { return l.ID == id })
	}
	var bLSA *ospf.RouterLSA
	used := map[netip.Addr]bool{}
	for _, r := range routers {
		if p, st := links(r, ospf.LinkPointToPoint), links(r, ospf.LinkStub); len(p) > 0 && len(st) > 0 && !s.a.IsValid() {
			s.a, s.aP2P, s.aStub = r.AdvRouter, p[0], st[0]
			used[s.a] = true
		}
	}
	for _, r := range routers {
		if used[r.AdvRouter] || len(links(r, ospf.LinkTransit)) > 0 {
			continue
		}
		switch {
		case !s.b.IsValid():
			s.b, bLSA = r.AdvRouter, r
		case !s.c.IsValid() && !linksTo(r, s.b) && !linksTo(bLSA, r.AdvRouter):
			s.c = r.AdvRouter
		case s.c.IsValid() && !s.leaf.IsValid() && len(r.Links) > 0:
			s.leaf = r.AdvRouter
		}
		used[r.AdvRouter] = true
	}
	if len(exts) < 2 || !s.a.IsValid() || !s.c.IsValid() || !s.leaf.IsValid() || !s.net.LSID.IsValid() {
		t.Fatalf("the LSDB lacks what the script needs: %+v", s)
	}
	s.ext = ospfapitest.KeyOf(netip.IPv4Unspecified(), exts[0])
	x := exts[len(exts)-1]
	s.extRouter = x.AdvRouter
	s.extPrefix = netip.PrefixFrom(x.LSID, maskLen(x.Mask))
	return s
}

func maskLen(m netip.Addr) int {
	b := m.As4()
	n := 0
	for _, x := range b {
		for x&0x80 != 0 {
			n++
			x <<= 1
		}
	}
	return n
}
