package server

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/petrel-io/petrel/core/env"
)

// ports is nats-server's ports file: the URLs of each listener, so that a launcher that
// started the server on port -1 learns where it listens. A listener that is off has no
// key. A listener on all interfaces (0.0.0.0, ::) lists every interface address, as
// nats-server does.
type ports struct {
	Nats       []string `json:"nats,omitempty"`
	Monitoring []string `json:"monitoring,omitempty"`
	Cluster    []string `json:"cluster,omitempty"`
	Profile    []string `json:"profile,omitempty"`
	WebSocket  []string `json:"websocket,omitempty"`
}

// portsFileName is <dir>/<executable>_<pid>.ports.
func portsFileName(dir string) string {
	return filepath.Join(dir, fmt.Sprintf("%s_%d.ports", filepath.Base(os.Args[0]), os.Getpid()))
}

// listenURLs lists the URLs of a listener on host:port.
func listenURLs(scheme, host string, port int) []string {
	hosts := []string{host}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		hosts = interfaceAddrs()
	}
	urls := make([]string, 0, len(hosts))
	for _, h := range hosts {
		urls = append(urls, scheme+"://"+net.JoinHostPort(h, strconv.Itoa(port)))
	}
	return urls
}

// interfaceAddrs lists this host's interface addresses, loopback first as the system
// orders them.
func interfaceAddrs() []string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return []string{"127.0.0.1"}
	}
	var out []string
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			continue // an interface that vanished meanwhile has nothing to list
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				out = append(out, n.IP.String())
			}
		}
	}
	return out
}

// portsDoc describes the server's listeners now.
func (s *Server) portsDoc() ports {
	host := s.opts.Core.Host
	doc := ports{Nats: listenURLs("nats", host, s.core.Port())}
	if addr := s.MonitorAddr(); addr != "" {
		_, p, _ := net.SplitHostPort(addr) // an address the listener reported
		port, _ := strconv.Atoi(p)
		doc.Monitoring = listenURLs("http", cmp.Or(s.opts.HTTPHost, host), port)
	}
	doc.WebSocket = s.websocketURLs()
	if c := s.opts.Core.Cluster; c != nil && s.core.RoutePort() != 0 {
		doc.Cluster = listenURLs("nats", cmp.Or(c.Host, "0.0.0.0"), s.core.RoutePort())
	}
	return doc
}

// websocketURLs lists the WebSocket listener's URLs (ws, or wss with TLS), or none when it
// is off.
func (s *Server) websocketURLs() []string {
	addr := s.core.WebsocketAddr()
	w := s.opts.Core.WebSocket
	if addr == "" || w == nil {
		return nil
	}
	_, p, _ := net.SplitHostPort(addr) // an address the listener reported
	port, _ := strconv.Atoi(p)
	scheme := "ws"
	if w.TLS != nil {
		scheme = "wss"
	}
	return listenURLs(scheme, cmp.Or(w.Host, "0.0.0.0"), port)
}

// writePortsFile writes the ports file into dir so that a reader never sees it partly
// written (a temporary file renamed into place), and returns its name.
func (s *Server) writePortsFile(dir string) (string, error) {
	body, err := json.Marshal(s.portsDoc())
	if err != nil {
		return "", fmt.Errorf("ports file: %w", err)
	}
	name := portsFileName(dir)
	tmp, err := os.CreateTemp(dir, ".ports-*")
	if err != nil {
		return "", fmt.Errorf("ports file %s: %w", name, err)
	}
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // best effort: the error below says what failed
		return "", fmt.Errorf("ports file %s: %w", name, err)
	}
	return name, nil
}

// updatePortsFile removes the ports file of the old directory and writes one into dir
// ("" means none), logging failures as nats-server does.
func (s *Server) updatePortsFile(dir string) {
	s.mu.Lock()
	old := s.portsFile
	s.portsFile = ""
	s.mu.Unlock()
	if old != "" {
		if err := os.Remove(old); err != nil {
			s.log.Logf(env.LevelError, "Error cleaning up ports file %s: %v", old, err)
		}
	}
	if dir == "" {
		return
	}
	name, err := s.writePortsFile(dir)
	if err != nil {
		s.log.Logf(env.LevelError, "Error writing ports file: %v", err)
		return
	}
	s.mu.Lock()
	s.portsFile = name
	s.mu.Unlock()
}
