package core

import (
	"fmt"
	"strings"
	"time"
)

// The monitoring documents (varz.go, connz.go, subsz.go, and Healthz here) carry
// nats-server's JSON keys and types; the server package serves them over HTTP, the engine
// only assembles them.

// FormatUptime renders a duration as nats-server does: 1y2d3h4m5s, largest unit first.
func FormatUptime(d time.Duration) string {
	tsecs := int64(d / time.Second)
	units := []struct {
		secs int64
		name string
	}{{365 * 86400, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}}
	var b strings.Builder
	for _, u := range units {
		if tsecs >= u.secs {
			fmt.Fprintf(&b, "%d%s", tsecs/u.secs, u.name)
			tsecs %= u.secs
		}
	}
	fmt.Fprintf(&b, "%ds", tsecs)
	return b.String()
}

// HealthzOptions are /healthz's query parameters, nats-server's.
type HealthzOptions struct {
	JSEnabledOnly bool // only whether JetStream, when configured, is enabled
	JSServerOnly  bool // JetStream on this server, not its streams
	JSMetaOnly    bool // JetStream's meta group only
	Details       bool // every problem as a list of typed errors
	Account       string
	Stream        string // needs Account
	Consumer      string // needs Stream
}

// Healthz is /healthz's answer. Code is the HTTP status the host sends with it.
type Healthz struct {
	Status string         `json:"status"`
	Error  string         `json:"error,omitempty"`
	Errors []HealthzError `json:"errors,omitempty"`
	Code   int            `json:"-"`
}

// HealthzError is one problem in a detailed answer.
type HealthzError struct {
	Type     string `json:"type"`
	Account  string `json:"account,omitempty"`
	Stream   string `json:"stream,omitempty"`
	Consumer string `json:"consumer,omitempty"`
	Error    string `json:"error"`
}

// HTTP statuses of /healthz answers (the engine does not import net/http).
const (
	healthOK          = 200
	healthBadRequest  = 400
	healthUnavailable = 503
)

// Healthz reports whether the server is serving (DESIGN.md, Monitoring). With JetStream off
// there is nothing more to check, whatever the options ask, as in nats-server.
func (s *Server) Healthz(o HealthzOptions) Healthz {
	switch {
	case o.Stream != "" && o.Account == "":
		return healthError(healthBadRequest, "\"account\" must not be empty when checking stream health")
	case o.Consumer != "" && o.Stream == "":
		return healthError(healthBadRequest, "\"stream\" must not be empty when checking consumer health")
	}
	s.mu.Lock()
	serving := s.listener != nil && !s.shutdown
	s.mu.Unlock()
	var problem, kind string
	switch {
	case !serving:
		problem, kind = "server is not accepting connections", "CONNECTIONS"
	default:
		return Healthz{Status: "ok", Code: healthOK}
	}
	if o.Details {
		return Healthz{Status: "unavailable", Code: healthUnavailable, Errors: []HealthzError{{Type: kind, Error: problem}}}
	}
	return Healthz{Status: "unavailable", Error: problem, Code: healthUnavailable}
}

func healthError(code int, msg string) Healthz {
	return Healthz{Status: "error", Error: msg, Code: code}
}
