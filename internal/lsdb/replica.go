package lsdb

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// Replica rebuilds another database's view from a View of it and the
// changes that follow it on its feed (Feed.SubscribeAll, or a relay's
// /v1/stream). The seed's events only move its position; the state records
// carry the state of what changed, so its view equals the database's at the
// end of every commit, including what no event shows (a router without
// links, a DR change, flags, tags). It is not safe for concurrent use.
type Replica struct {
	seq   uint64
	areas map[netip.Addr]*replicaArea
}

type replicaArea struct {
	routers  map[netip.Addr]*RouterView
	networks map[netip.Prefix]*NetworkView
}

// NewReplica returns a replica holding v, at v.Seq.
func NewReplica(v *View) *Replica {
	r := &Replica{seq: v.Seq, areas: make(map[netip.Addr]*replicaArea, len(v.Areas))}
	for i := range v.Areas {
		a := &v.Areas[i]
		ra := r.area(a.ID)
		for j := range a.Routers {
			ra.routers[a.Routers[j].ID] = &a.Routers[j]
		}
		for j := range a.Networks {
			ra.networks[a.Networks[j].Prefix] = &a.Networks[j]
		}
	}
	return r
}

func (r *Replica) area(id netip.Addr) *replicaArea {
	a := r.areas[id]
	if a == nil {
		a = &replicaArea{routers: map[netip.Addr]*RouterView{}, networks: map[netip.Prefix]*NetworkView{}}
		r.areas[id] = a
	}
	return a
}

// Seq is the sequence number of the last change applied.
func (r *Replica) Seq() uint64 { return r.seq }

// Apply applies changes in order. Each must carry the sequence number
// after the previous one: a gap means changes were lost, and Apply fails
// without applying that change or any after it (the replica must start
// again from a View).
func (r *Replica) Apply(evs ...Event) error {
	for i := range evs {
		ev := &evs[i]
		if ev.Seq != r.seq+1 {
			return fmt.Errorf("lsdb: replica at %d cannot apply change %d: changes %d..%d are missing",
				r.seq, ev.Seq, r.seq+1, ev.Seq-1)
		}
		switch ev.Entity {
		case EntityRouterState:
			if !ev.Area.Is4() || !ev.Router.Is4() || ev.RouterState != nil && ev.RouterState.ID != ev.Router {
				return fmt.Errorf("lsdb: replica: change %d: malformed router state", ev.Seq)
			}
			if ev.RouterState == nil {
				if a := r.areas[ev.Area]; a != nil {
					delete(a.routers, ev.Router)
					r.dropIfEmpty(ev.Area, a)
				}
			} else {
				r.area(ev.Area).routers[ev.Router] = ev.RouterState
			}
		case EntityNetworkState:
			if !ev.Area.Is4() || !ev.Network.IsValid() || ev.NetworkState != nil && ev.NetworkState.Prefix != ev.Network {
				return fmt.Errorf("lsdb: replica: change %d: malformed network state", ev.Seq)
			}
			if ev.NetworkState == nil {
				if a := r.areas[ev.Area]; a != nil {
					delete(a.networks, ev.Network)
					r.dropIfEmpty(ev.Area, a)
				}
			} else {
				r.area(ev.Area).networks[ev.Network] = ev.NetworkState
			}
		}
		r.seq = ev.Seq
	}
	return nil
}

func (r *Replica) dropIfEmpty(id netip.Addr, a *replicaArea) {
	if len(a.routers) == 0 && len(a.networks) == 0 {
		delete(r.areas, id)
	}
}

// View returns the replica's view, taken at now.
func (r *Replica) View(now time.Time) *View {
	v := &View{Seq: r.seq, Updated: now, Areas: make([]AreaView, 0, len(r.areas))}
	for _, aid := range slices.SortedFunc(maps.Keys(r.areas), netip.Addr.Compare) {
		a := r.areas[aid]
		av := AreaView{ID: aid, Routers: make([]RouterView, 0, len(a.routers)), Networks: make([]NetworkView, 0, len(a.networks))}
		for _, id := range slices.SortedFunc(maps.Keys(a.routers), netip.Addr.Compare) {
			av.Routers = append(av.Routers, *a.routers[id])
		}
		for _, p := range slices.SortedFunc(maps.Keys(a.networks), comparePrefixes) {
			av.Networks = append(av.Networks, *a.networks[p])
		}
		v.Areas = append(v.Areas, av)
	}
	return v
}
