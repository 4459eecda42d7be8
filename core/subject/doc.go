// Package subject validates and matches NATS subjects.
//
// A subject is a string of tokens separated by '.'. Tokens are non-empty and contain no
// whitespace. A subscription subject may use two wildcards, each as a whole token: '*'
// matches exactly one token, '>' matches one or more tokens and must be last. A publish
// subject has no wildcards.
package subject
