// Command petrel runs a Petrel server. It accepts nats-server's command line and
// configuration files, so existing scripts and habits keep working.
package main

import (
	"os"

	"github.com/petrel-io/petrel/server"
)

func main() {
	os.Exit(server.Main(os.Args[1:], os.Stderr))
}
