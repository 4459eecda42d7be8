package server

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/petrel-io/petrel/core/env"
)

// errNoConfigFile refuses a reload of a server started without a configuration file, in
// nats-server's words.
var errNoConfigFile = errors.New("can only reload config when a file is provided using -c or --config")

// Reload applies options read again from the configuration file (with the command line
// over them, as at start), as nats-server's reload does: an option that cannot change
// while running refuses the whole reload with nats-server's message, and nothing changes;
// otherwise the engine applies its part (core.Server.Reload: limits, authorization,
// permissions, ... under connected clients too) and the host its own: log level and file,
// pid file, ports file. TLS certificates are read again. It must not be called from one of
// the Env's executors.
func (s *Server) Reload(next Options) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.opts
	if next.ConfigFile == "" {
		return errNoConfigFile
	}
	if err := hostReloadRefusal(old, next); err != nil {
		return err
	}
	if next.Core.Host == "" {
		next.Core.Host = DefaultHost
	}
	if err := loadTLS(&next); err != nil {
		return err
	}
	if err := loadClusterTLS(&next); err != nil {
		return err
	}
	// The engine reads the logger's level for each client's trace flag, so it changes
	// first, and back if the engine refuses.
	s.setLevel(LogLevel(next))
	if err := s.reloadCore(next); err != nil {
		s.setLevel(LogLevel(old))
		return err
	}
	s.reloadHost(old, next)
	s.opts = next
	digest, _ := configDigest(next.ConfigFile) // the file was just read; a failure leaves it blank
	s.mu.Lock()
	s.configDigest = digest
	s.mu.Unlock()
	s.log.Logf(env.LevelInfo, "Reloaded server configuration%s", digestNote(next.ConfigFile))
	return nil
}

// hostReloadRefusal refuses the changes of host options nats-server cannot reload.
func hostReloadRefusal(old, next Options) error {
	for _, f := range []struct {
		name     string
		was, now any
	}{
		{"HTTPHost", old.HTTPHost, next.HTTPHost},
		{"HTTPPort", old.HTTPPort, next.HTTPPort},
	} {
		if f.was != f.now {
			return fmt.Errorf("config reload not supported for %s: old=%v, new=%v", f.name, f.was, f.now)
		}
	}
	return nil
}

func (s *Server) setLevel(l env.Level) {
	if s.level != nil {
		s.level.SetLevel(l)
	}
}

// reloadCore hands the engine its options and waits until every client has them.
func (s *Server) reloadCore(next Options) error {
	done := make(chan error, 1)
	s.core.Reload(next.Core, func(err error) { done <- err })
	return <-done
}

// reloadHost applies what the host owns, logging each change as nats-server does.
func (s *Server) reloadHost(old, next Options) {
	logged := func(changed bool, format string, arg any) {
		if changed {
			s.log.Logf(env.LevelInfo, "Reloaded: "+format, arg)
		}
	}
	logged(old.Trace != next.Trace, "trace = %v", next.Trace)
	logged(old.Debug != next.Debug, "debug = %v", next.Debug)
	logged(old.Logtime != next.Logtime, "logtime = %v", next.Logtime)
	if old.LogFile != next.LogFile && s.logs != nil {
		if err := s.logs.Use(next.LogFile); err != nil {
			s.log.Logf(env.LevelError, "Reload of log_file failed: %v", err)
		}
		logged(true, "log_file = %v", next.LogFile)
	}
	if old.PidFile != next.PidFile && next.PidFile != "" {
		s.writePidFile(next.PidFile)
		logged(true, "pid_file = %v", next.PidFile)
	}
	if old.PortsFileDir != next.PortsFileDir {
		s.updatePortsFile(next.PortsFileDir)
		logged(true, "ports_file_dir = %v", next.PortsFileDir)
	}
}

// writePidFile writes the process id where pid_file (-P) says.
func (s *Server) writePidFile(path string) {
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		s.log.Logf(env.LevelError, "Failed to write pidfile: %v", err)
	}
}

// digestNote is " (sha256:...)" of the configuration file, as nats-server logs it, or ""
// when there is none or it cannot be read.
func digestNote(path string) string {
	d, err := configDigest(path)
	if err != nil || d == "" {
		return ""
	}
	return " (" + d + ")"
}
