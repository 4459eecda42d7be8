package route

import (
	"slices"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/sublist"
)

// The forwarding rule. A message published by a client of this server goes:
//   - to every route whose peer has a matching plain subscription, once, whatever the number
//     of such subscriptions there (the peer fans out to its own);
//   - for each queue group matching here or on any peer, to exactly one member cluster-wide:
//     one draw over all members, local ones counting one each and a peer's counting its
//     advertised weight (the members behind its RS+), which is nats-server's rule, so a
//     group spreads its load evenly over every member of the cluster. With
//     Config.PreferLocalQueue a group with a member here keeps the message here instead
//     (less traffic between servers, uneven load; the wording asked for it, so both
//     exist and the engine chooses);
//   - a route that gets the message for a queue group is told the group's name in the RMSG,
//     and delivers it to one of its own members of that group only.
//
// A message that came in over a route is never forwarded (the mesh is full, every server
// heard the publisher's server directly): the receiving server delivers to its plain
// subscriptions and, for each group the RMSG names, to one local member, or to none if its
// members went meanwhile (nats-server would pass it on to another route then; a second hop
// is a loop risk this package rules out, so the message is dropped, as it would be if the
// group had gone everywhere).

// LocalGroup is a queue group with members on this server that match the message.
type LocalGroup struct {
	Name    string
	Members int
}

// Plan is where one message goes besides this server's plain subscriptions.
type Plan struct {
	// Local lists the queue groups whose one member is to be picked here (the engine picks it).
	Local []string
	// Routes get the message, in connection order.
	Routes []Target

	names []string // forward's scratch
}

// Target is one route that gets a message: its peer delivers to its plain subscriptions and
// to one member of each group in Queues (sorted; nil when only plain ones matched).
type Target struct {
	Conn   ConnID
	Queues []string
}

func (p *Plan) reset() {
	p.Local, p.Routes = p.Local[:0], p.Routes[:0]
}

// target returns the plan's entry for conn, adding it.
func (p *Plan) target(conn ConnID) *Target {
	for i := range p.Routes {
		if p.Routes[i].Conn == conn {
			return &p.Routes[i]
		}
	}
	if n := len(p.Routes); n < cap(p.Routes) {
		p.Routes = p.Routes[:n+1] // reuse the slot and its Queues' memory
		t := &p.Routes[n]
		t.Conn, t.Queues = conn, t.Queues[:0]
		return t
	}
	p.Routes = append(p.Routes, Target{Conn: conn})
	return &p.Routes[len(p.Routes)-1]
}

// forward fills plan for a message on a literal subject of an account published here, given
// the groups matched here and the remote interest. draw(n) returns a uniform value in [0, n).
func forward(remote *sublist.Result, local []LocalGroup, preferLocal bool, draw func(int) int, plan *Plan) {
	plan.reset()
	if remote != nil {
		for _, s := range remote.Plain {
			plan.target(s.Owner.(*remoteSub).conn)
		}
	}
	plan.names = groupNames(plan.names[:0], remote, local)
	for _, name := range plan.names {
		members := localMembers(local, name)
		if preferLocal && members > 0 {
			plan.Local = append(plan.Local, name)
			continue
		}
		if conn, ok := pickMember(members, remoteGroup(remote, name), draw); ok {
			t := plan.target(conn)
			t.Queues = append(t.Queues, name)
		} else {
			plan.Local = append(plan.Local, name)
		}
	}
	slices.SortFunc(plan.Routes, func(a, b Target) int { return int(a.Conn) - int(b.Conn) })
}

// pickMember draws one member of a group: local members first in the numbering, then each
// remote entry's weight in the order given. It returns the chosen route, or ok false when
// the draw fell on a local member.
func pickMember(local int, remote []*sublist.Sub, draw func(int) int) (conn ConnID, ok bool) {
	total := local
	for _, s := range remote {
		total += s.Owner.(*remoteSub).weight
	}
	env.Assertf(total > 0, "route: queue group matched with no members")
	n := draw(total)
	env.Assertf(n >= 0 && n < total, "route: draw %d outside [0, %d)", n, total)
	if n < local {
		return 0, false
	}
	n -= local
	for _, s := range remote {
		rs := s.Owner.(*remoteSub)
		if n < rs.weight {
			return rs.conn, true
		}
		n -= rs.weight
	}
	panic("route: queue draw ran past the members")
}

// groupNames returns the names of every group matched here or remotely, sorted.
func groupNames(names []string, remote *sublist.Result, local []LocalGroup) []string {
	for _, g := range local {
		if g.Members > 0 {
			names = append(names, g.Name)
		}
	}
	if remote != nil {
		for _, g := range remote.Groups {
			names = append(names, g.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func localMembers(local []LocalGroup, name string) int {
	n := 0
	for _, g := range local {
		if g.Name == name {
			n += g.Members
		}
	}
	return n
}

func remoteGroup(remote *sublist.Result, name string) []*sublist.Sub {
	if remote == nil {
		return nil
	}
	for _, g := range remote.Groups {
		if g.Name == name {
			return g.Subs
		}
	}
	return nil
}
