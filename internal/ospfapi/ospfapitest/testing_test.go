package ospfapitest_test

import (
	"net"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// TestNYCIsAFreshCopy: tests change the LSAs NYC returns (a router given
// more links, a slice cut short), so no call may see another's changes.
func TestNYCIsAFreshCopy(t *testing.T) {
	a := ospfapitest.NYC(t)
	if len(a) < 1000 {
		t.Fatalf("NYC has %d LSAs, want the whole NYC Mesh LSDB", len(a))
	}
	var changed *ospf.RouterLSA
	for _, al := range a {
		if rl, ok := al.LSA.(*ospf.RouterLSA); ok {
			changed = rl
			break
		}
	}
	if changed == nil {
		t.Fatal("no Router-LSA")
	}
	id, links := changed.AdvRouter, len(changed.Links)
	changed.Links = append(changed.Links, ospf.RouterLink{Type: ospf.LinkStub, Metric: 1})
	a[len(a)-1] = ospfapitest.AreaLSA{}

	b := ospfapitest.NYC(t)
	if len(b) != len(a) || b[len(b)-1].LSA == nil {
		t.Fatal("the second call sees the first's slice")
	}
	for _, al := range b {
		if rl, ok := al.LSA.(*ospf.RouterLSA); ok && rl.AdvRouter == id {
			if rl == changed || len(rl.Links) != links {
				t.Fatalf("the second call sees the first's Router-LSA of %s (%d links, want %d)", id, len(rl.Links), links)
			}
			return
		}
	}
	t.Fatalf("the second call has no Router-LSA of %s", id)
}

// TestStartClosesWhenTheTestEnds: the server Start returns answers, and is
// closed once the (sub)test that started it ends.
func TestStartClosesWhenTheTestEnds(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) {
		addr = ospfapitest.Start(t, ospfapitest.Config{}, nil).Addr()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial the started server: %v", err)
		}
		c.Close()
	})
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("the server at %s still accepts after its test ended", addr)
	}
}
