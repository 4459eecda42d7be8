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
	HTTPPort int // 0: no monitoring; -1: any free port

	Debug, Trace, Logtime bool
	LogFile               string
	PidFile               string

	StoreDir string

	TLSCert, TLSKey, TLSCACert string
	TLSVerify                  bool

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
