// Package proto parses and encodes the NATS client protocol and the route (cluster)
// protocol.
//
// Both are text control lines ending in CRLF, some followed by a payload of a stated length
// and a CRLF. The client protocol:
//
//	op      direction        arguments                          payload
//	CONNECT client→server    {json}
//	PUB     client→server    <subject> [reply] <#bytes>         yes
//	HPUB    client→server    <subject> [reply] <#hdr> <#total>  yes (headers then body)
//	SUB     client→server    <subject> [queue] <sid>
//	UNSUB   client→server    <sid> [max]
//	INFO    server→client    {json}
//	MSG     server→client    <subject> <sid> [reply] <#bytes>   yes
//	HMSG    server→client    <subject> <sid> [reply] <#hdr> <#total> yes
//	PING, PONG, +OK, -ERR '<text>'   either way
//
// The route protocol, both ways between two servers (RouteParser, RouteMode's encoders):
//
//	op      arguments                                                     payload
//	INFO, CONNECT, PING, PONG, +OK, -ERR as above (RouteInfo, RouteConnect for the JSON)
//	RS+     [account] <subject> [<queue> <weight>]
//	RS-     [account] <subject> [queue]
//	LS+     <origin> [account] <subject> [<queue> <weight>]
//	LS-     [origin] [account] <subject> [queue]
//	RMSG    [account] <subject> [reply | + <reply> <queue>... | | <queue>...] <#bytes>  yes
//	HMSG    [account] <subject> [same] <#hdr> <#total>                    yes
//	LMSG    <origin> [account] <subject> [same] <#hdr> <#total>           yes
//
// The account is absent on a route pinned to one account, and LS-'s origin on a peer that
// did not announce lnocu: nothing in the bytes says so, the handshake does (RouteMode).
// origin is the cluster of the leaf node the interest or message came from.
//
// Op names are case-insensitive; arguments are separated by spaces or tabs (on a route a CR
// inside the line separates too). Ops are read as nats-server v2.15.2 reads them
// (testdata/proto and testdata/route hold the transcripts and captures that show it): PING,
// PONG and +OK by their first letters; CONNECT and INFO take whatever follows their name;
// the others need a blank after the name. Malformed arguments are ErrBadArguments, wrapped
// with the op and what was wrong, which nats-server answers by closing without an -ERR.
// max_control_line bounds the arguments.
//
// One Parser serves both protocols: it assembles lines, applies the limits and collects
// payloads; a dialect (client or route, chosen by NewParser or NewRouteParser) knows the
// ops and their arguments. The Parser accepts the byte stream cut anywhere. It hands the
// handler slices of the buffer it was given whenever an operation lies whole inside one
// buffer (no copy); only an op split across buffers is assembled in the parser's own
// memory. Slices (and, on a route, the op structs) passed to a handler are valid only
// during the call.
package proto
