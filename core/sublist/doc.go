// Package sublist is the subscription index: a trie of subject tokens with '*' and '>'
// branches, queue groups, and a cache of match results.
//
// Match is on the publish hot path and is called concurrently by every publishing
// connection; Insert and Remove are rarer. A read-write lock guards the trie and the cache.
// A cached Result is immutable: an insert or remove drops the cache entries its subject can
// match (one entry for a literal subject, a scan for a wildcard), never edits them, so a
// reader holding a Result keeps a consistent snapshot.
//
// Order is deterministic: the subscriptions of a node are kept in slices in insertion order
// (removal swaps the last into the gap) and queue groups in a slice, so the same sequence of
// inserts and removes gives the same results in the simulator.
package sublist
