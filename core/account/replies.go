package account

import (
	"sync"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// ReplyPrefix starts every reply subject a service import makes up in the exporter: the
// requester's own reply subject means nothing there, and must not be reachable by guessing.
const ReplyPrefix = "_R_."

// maxReplies bounds an account's table of mapped reply subjects; at the bound, expired
// entries are swept, and if none has expired the oldest one is not answered (a service
// that never answers cannot grow the table without end).
const maxReplies = 1 << 16

// replyTable maps reply subjects made up in this (the exporting) account to the requester's
// account and reply subject. Publishers on any executor use it, so it has a lock.
type replyTable struct {
	mu      sync.Mutex
	entries map[string]*reply
	// prefix starts every reply subject made up here ("_R_.<8>."), drawn at the first: in
	// a cluster each server's subjects have their own, so the server that made one up can
	// take the interest in all of them (ReplyInterest) and answers find their way back.
	prefix string
}

type reply struct {
	to        *Account
	subject   string
	single    bool
	threshold time.Duration
	expires   time.Duration // Mono
	// A request sampled for latency: when it was made (Mono), where the sample goes; the
	// first response reports it.
	start   time.Duration
	latency *Latency
}

// Sample is one measured request of a service with latency tracking: published in the
// exporter's account on Subject.
type Sample struct {
	Subject   string
	Requestor string        // the requesting account
	Start     time.Duration // Mono when the request was made
	Total     time.Duration // until its first response
}

// IsReply reports whether subj has the form of a reply subject a service import made up.
func IsReply(subj []byte) bool {
	return len(subj) > len(ReplyPrefix) && string(subj[:len(ReplyPrefix)]) == ReplyPrefix
}

// MapReply makes up a reply subject in a (the exporter) for a request from requester with
// reply subject subj, answered as rt allows: "_R_.<prefix>.<8>", the prefix the same for
// every reply subject of a on this server (ReplyInterest). now is the publisher's Mono clock; rng draws
// the subject's tokens.
func (a *Account) MapReply(requester *Account, subj string, r ServiceRoute, now time.Duration, rng env.Rand) string {
	t := &a.replies
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		t.entries = map[string]*reply{}
	}
	if len(t.entries) >= maxReplies {
		t.sweep(now)
	}
	if t.prefix == "" {
		t.prefix = ReplyPrefix + env.Token(rng, 8) + "."
	}
	var name string
	for name == "" || t.entries[name] != nil {
		name = t.prefix + env.Token(rng, 8)
	}
	threshold := r.Threshold
	if threshold <= 0 {
		threshold = DefaultResponseThreshold
	}
	e := &reply{to: requester, subject: subj, single: r.Response == Singleton, threshold: threshold, expires: now + threshold}
	if l := r.Latency; l != nil && (l.Sampling >= 100 || rng.Intn(100) < l.Sampling) {
		e.start, e.latency = now, l
	}
	t.entries[name] = e
	return name
}

// Answer reports where a message published in a on subj goes when subj is a reply subject a
// service import made up: the requester's account and reply subject, and the latency sample
// the first response completes, if the request was sampled. A singleton's entry is used up;
// a stream's lives until its threshold passes without a response.
func (a *Account) Answer(subj []byte, now time.Duration) (*Account, string, *Sample, bool) {
	if !IsReply(subj) {
		return nil, "", nil, false
	}
	t := &a.replies
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[string(subj)]
	switch {
	case e == nil:
		return nil, "", nil, false
	case now >= e.expires:
		delete(t.entries, string(subj))
		return nil, "", nil, false
	case e.single:
		delete(t.entries, string(subj))
	default:
		e.expires = now + e.threshold
	}
	var sample *Sample
	if e.latency != nil {
		sample = &Sample{Subject: e.latency.Subject, Requestor: e.to.Name(), Start: e.start, Total: now - e.start}
		e.latency = nil // one sample per request
	}
	return e.to, e.subject, sample, true
}

// ReplyInterest is the subscription subject that takes every reply subject this server
// made up in a, "" before the first: the interest a cluster must route here for answers to
// come back to where the requests were mapped.
func (a *Account) ReplyInterest() string {
	a.replies.mu.Lock()
	defer a.replies.mu.Unlock()
	if a.replies.prefix == "" {
		return ""
	}
	return a.replies.prefix + ">"
}

// PendingReplies is how many mapped reply subjects the account holds.
func (a *Account) PendingReplies() int {
	a.replies.mu.Lock()
	defer a.replies.mu.Unlock()
	return len(a.replies.entries)
}

// sweep drops expired entries; if none expired, the one closest to expiry goes, so the table
// stays under its bound.
func (t *replyTable) sweep(now time.Duration) {
	var oldest string
	for name, e := range t.entries {
		if now >= e.expires {
			delete(t.entries, name)
		} else if oldest == "" || e.expires < t.entries[oldest].expires || e.expires == t.entries[oldest].expires && name < oldest {
			oldest = name
		}
	}
	if len(t.entries) >= maxReplies {
		delete(t.entries, oldest)
	}
}
