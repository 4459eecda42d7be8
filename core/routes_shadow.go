package core

import (
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/route"
)

// Stream imports across the cluster. A subscription in an account that imports streams is
// interest in the exporter too (nats-server's shadow subscriptions): the Router derives it
// from each subscription it is told of, through shadowsOf, and announces it to the routes
// as interest in the exporting account; the server that receives the exporter's message
// follows the import to the subscriber (routes.deliver).

// setShadows gives the Router the stream imports of the account set in force (at start, and
// after every reload installs a new one); the Router withdraws and announces what changed.
func (rt *routes) setShadows(set *account.Set) {
	fn := shadowsOf(set)
	rt.step(func(r *route.Router) { r.SetShadows(fn) })
}

// shadowsOf is the Router's Shadows for set, as its accounts' imports are now (nil without
// stream imports: a cluster without them pays nothing). It follows chains: a subscription
// in C, which imports from B what B imports from A, is interest in B and in A.
func shadowsOf(set *account.Set) route.Shadows {
	routes := map[string]*account.Routes{}
	for _, name := range set.Names() {
		if r := set.Get(name).Routes(); r.HasStreamImports() {
			routes[name] = r
		}
	}
	if len(routes) == 0 {
		return nil
	}
	return func(acc, subj string) []route.Interest {
		var out []route.Interest
		var scratch []account.Interest
		next := []account.Interest{{Account: acc, Subject: subj}}
		for hops := 0; len(next) > 0; hops++ {
			if hops > maxImportHops { // load refuses cycles
				panic("core: stream imports from account " + acc + " chain past the hop limit")
			}
			scratch = scratch[:0]
			for _, in := range next {
				if r := routes[in.Account]; r != nil {
					scratch = r.ShadowInterest(in.Subject, scratch)
				}
			}
			next = append(next[:0:0], scratch...)
			for _, in := range next {
				out = append(out, route.Interest{Account: in.Account, Subject: in.Subject})
			}
		}
		return out
	}
}
