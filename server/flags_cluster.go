package server

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// The cluster flags, as nats-server spells and reads them: --cluster (or --cluster_listen)
// is a URL whose host and port the routes listen on and whose user:password peers must
// send; --routes a comma-separated list of seed URLs; --cluster_name, --cluster_advertise,
// --no_advertise and --connect_retries set their options. Each overrides the file.

// clusterFlags are the canonical names of the cluster flags (canonicalFlag).
var clusterFlags = []string{"cluster", "routes", "cluster_name", "cluster_advertise", "no_advertise", "connect_retries"}

// defineClusterFlags adds the cluster flags to fs.
func (c *cli) defineClusterFlags(fs *flag.FlagSet) {
	cl := &c.opts.Cluster.Core
	fs.StringVar(&c.clusterURL, "cluster", "", "")
	fs.StringVar(&c.clusterURL, "cluster_listen", "", "")
	fs.StringVar(&c.routes, "routes", "", "")
	fs.StringVar(&cl.Name, "cluster_name", "", "")
	fs.StringVar(&cl.Advertise, "cluster_advertise", "", "")
	fs.BoolVar(&cl.NoAdvertise, "no_advertise", false, "")
	fs.IntVar(&cl.ConnectRetries, "connect_retries", 0, "")
	// Not a cluster option, but only a cluster tells clients of other servers.
	fs.StringVar(&c.opts.Core.ClientAdvertise, "client_advertise", "", "")
}

// applyCluster reads --cluster and --routes into the options, refusing what nats-server
// refuses (with its texts).
func (c *cli) applyCluster() error {
	cl := &c.opts.Cluster
	for _, name := range clusterFlags {
		if c.set[name] {
			cl.Set = true
		}
	}
	if c.set["cluster"] {
		if err := clusterListenURL(c.clusterURL, cl); err != nil {
			return err
		}
	}
	if c.set["routes"] {
		routes, err := routeList(c.routes)
		if err != nil {
			return err
		}
		cl.Core.Routes = routes
	}
	return nil
}

// clusterListenURL reads --cluster: "" turns the route listener off.
func clusterListenURL(s string, cl *ClusterConfig) error {
	o := &cl.Core
	if s == "" {
		o.Host, o.Port = "", 0
		return nil
	}
	// Go's URLs refuse the port -1, which nats-server takes for "any free port".
	anyPort := strings.HasSuffix(s, ":-1")
	if anyPort {
		s = strings.TrimSuffix(s, "-1") + "0"
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.Unwrap(err) // nats-server prints url.Parse's reason without the op
	}
	host, portText, err := net.SplitHostPort(u.Host)
	if anyPort {
		portText = "-1"
	}
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("cluster: bad port %q", portText)
	}
	if port < -1 || port > 65535 {
		return fmt.Errorf("cluster: port %d out of range", port)
	}
	o.Host, o.Port = host, port
	if u.User != nil {
		password, ok := u.User.Password()
		if !ok {
			return errors.New("expected cluster password to be set")
		}
		o.Username, o.Password = u.User.Username(), password
	}
	return nil
}

// routeList reads --routes: comma-separated URLs; "" is none, empty items are skipped.
func routeList(s string) ([]*url.URL, error) {
	var routes []*url.URL
	for _, item := range strings.Split(s, ",") {
		u, err := parseRouteURL(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		if u != nil {
			routes = append(routes, u)
		}
	}
	return routes, nil
}

// overlayCluster copies the cluster flags over the file's cluster options.
func (c *cli) overlayCluster(o *Options) {
	f, dst := &c.opts.Cluster, &o.Cluster
	copies := map[string]func(){
		"cluster": func() {
			dst.Core.Host, dst.Core.Port = f.Core.Host, f.Core.Port
			if f.Core.Username != "" {
				dst.Core.Username, dst.Core.Password = f.Core.Username, f.Core.Password
			}
		},
		"routes":            func() { dst.Core.Routes = f.Core.Routes },
		"cluster_name":      func() { dst.Core.Name = f.Core.Name },
		"cluster_advertise": func() { dst.Core.Advertise = f.Core.Advertise },
		"no_advertise":      func() { dst.Core.NoAdvertise = f.Core.NoAdvertise },
		"connect_retries":   func() { dst.Core.ConnectRetries = f.Core.ConnectRetries },
	}
	for _, name := range clusterFlags {
		if c.set[name] {
			dst.Set = true
			copies[name]()
		}
	}
}
