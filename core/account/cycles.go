package account

import (
	"fmt"
	"strings"

	"github.com/petrel-io/petrel/core/subject"
)

// flow is one import seen as the way a message travels: from (account, subject) to
// (account, subject).
type flow struct {
	kind               Kind
	fromAcc, toAcc     string
	fromSubj, toSubj   string
	importer, exported string // for the error
}

// refuseCycles refuses imports that chain back to where they started: a message would
// travel the loop forever (the engine follows chains of imports, each hop to a subject the
// next import takes).
func (n *Next) refuseCycles() error {
	var flows []flow
	for _, name := range n.set.Names() {
		for _, im := range n.wired[name] {
			f := flow{kind: im.Kind, importer: name, exported: im.Subject}
			if im.Kind == Stream {
				f.fromAcc, f.fromSubj, f.toAcc, f.toSubj = im.Account, im.Subject, name, im.local()
			} else {
				f.fromAcc, f.fromSubj, f.toAcc, f.toSubj = name, im.local(), im.Account, im.Subject
			}
			flows = append(flows, f)
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(flows))
	var path []string
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = onPath
		path = append(path, fmt.Sprintf("%s:%s", flows[i].toAcc, flows[i].toSubj))
		for j := range flows {
			if flows[j].kind != flows[i].kind || flows[j].fromAcc != flows[i].toAcc ||
				!subject.Intersects(flows[j].fromSubj, flows[i].toSubj) {
				continue
			}
			switch state[j] {
			case onPath:
				return fmt.Errorf("account %q: %s import of %q forms a cycle (%s)", flows[j].importer, flows[j].kind, flows[j].exported, strings.Join(path, " -> "))
			case unseen:
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		state[i] = done
		path = path[:len(path)-1]
		return nil
	}
	for i := range flows {
		if state[i] == unseen {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	return nil
}
