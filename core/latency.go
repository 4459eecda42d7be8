package core

import (
	"time"

	"github.com/petrel-io/petrel/core/account"
)

// Service latency tracking: a service export with `latency { sampling, subject }` reports,
// for the sampled requests that came through an import, how long the first response took,
// as nats-server's io.nats.server.metric.v1.service_latency message in the exporter's
// account. Petrel measures at the server: the service time is the whole round trip between
// the request reaching the exporter and the response leaving it.

const serviceLatencyType = "io.nats.server.metric.v1.service_latency"

// serviceLatency is the sample's JSON.
type serviceLatency struct {
	Type      string        `json:"type"`
	ID        string        `json:"id"`
	Time      time.Time     `json:"timestamp"`
	Status    int           `json:"status"`
	Requestor *EventClient  `json:"requestor,omitempty"`
	Responder *EventClient  `json:"responder,omitempty"`
	Start     time.Time     `json:"start"`
	Service   time.Duration `json:"service"`
	System    time.Duration `json:"system"`
	Total     time.Duration `json:"total"`
}

// latencySample publishes a sample in the exporter's account (acc), from any executor.
func (s *Server) latencySample(acc *account.Account, sample *account.Sample) {
	s.env.Probe.Hit("core.account.latency-sample")
	now := s.env.Clock.Now()
	start := now.Add(sample.Start - s.env.Clock.Mono())
	msg := serviceLatency{Type: serviceLatencyType, ID: s.eventID(), Time: now.UTC(), Status: 200,
		Requestor: &EventClient{Account: sample.Requestor}, Responder: &EventClient{Account: acc.Name()},
		Start: start.UTC(), Service: sample.Total, Total: sample.Total}
	s.publishJSON(acc.Name(), sample.Subject, msg)
}
