// Package proto parses and encodes the NATS client protocol.
//
// The protocol is text control lines ending in CRLF, some followed by a payload of a stated
// length and a CRLF:
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
// Op names are case-insensitive; arguments are separated by spaces or tabs.
//
// The Parser accepts the byte stream cut anywhere. It hands the Handler slices of the buffer
// it was given whenever an operation lies whole inside one buffer (no copy); only an op split
// across buffers is assembled in the parser's own memory. Slices passed to the Handler are
// valid only during the call.
package proto
