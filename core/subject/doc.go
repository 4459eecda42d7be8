// Package subject is Petrel's one definition of NATS subjects: what is valid where, and how a
// subject matches a pattern. The engine (publish, subscribe, queue groups, permissions), the
// subscription index and the message store all take their rules from here, so a subject the
// server accepts is one the store can keep and a filter the store accepts matches what a
// subscription with the same text would.
//
// A subject is a string of tokens separated by '.':
//
//	rule                         publish / stored   subscription / filter   queue name
//	length                       1..MaxBytes        1..MaxBytes             1..MaxBytes
//	space, tab, CR, LF           never              never                   never
//	empty token ("a..b", ".a")   never              never                   allowed
//	'*' token                    never              any one token           ordinary bytes
//	'>' token                    never              last token: one or more ordinary bytes
//	any other byte               allowed            allowed                 allowed
//
// Why these rules (observed on nats-server v2.15.2 over the wire; DESIGN.md has the table):
//   - Space and tab separate the protocol's arguments and CR LF ends its lines, so a subject
//     holding one cannot be delivered in a MSG line clients parse. nats-server forbids space,
//     tab and LF the same way; it lets a CR through inside a subject, which reaches clients as
//     a broken MSG line, so Petrel refuses it (a deliberate difference).
//   - Other control bytes, DEL and bytes that are not UTF-8 are accepted by nats-server in
//     subjects and queue names, and the store keeps subjects as length-prefixed bytes, so
//     nothing is gained by refusing them.
//   - MaxBytes is what the store's 16-bit subject length holds. nats-server accepts longer
//     subjects when max_control_line allows them, but its own file store cannot keep them
//     either; Petrel refuses them everywhere, so a message the server accepted can always be
//     stored.
//   - nats-server does not look inside queue names; neither does Petrel.
//
// Routable is the publish rule without the wildcard rule: nats-server routes a message
// published to "a.*" by a client that is not pedantic, matching the '*' as plain text (it
// reaches subscriptions on "a.*", "a.>" and ">", not "a.b"). Match treats a subject's tokens
// that way: only the pattern's wildcards are wildcards.
package subject
