package auth

import (
	"time"

	"github.com/petrel-io/petrel/core/subject"
)

// Permissions restrict what a user may publish and subscribe to.
type Permissions struct {
	Publish   *SubjectPermission
	Subscribe *SubjectPermission
	Response  *ResponsePermission
}

// SubjectPermission is an allow list and a deny list of subject patterns. A nil or empty
// allow list allows everything not denied.
type SubjectPermission struct {
	Allow []string
	Deny  []string
}

// ResponsePermission lets a client publish to reply subjects it received: each reply
// subject MaxMsgs times (0: once) within Expires (0: no limit).
type ResponsePermission struct {
	MaxMsgs int
	Expires time.Duration
}

// Default bounds for allow_responses: true, as nats-server documents them.
const (
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
)

// CanPublish reports whether p allows publishing to the literal subject subj.
func (p *Permissions) CanPublish(subj string) bool {
	if p == nil || p.Publish == nil {
		return true
	}
	return allowedLiteral(p.Publish, subj)
}

// CanSubscribe reports whether p allows a subscription to pattern subj in queue (queue may
// be ""). Allow and deny entries may name a queue after a space ("foo.> q1").
func (p *Permissions) CanSubscribe(subj, queue string) bool {
	if p == nil || p.Subscribe == nil {
		return true
	}
	sp := p.Subscribe
	if len(sp.Allow) > 0 {
		ok := false
		for _, a := range sp.Allow {
			pat, q := splitQueue(a)
			if subject.SubsetOf(subj, pat) && (q == "" || q == queue) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, d := range sp.Deny {
		pat, q := splitQueue(d)
		if subject.SubsetOf(subj, pat) && (q == "" || q == queue) {
			return false
		}
	}
	return true
}

// DeniesDelivery reports whether a message on the literal subject subj must be withheld
// from a wildcard subscription that the deny list only partly covers.
func (p *Permissions) DeniesDelivery(subj string) bool {
	if p == nil || p.Subscribe == nil || len(p.Subscribe.Deny) == 0 {
		return false
	}
	for _, d := range p.Subscribe.Deny {
		pat, q := splitQueue(d)
		if q == "" && subject.Match(subj, pat) {
			return true
		}
	}
	return false
}

func allowedLiteral(sp *SubjectPermission, subj string) bool {
	if len(sp.Allow) > 0 {
		ok := false
		for _, a := range sp.Allow {
			if subject.Match(subj, a) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, d := range sp.Deny {
		if subject.Match(subj, d) {
			return false
		}
	}
	return true
}

func splitQueue(entry string) (pattern, queue string) {
	for i := 0; i < len(entry); i++ {
		if entry[i] == ' ' {
			return entry[:i], entry[i+1:]
		}
	}
	return entry, ""
}
