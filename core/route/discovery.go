package route

import (
	"slices"
	"strings"

	"github.com/petrel-io/petrel/core/proto"
)

// Implicit discovery. A server that registers a new route forwards the peer's INFO to its
// other routes (Router.gossip); a server reading an INFO about a server other than its peer
// dials that server's advertised route URL (the INFO's ip field, nats-route://host:port/)
// unless it is itself, already connected, configured (the engine dials those), or being
// dialled. Clients hear of the cluster through connect_urls: this server's client URLs and
// those of every established peer (whose INFO carried them), withdrawn when a peer goes.

// implicitRoute returns the URL to dial for a gossiped INFO, if any.
func implicitRoute(cfg *Config, info *proto.RouteInfo, known func(id string) bool, pending []string) (string, bool) {
	url := info.IP
	switch {
	case url == "" || info.ID == "" || known(info.ID):
		return "", false
	case info.Cluster != "" && info.Cluster != cfg.Cluster:
		return "", false
	case containsURL(cfg.Routes, url) || containsURL(pending, url):
		return "", false
	}
	return url, true
}

// containsURL compares route URLs as nats-server does: case-insensitively.
func containsURL(urls []string, url string) bool {
	return slices.ContainsFunc(urls, func(u string) bool { return strings.EqualFold(u, url) })
}

// clientURLs returns the connect_urls clients should get: this server's and each peer's,
// sorted and without repeats. With NoAdvertise, only this server's own (nats-server then
// neither advertises its URLs nor adds the peers').
func clientURLs(cfg *Config, peers [][]string) []string {
	urls := append([]string(nil), cfg.ClientURLs...)
	if !cfg.NoAdvertise {
		for _, p := range peers {
			urls = append(urls, p...)
		}
	}
	slices.Sort(urls)
	return slices.Compact(urls)
}
