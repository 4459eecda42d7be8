package server

import (
	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
)

// Options is everything a Petrel process is configured with: the engine's options plus what
// only the host handles (monitoring, logging, files, TLS material).
type Options struct {
	Core core.Options

	HTTPHost string
	HTTPPort int // 0: no monitoring; -1: any free port (as in nats-server)

	Debug, Trace, Logtime bool
	LogFile               string
	PidFile               string
	PortsFileDir          string // write <dir>/<executable>_<pid>.ports once listening

	StoreDir  string
	JetStream JetStreamConfig

	TLSCert, TLSKey, TLSCACert string
	TLSVerify                  bool

	// WebSocket is the websocket block; Core.WebSocket is built from it (config_ws.go).
	WebSocket WebSocketConfig
	// Cluster is the cluster block and flags; Core.Cluster is built from it
	// (config_cluster.go).
	Cluster ClusterConfig

	ConfigFile string
}

// DefaultHost listens on every IPv4 interface, as nats-server does by default.
const DefaultHost = "0.0.0.0"

// LogLevel is the minimum log level the options ask for. Levels are ordered, so trace
// includes debug.
func LogLevel(opts Options) env.Level {
	switch {
	case opts.Trace:
		return env.LevelTrace
	case opts.Debug:
		return env.LevelDebug
	}
	return env.LevelInfo
}

// JetStreamConfig is the jetstream block's settings beyond enabling it and the store dir.
// JetStream itself arrives in a later stage; the values are parsed and kept now so that a
// nats-server file with them starts unchanged.
type JetStreamConfig struct {
	MaxMemory    int64
	MaxStore     int64
	Domain       string
	SyncInterval string // "always" (Petrel's default) or a duration for the relaxed mode
}
