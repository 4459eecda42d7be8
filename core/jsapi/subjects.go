package jsapi

import "strings"

// Verb names one $JS.API request kind: which handler answers a subject.
type Verb uint8

// The verbs, one per subject shape nats-server v2.15.2 subscribes to under $JS.API.
// Comments show the tokens after "$JS.API."; <s> is a stream, <c> a consumer.
const (
	VerbUnknown                 Verb = iota
	VerbAccountInfo                  // INFO
	VerbStreamCreate                 // STREAM.CREATE.<s>
	VerbStreamUpdate                 // STREAM.UPDATE.<s>
	VerbStreamNames                  // STREAM.NAMES
	VerbStreamList                   // STREAM.LIST
	VerbStreamInfo                   // STREAM.INFO.<s>
	VerbStreamDelete                 // STREAM.DELETE.<s>
	VerbStreamPurge                  // STREAM.PURGE.<s>
	VerbStreamSnapshot               // STREAM.SNAPSHOT.<s>
	VerbStreamRestore                // STREAM.RESTORE.<s>
	VerbMsgDelete                    // STREAM.MSG.DELETE.<s>
	VerbMsgGet                       // STREAM.MSG.GET.<s>
	VerbStreamLeaderStepdown         // STREAM.LEADER.STEPDOWN.<s>
	VerbStreamPeerRemove             // STREAM.PEER.REMOVE.<s>
	VerbStreamPeerEvacuate           // STREAM.PEER.EVACUATE.<s>
	VerbStreamCancelMove             // STREAM.CANCEL_MOVE.<s>
	VerbDirectGet                    // DIRECT.GET.<s>
	VerbDirectGetLast                // DIRECT.GET.<s>.<subject...> (rest: the subject)
	VerbConsumerCreateEphemeral      // CONSUMER.CREATE.<s> (legacy: the server names it)
	VerbConsumerCreate               // CONSUMER.CREATE.<s>.<c>[.<filter...>] (rest: the filter)
	VerbConsumerDurableCreate        // CONSUMER.DURABLE.CREATE.<s>.<c> (legacy)
	VerbConsumerNames                // CONSUMER.NAMES.<s>
	VerbConsumerList                 // CONSUMER.LIST.<s>
	VerbConsumerInfo                 // CONSUMER.INFO.<s>.<c>
	VerbConsumerDelete               // CONSUMER.DELETE.<s>.<c>
	VerbConsumerPause                // CONSUMER.PAUSE.<s>.<c>
	VerbConsumerUnpin                // CONSUMER.UNPIN.<s>.<c>
	VerbConsumerReset                // CONSUMER.RESET.<s>.<c>
	VerbConsumerNext                 // CONSUMER.MSG.NEXT.<s>.<c> (a pull request, not JSON API)
	VerbConsumerLeaderStepdown       // CONSUMER.LEADER.STEPDOWN.<s>.<c>
	VerbConsumerPeerRemove           // CONSUMER.PEER.REMOVE.<s>.<c>
	VerbConsumerPeerEvacuate         // CONSUMER.PEER.EVACUATE.<s>.<c>
	VerbMetaLeaderStepdown           // META.LEADER.STEPDOWN (system account)
	VerbMetaRescue                   // META.RESCUE (system account)
	VerbServerRemove                 // SERVER.REMOVE (system account)
	VerbServerEvacuate               // SERVER.EVACUATE (system account)
	VerbAccountPurge                 // ACCOUNT.PURGE.<account> (rest: the account)
	VerbAccountStreamMove            // ACCOUNT.STREAM.MOVE.<account>.<s> (rest: the account)
	VerbAccountStreamCancelMove      // ACCOUNT.STREAM.CANCEL_MOVE.<account>.<s> (rest: the account)
	verbCount
)

// apiShape is one subscription of the API: the fixed tokens after "$JS.API.", then how many
// name tokens follow (stream, consumer) and whether a tail of one or more tokens may end it.
type apiShape struct {
	verb  Verb
	fixed string
	names int  // 0, 1 (stream) or 2 (stream, consumer; account, stream for ACCOUNT.*)
	tail  bool // one or more further tokens go to rest
}

// apiShapes lists the shapes. The order matters only where two share fixed tokens: a bare
// CONSUMER.CREATE.<s> is the legacy ephemeral, with more tokens the named form.
var apiShapes = [...]apiShape{
	{VerbAccountInfo, "INFO", 0, false},
	{VerbStreamCreate, "STREAM.CREATE", 1, false},
	{VerbStreamUpdate, "STREAM.UPDATE", 1, false},
	{VerbStreamNames, "STREAM.NAMES", 0, false},
	{VerbStreamList, "STREAM.LIST", 0, false},
	{VerbStreamInfo, "STREAM.INFO", 1, false},
	{VerbStreamDelete, "STREAM.DELETE", 1, false},
	{VerbStreamPurge, "STREAM.PURGE", 1, false},
	{VerbStreamSnapshot, "STREAM.SNAPSHOT", 1, false},
	{VerbStreamRestore, "STREAM.RESTORE", 1, false},
	{VerbMsgDelete, "STREAM.MSG.DELETE", 1, false},
	{VerbMsgGet, "STREAM.MSG.GET", 1, false},
	{VerbStreamLeaderStepdown, "STREAM.LEADER.STEPDOWN", 1, false},
	{VerbStreamPeerRemove, "STREAM.PEER.REMOVE", 1, false},
	{VerbStreamPeerEvacuate, "STREAM.PEER.EVACUATE", 1, false},
	{VerbStreamCancelMove, "STREAM.CANCEL_MOVE", 1, false},
	{VerbDirectGet, "DIRECT.GET", 1, false},
	{VerbDirectGetLast, "DIRECT.GET", 1, true},
	{VerbConsumerCreateEphemeral, "CONSUMER.CREATE", 1, false},
	{VerbConsumerCreate, "CONSUMER.CREATE", 2, false},
	{VerbConsumerCreate, "CONSUMER.CREATE", 2, true},
	{VerbConsumerDurableCreate, "CONSUMER.DURABLE.CREATE", 2, false},
	{VerbConsumerNames, "CONSUMER.NAMES", 1, false},
	{VerbConsumerList, "CONSUMER.LIST", 1, false},
	{VerbConsumerInfo, "CONSUMER.INFO", 2, false},
	{VerbConsumerDelete, "CONSUMER.DELETE", 2, false},
	{VerbConsumerPause, "CONSUMER.PAUSE", 2, false},
	{VerbConsumerUnpin, "CONSUMER.UNPIN", 2, false},
	{VerbConsumerReset, "CONSUMER.RESET", 2, false},
	{VerbConsumerNext, "CONSUMER.MSG.NEXT", 2, false},
	{VerbConsumerLeaderStepdown, "CONSUMER.LEADER.STEPDOWN", 2, false},
	{VerbConsumerPeerRemove, "CONSUMER.PEER.REMOVE", 2, false},
	{VerbConsumerPeerEvacuate, "CONSUMER.PEER.EVACUATE", 2, false},
	{VerbMetaLeaderStepdown, "META.LEADER.STEPDOWN", 0, false},
	{VerbMetaRescue, "META.RESCUE", 0, false},
	{VerbServerRemove, "SERVER.REMOVE", 0, false},
	{VerbServerEvacuate, "SERVER.EVACUATE", 0, false},
	{VerbAccountPurge, "ACCOUNT.PURGE", 1, false},
	{VerbAccountStreamMove, "ACCOUNT.STREAM.MOVE", 2, false},
	{VerbAccountStreamCancelMove, "ACCOUNT.STREAM.CANCEL_MOVE", 2, false},
}

// ParseAPISubject splits a $JS.API request subject into its verb and names. It accepts
// exactly the subjects nats-server's API subscriptions match (a token count that no
// subscription matches gets no answer there, so ok is false). For ACCOUNT.PURGE the account
// is in rest; for ACCOUNT.STREAM.MOVE and CANCEL_MOVE the account is in rest and the stream
// in stream. Tokens are not otherwise checked: name rules belong to the handlers, which
// answer with an error where nats-server does.
func ParseAPISubject(subj string) (verb Verb, stream, consumer, rest string, ok bool) {
	tail, found := strings.CutPrefix(subj, Prefix)
	if !found {
		return VerbUnknown, "", "", "", false
	}
	for i := range apiShapes {
		shape := &apiShapes[i]
		after, found := cutFixed(tail, shape.fixed)
		if !found {
			continue
		}
		names, rest, found := cutNames(after, shape.names, shape.tail)
		if !found {
			continue
		}
		return shape.resolve(names, rest)
	}
	return VerbUnknown, "", "", "", false
}

func (shape *apiShape) resolve(names [2]string, rest string) (Verb, string, string, string, bool) {
	switch shape.verb {
	case VerbAccountPurge:
		return shape.verb, "", "", names[0], true
	case VerbAccountStreamMove, VerbAccountStreamCancelMove:
		return shape.verb, names[1], "", names[0], true
	}
	return shape.verb, names[0], names[1], rest, true
}

// cutFixed removes the fixed tokens and reports what follows them ("" at the end).
func cutFixed(tail, fixed string) (string, bool) {
	after, found := strings.CutPrefix(tail, fixed)
	if !found {
		return "", false
	}
	if after == "" {
		return "", true
	}
	if after[0] != '.' {
		return "", false
	}
	return after[1:], after != "."
}

// cutNames takes n non-empty tokens off s; with tail, one or more non-empty tokens must
// follow and become rest, without it nothing may follow.
func cutNames(s string, n int, tail bool) (names [2]string, rest string, ok bool) {
	for i := 0; i < n; i++ {
		tok, after, more := strings.Cut(s, ".")
		if tok == "" || (more && after == "") {
			return names, "", false
		}
		names[i], s = tok, after
		if !more {
			s = ""
			if i+1 < n || tail {
				return names, "", false
			}
		}
	}
	if !tail {
		return names, "", s == ""
	}
	return names, s, s != "" && validTokens(s)
}

// validTokens reports whether every token of s is non-empty.
func validTokens(s string) bool {
	return s != "" && s[0] != '.' && s[len(s)-1] != '.' && !strings.Contains(s, "..")
}

// The subject builders the API's clients and tests use.

// StreamCreateSubject is where STREAM.CREATE for name goes.
func StreamCreateSubject(name string) string { return Prefix + "STREAM.CREATE." + name }

// ConsumerCreateSubject is where CONSUMER.CREATE for a named consumer goes, with the single
// filter in the subject when there is one (as nats.go sends it).
func ConsumerCreateSubject(stream, consumer, filter string) string {
	subj := Prefix + "CONSUMER.CREATE." + stream + "." + consumer
	if filter != "" {
		subj += "." + filter
	}
	return subj
}

// NextSubject is a consumer's pull request subject.
func NextSubject(stream, consumer string) string {
	return Prefix + "CONSUMER.MSG.NEXT." + stream + "." + consumer
}
