package account

import (
	"fmt"
	"slices"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
)

// Set is every account of a server, by name. The global account and the system account are
// always in it.
type Set struct {
	byName map[string]*Account
	system *Account
}

// Get returns the named account, or nil (also on a nil set, so Build can start from none).
func (s *Set) Get(name string) *Account {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// System is the system account.
func (s *Set) System() *Account { return s.system }

// Names lists the accounts, sorted.
func (s *Set) Names() []string {
	return env.SortedKeys(s.byName)
}

// Build checks cfgs as a whole and returns the set they describe. Accounts of prev with the
// same name are kept (their subscriptions and reply tables live on) with the new
// configuration; prev is not changed until Install.
func Build(cfgs []Config, system string, prev *Set) (*Next, error) {
	if system == "" {
		system = DefaultSystem
	}
	byCfg := map[string]*Config{}
	for i := range cfgs {
		c := &cfgs[i]
		if c.Name == "" {
			return nil, fmt.Errorf("account: an account needs a name")
		}
		if byCfg[c.Name] != nil {
			return nil, fmt.Errorf("account: duplicate account %q", c.Name)
		}
		byCfg[c.Name] = c
	}
	for _, name := range []string{Global, system} {
		if byCfg[name] == nil {
			byCfg[name] = &Config{Name: name}
		}
	}
	next := &Next{set: &Set{byName: map[string]*Account{}}, cfgs: byCfg, routes: map[string]*Routes{}, wired: map[string][]Import{}}
	for name := range byCfg {
		a := prev.Get(name)
		if a == nil {
			a = newAccount(name)
		}
		next.set.byName[name] = a
		next.routes[name] = &Routes{}
	}
	next.set.system = next.set.byName[system]
	if err := next.wire(); err != nil {
		return nil, err
	}
	return next, nil
}

// Next is a checked set not yet in force.
type Next struct {
	set    *Set
	cfgs   map[string]*Config
	routes map[string]*Routes
	wired  map[string][]Import // the imports in force, per importer
	// Dropped lists the imports of lenient accounts that did not check (see Config.Lenient).
	Dropped []string
}

// Set is the set n describes; its accounts' configurations and routes are the previous
// ones until Install.
func (n *Next) Set() *Set { return n.set }

// Install puts the new configurations and routes in force and returns the set.
func (n *Next) Install() *Set {
	for name, a := range n.set.byName {
		a.cfg.Store(n.cfgs[name])
		a.routes.Store(n.routes[name])
	}
	return n.set
}

// wire checks every export and import and builds the routes.
func (n *Next) wire() error {
	for _, name := range n.set.Names() {
		c := n.cfgs[name]
		for _, ex := range c.Exports {
			if !subject.ValidSubscribe(ex.Subject) {
				return fmt.Errorf("account %q: %s export: invalid subject %q", name, ex.Kind, ex.Subject)
			}
			if l := ex.Latency; l != nil && (l.Sampling < 1 || l.Sampling > 100 || !subject.ValidPublish(l.Subject)) {
				return fmt.Errorf("account %q: service export %q: latency needs sampling in 1..100%% and a subject", name, ex.Subject)
			}
			for _, to := range ex.Accounts {
				if n.set.byName[to] == nil {
					return fmt.Errorf("account %q: %s export %q: unknown account %q", name, ex.Kind, ex.Subject, to)
				}
			}
			if ex.Kind == Service {
				n.routes[name].Answers = true
			}
		}
		for _, m := range c.Mappings {
			mp, err := newMapper(m)
			if err != nil {
				return fmt.Errorf("account %q: %w", name, err)
			}
			n.routes[name].mappers = append(n.routes[name].mappers, mp)
		}
		for _, im := range c.Imports {
			err := n.wireImport(name, im)
			if err != nil {
				err = fmt.Errorf("account %q: %s import of %q from %q: %w", name, im.Kind, im.Subject, im.Account, err)
			}
			switch {
			case err == nil:
				n.wired[name] = append(n.wired[name], im)
			case c.Lenient:
				n.Dropped = append(n.Dropped, err.Error())
			default:
				return err
			}
		}
	}
	return n.refuseCycles()
}

func (n *Next) wireImport(importer string, im Import) error {
	exporter := n.set.byName[im.Account]
	switch {
	case exporter == nil:
		return fmt.Errorf("unknown account")
	case im.Account == importer:
		return fmt.Errorf("an account cannot import from itself")
	case !subject.ValidSubscribe(im.Subject):
		return fmt.Errorf("invalid subject")
	case im.Prefix != "" && im.Kind == Service:
		return fmt.Errorf("a service import takes 'to', not 'prefix'")
	case im.Prefix != "" && im.To != "":
		return fmt.Errorf("an import takes 'prefix' or 'to', not both")
	case im.Prefix != "" && !subject.ValidPublish(im.Prefix):
		return fmt.Errorf("invalid prefix %q", im.Prefix)
	}
	ex, ok := n.exportFor(im, importer)
	if !ok {
		return fmt.Errorf("not exported to account %q", importer)
	}
	if im.Kind == Stream {
		t, err := newTransform(im.Subject, im.local(), true)
		if err != nil {
			return err
		}
		r := n.routes[im.Account]
		r.Streams = append(r.Streams, StreamRoute{To: n.set.byName[importer], t: t})
		mine := n.routes[importer]
		mine.imports = append(mine.imports, newStreamImport(exporter, t))
		return nil
	}
	t, err := newTransform(im.local(), im.Subject, true)
	if err != nil {
		return err
	}
	r := n.routes[importer]
	r.Services = append(r.Services, ServiceRoute{From: exporter, Response: ex.ResponseType, Threshold: ex.ResponseThreshold,
		Latency: ex.Latency, t: t})
	return nil
}

// exportFor finds the exporter's export that covers im and admits importer.
func (n *Next) exportFor(im Import, importer string) (Export, bool) {
	for _, ex := range n.cfgs[im.Account].Exports {
		if ex.Kind == im.Kind && subject.SubsetOf(im.Subject, ex.Subject) &&
			(len(ex.Accounts) == 0 || slices.Contains(ex.Accounts, importer)) {
			return ex, true
		}
	}
	return Export{}, false
}
