package filestore

import "github.com/petrel-io/petrel/core/env"

// memBackend keeps messages in memory: nothing survives the process. Its completions still
// run later, from the executor, exactly as the file store's do, so a caller written against
// one store behaves the same against the other.
type memBackend struct {
	e    *env.Env
	msgs map[uint64]*memContent // the live messages' bytes, by sequence
}

// memContent is a message's bytes in a memory store.
type memContent struct {
	subject string
	hdr     []byte
	data    []byte
}

// NewMemory returns an empty memory store. cfg.Dir and the file options are ignored.
func NewMemory(e *env.Env, cfg Config) (Store, error) {
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	s := newStore(e, cfg, &memBackend{e: e, msgs: make(map[uint64]*memContent)})
	s.afterRecovery()
	return s, nil
}

func (m *memBackend) appendMsg(seq uint64, _ *entry, subject string, hdr, data []byte) error {
	m.msgs[seq] = &memContent{subject: subject, hdr: clone(hdr), data: clone(data)}
	return nil
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (m *memBackend) readMsg(seq uint64, e *entry, _ string, into *Msg) (*Msg, error) {
	c := m.msgs[seq]
	if into != nil {
		*into = Msg{Subject: c.subject, Header: c.hdr[:len(c.hdr):len(c.hdr)], Data: c.data[:len(c.data):len(c.data)],
			Seq: env.Seq(seq), Time: e.time, TTL: durationOf(e.ttl)}
		return into, nil
	}
	return &Msg{Subject: c.subject, Header: clone(c.hdr), Data: clone(c.data), Seq: env.Seq(seq),
		Time: e.time, TTL: durationOf(e.ttl)}, nil
}

func (m *memBackend) removed(seq uint64, _ *entry, _ removal) { delete(m.msgs, seq) }

// erase overwrites the bytes in place, so no copy of them outlives the call in this store.
func (m *memBackend) erase(seq uint64, _ *entry) error {
	c := m.msgs[seq]
	m.e.Rand.Fill(c.hdr)
	m.e.Rand.Fill(c.data)
	return nil
}

func (m *memBackend) appendMarker(marker) error      { return nil }
func (m *memBackend) prewrite() error                { return nil }
func (m *memBackend) writeAll() error                { return nil }
func (m *memBackend) startCommit() (*syncJob, error) { return nil, nil }
func (m *memBackend) synced(*syncJob)                {}
func (m *memBackend) close() error                   { return nil }
func (m *memBackend) damage() []Damage               { return nil }
