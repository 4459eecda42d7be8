package core

import (
	"encoding/base64"
	"encoding/json"
	"runtime"
)

// serverInfo is the INFO document. Field names are the wire's; clients read them.
type serverInfo struct {
	ID           string   `json:"server_id"`
	Name         string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	Go           string   `json:"go"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSVerify    bool     `json:"tls_verify,omitempty"`
	MaxPayload   int      `json:"max_payload"`
	JetStream    bool     `json:"jetstream,omitempty"`
	ClientID     uint64   `json:"client_id,omitempty"`
	ClientIP     string   `json:"client_ip,omitempty"`
	Cluster      string   `json:"cluster,omitempty"` // the cluster's name, with a cluster block
	Nonce        string   `json:"nonce,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	LameDuck     bool     `json:"ldm,omitempty"`
	APILevel     int      `json:"api_lvl,omitempty"`
}

// jsAPILevel is the JetStream API level advertised once JetStream answers requests.
const jsAPILevel = 3

// infoFor is INFO under one generation of the settings.
func (s *Server) infoFor(cfg *config) serverInfo {
	info := serverInfo{
		ID: s.id, Name: cfg.name, Version: Version, Proto: ProtoVersion, Go: runtime.Version(),
		Host: cfg.Host, Port: s.Port(), Headers: true, MaxPayload: cfg.MaxPayload,
		AuthRequired: cfg.auth.Required(), TLSRequired: cfg.TLS != nil, TLSVerify: cfg.TLSVerify,
		JetStream: cfg.JetStream, ConnectURLs: s.clusterConnectURLs(cfg),
	}
	if info.Host == "" {
		info.Host = "0.0.0.0"
	}
	if cfg.Cluster != nil {
		info.Cluster = cfg.Cluster.Name
	}
	if cfg.JetStream {
		info.APILevel = jsAPILevel
	}
	return info
}

// infoLine renders INFO for one client. A trailing space precedes CRLF, as nats-server
// sends it.
func (s *Server) infoLine(info serverInfo) []byte {
	body, err := json.Marshal(info)
	if err != nil {
		panic("core: INFO does not marshal: " + err.Error()) // a struct of plain fields always does
	}
	line := make([]byte, 0, len(body)+8)
	line = append(line, "INFO "...)
	line = append(line, body...)
	return append(line, " \r\n"...)
}

// newNonce draws the nonce a client signs for nkey auth.
func (s *Server) newNonce() []byte {
	raw := make([]byte, 11)
	s.env.Rand.Fill(raw)
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw)))
	base64.RawURLEncoding.Encode(out, raw)
	return out
}
