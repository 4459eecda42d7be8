package env

import (
	"strconv"
	"strings"
)

// Address helpers for the host:port strings Net takes and gives (pure: no lookup).

// JoinHostPort joins a host and a port, bracketing an IPv6 host.
func JoinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// SplitAddr splits host:port or [v6]:port; the host comes without brackets, and a missing
// or malformed port is 0.
func SplitAddr(addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.HasSuffix(addr, "]") {
		return strings.Trim(addr, "[]"), 0
	}
	port, _ := strconv.Atoi(addr[i+1:])
	return strings.Trim(addr[:i], "[]"), port
}
