package workload

import (
	"fmt"
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
)

// The accounts workload's configuration, drawn per seed. It is kept in the workload's own
// types: the checker's model (accounts_model.go) reads these, never core/account, and
// core/account sees them only through engineConfigs.
//
// Subjects are laid out so that what may cross accounts is easy to tell apart from what
// may not: every account publishes on the same local subjects (loc.*) and on events in its
// own name (ev.<X>.*), exports its events (ev.<X>.>) and services (svc.<X>.one, a
// singleton, and svc.<X>.many, a stream), and imports land under a prefix (p<X>), a 'to'
// (t<X>.*), the same subject, or, from an account earlier in the list only, inside the
// importer's own events (ev.<Y>.<X>.*), which its export then carries on (a chain that can
// never close into a cycle). Service subjects carry the exporter's name, so no service
// import chains into another.

type accSpec struct {
	accounts []*accAccount
	byName   map[string]*accAccount
}

type accAccount struct {
	name     string
	index    int
	exports  []accExport
	imports  []accImport
	mappings []accMapping
}

type accExport struct {
	service   bool
	subject   string
	accounts  []string // who may import it; nil: everyone
	singleton bool     // services: one response per request
	threshold time.Duration
}

type accImport struct {
	service     bool
	from        string // the exporter
	subject     string // in the exporter's subject space
	prefix, to  string
	forbidden   bool // the export does not admit the importer: the server must refuse it
	exportIndex int  // the exporter's export it takes
}

type accMapping struct {
	source string
	dsts   []accDst
}

type accDst struct {
	subject string
	weight  int // percent
}

// local is where an import's subject lands in the importer.
func (im accImport) local() string {
	switch {
	case im.prefix != "":
		return im.prefix + "." + im.subject
	case im.to != "":
		return im.to
	}
	return im.subject
}

func (e accExport) admits(name string) bool {
	return e.accounts == nil || slices.Contains(e.accounts, name)
}

func accUser(name string) string { return "u" + name }

// drawAccSpec draws 3 or 4 accounts with their exports, imports and mappings.
func drawAccSpec(r env.Rand) *accSpec {
	s := &accSpec{byName: map[string]*accAccount{}}
	for i := range 3 + r.Intn(2) {
		a := &accAccount{name: string(rune('A' + i)), index: i}
		s.accounts = append(s.accounts, a)
		s.byName[a.name] = a
	}
	for _, a := range s.accounts {
		s.drawExports(r, a)
		a.mappings = drawAccMappings(r, a.name)
	}
	if !s.anyService() {
		s.addServices(r, s.accounts[r.Intn(len(s.accounts))])
	}
	for _, a := range s.accounts {
		s.drawImports(r, a)
	}
	return s
}

func (s *accSpec) drawExports(r env.Rand, a *accAccount) {
	ev := accExport{subject: "ev." + a.name + ".>"}
	if r.Intn(2) == 0 {
		ev.accounts = s.someOthers(r, a.name)
	}
	a.exports = append(a.exports, ev)
	if r.Intn(2) == 0 {
		s.addServices(r, a)
	}
}

func (s *accSpec) addServices(r env.Rand, a *accAccount) {
	one := accExport{service: true, subject: "svc." + a.name + ".one", singleton: true}
	many := accExport{service: true, subject: "svc." + a.name + ".many", threshold: time.Duration(1+r.Intn(3)) * time.Second}
	for _, ex := range []*accExport{&one, &many} {
		if r.Intn(4) == 0 {
			ex.accounts = s.someOthers(r, a.name)
		}
	}
	a.exports = append(a.exports, one, many)
}

// someOthers is a restriction: one account other than name, or two when there are more.
func (s *accSpec) someOthers(r env.Rand, name string) []string {
	var others []string
	for _, o := range s.accounts {
		if o.name != name {
			others = append(others, o.name)
		}
	}
	first := r.Intn(len(others))
	out := []string{others[first]}
	if len(others) > 2 && r.Intn(2) == 0 {
		out = append(out, others[(first+1)%len(others)])
	}
	slices.Sort(out)
	return out
}

func (s *accSpec) anyService() bool {
	for _, a := range s.accounts {
		for _, ex := range a.exports {
			if ex.service {
				return true
			}
		}
	}
	return false
}

// drawImports: from each other account, maybe its events and its services. An event export
// that does not admit a is offered anyway now and then (forbidden): the server must refuse
// the whole configuration, and the workload then starts it without that import.
func (s *accSpec) drawImports(r env.Rand, a *accAccount) {
	for _, x := range s.accounts {
		if x == a {
			continue
		}
		for i, ex := range x.exports {
			switch {
			case ex.service && ex.admits(a.name) && r.Intn(3) != 0:
				im := accImport{service: true, from: x.name, subject: ex.subject, exportIndex: i}
				if r.Intn(2) == 0 {
					im.to = "rq." + x.name + "." + ex.subject[len("svc."+x.name+"."):]
				}
				a.imports = append(a.imports, im)
			case !ex.service && ex.admits(a.name) && r.Intn(4) != 0:
				a.imports = append(a.imports, drawStreamImport(r, a, x, i))
			case !ex.service && !ex.admits(a.name) && r.Intn(2) == 0:
				a.imports = append(a.imports, accImport{from: x.name, subject: ex.subject, prefix: "p" + x.name, forbidden: true, exportIndex: i})
			}
		}
	}
}

// drawStreamImport imports all of x's events, one token's worth, or one subject, under the
// same subject, a prefix, a 'to', or (x earlier than a) inside a's own events.
func drawStreamImport(r env.Rand, a, x *accAccount, exportIndex int) accImport {
	tail := []string{">", "*", "a"}[r.Intn(3)]
	im := accImport{from: x.name, subject: "ev." + x.name + "." + tail, exportIndex: exportIndex}
	switch r.Intn(4) {
	case 0:
		im.prefix = "p" + x.name
	case 1:
		im.to = "t" + x.name + "." + tail
	case 2:
		if x.index < a.index {
			im.to = "ev." + a.name + "." + x.name + "." + tail
		}
	}
	return im
}

// drawAccMappings: a literal, a wildcard move, a weighted split (whose weights may leave
// some share unmapped), and a literal into the account's exported events.
func drawAccMappings(r env.Rand, name string) []accMapping {
	var ms []accMapping
	if r.Intn(3) != 0 {
		ms = append(ms, accMapping{source: "m.lit", dsts: []accDst{{"m.dst", 100}}})
	}
	if r.Intn(3) != 0 {
		ms = append(ms, accMapping{source: "mw.*.*", dsts: []accDst{{"mwd.$2.$1", 100}}})
	}
	if r.Intn(3) != 0 {
		left := 20 + 10*r.Intn(5)
		right := 100 - left - 20*r.Intn(2)
		ms = append(ms, accMapping{source: "mx", dsts: []accDst{{"mx.l", left}, {"mx.r", right}}})
	}
	if r.Intn(2) == 0 {
		ms = append(ms, accMapping{source: "m.ev", dsts: []accDst{{"ev." + name + ".mapped", 100}}})
	}
	return ms
}

func (s *accSpec) hasForbidden() bool {
	for _, a := range s.accounts {
		for _, im := range a.imports {
			if im.forbidden {
				return true
			}
		}
	}
	return false
}

// engineConfigs is the configuration handed to the server, with or without the forbidden
// imports.
func (s *accSpec) engineConfigs(withForbidden bool) []account.Config {
	var out []account.Config
	for _, a := range s.accounts {
		c := account.Config{Name: a.name}
		for _, ex := range a.exports {
			e := account.Export{Kind: account.Stream, Subject: ex.subject, Accounts: ex.accounts}
			if ex.service {
				e.Kind, e.ResponseThreshold = account.Service, ex.threshold
				if !ex.singleton {
					e.ResponseType = account.Streamed
				}
			}
			c.Exports = append(c.Exports, e)
		}
		for _, im := range a.imports {
			if im.forbidden && !withForbidden {
				continue
			}
			i := account.Import{Kind: account.Stream, Account: im.from, Subject: im.subject, Prefix: im.prefix, To: im.to}
			if im.service {
				i.Kind = account.Service
			}
			c.Imports = append(c.Imports, i)
		}
		for _, m := range a.mappings {
			em := account.Mapping{Source: m.source}
			for _, d := range m.dsts {
				em.Destinations = append(em.Destinations, account.Destination{Subject: d.subject, Weight: d.weight})
			}
			c.Mappings = append(c.Mappings, em)
		}
		out = append(out, c)
	}
	return out
}

func (s *accSpec) users() []auth.User {
	var us []auth.User
	for _, a := range s.accounts {
		us = append(us, auth.User{Name: accUser(a.name), Password: "p" + a.name, Account: a.name})
	}
	return us
}

// String describes the configuration for a failure's context.
func (s *accSpec) String() string {
	out := ""
	for _, a := range s.accounts {
		out += fmt.Sprintf("%s: exports %+v imports %+v mappings %+v\n", a.name, a.exports, a.imports, a.mappings)
	}
	return out
}
