package topo_test

import (
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// The path and what-if goals are for NYC x10 (5,920 routers): at most
// 50 ms each. Build is paid once per view; the queries reuse the graph.
func BenchmarkNYCx10(b *testing.B) {
	v := nycView(b, 10)
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			topo.Build(v)
		}
	})
	g := topo.Build(v)
	// The router farthest from 10.69.7.31 (the copies of the LSDB are
	// not connected to each other).
	from := "10.69.7.31"
	root, _ := g.Router(ip(from))
	tree := g.SPF(root, false, topo.NoFailure)
	far := root
	for v, d := range tree.Dist {
		if g.Vertices[v].Kind == topo.RouterVertex && d > tree.Dist[far] {
			far = int32(v)
		}
	}
	to := g.ID(far)
	if ans, err := g.Path(from, to); err != nil || !ans.Reachable {
		b.Fatalf("path %s -> %s: %v %+v", from, to, err, ans)
	}
	b.Run("path", func(b *testing.B) {
		for b.Loop() {
			if _, err := g.Path(from, to); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("path-prefix", func(b *testing.B) {
		for b.Loop() {
			if _, err := g.Path(from, "10.70.76.0/24"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whatif", func(b *testing.B) {
		for b.Loop() {
			if _, err := g.WhatIf(from, "10.69.7.31-10.68.29.50"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The map's layout is computed once per server (then only new vertices are
// placed): NYC and NYC x10 from scratch.
func BenchmarkLayout(b *testing.B) {
	for _, copies := range []int{1, 10} {
		g := topo.Build(nycView(b, copies))
		b.Run(map[int]string{1: "NYC", 10: "NYCx10"}[copies], func(b *testing.B) {
			for b.Loop() {
				g.Layout(nil)
			}
		})
	}
}
