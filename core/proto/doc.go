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
// Op names are case-insensitive; arguments are separated by spaces or tabs. Ops are read as
// nats-server v2.15.2 reads them (testdata/proto holds the transcripts that show it): PING,
// PONG and +OK by their first letters; CONNECT and INFO take whatever follows their name;
// the others need a blank after the name. Malformed arguments are ErrBadArguments, which
// nats-server answers by closing without an -ERR. max_control_line bounds the arguments.
//
// The Parser accepts the byte stream cut anywhere. It hands the Handler slices of the buffer
// it was given whenever an operation lies whole inside one buffer (no copy); only an op split
// across buffers is assembled in the parser's own memory. Slices passed to the Handler are
// valid only during the call.
package proto
